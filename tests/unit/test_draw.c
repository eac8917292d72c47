/* pmhcd --draw-flowchart: the DOT graph of a rule set, for staff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "suites.h"

static char *draw(const struct pmhc_rules *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pmhc_draw_flowchart(r, f), 0);
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

START_TEST(test_default_flowchart_as_dot)
{
	struct pmhc_rules *r = pmhc_rules_default();
	char *dot = draw(r);
	ck_assert_ptr_nonnull(strstr(dot, "digraph pmhc_flowchart {"));
	ck_assert_uint_eq(count(dot, "{"), count(dot, "}"));
	/* Every rule in order, each with its response, and the "no" path between them. */
	for (size_t i = 0; i < r->n_rules; i++) {
		char want[128];
		snprintf(want, sizeof want, "rule%zu [label=\"%zu. %s\\n", i, i + 1, r->rules[i].id);
		ck_assert_msg(strstr(dot, want) != NULL, "no node for %s", r->rules[i].id);
		snprintf(want, sizeof want, "send%zu [label=\"%s", i, pmhc_response_name(r->rules[i].response));
		ck_assert_msg(strstr(dot, want) != NULL, "no response for %s", r->rules[i].id);
	}
	ck_assert_uint_eq(count(dot, "[label=\"no\""), r->n_rules - 1);
	/* Conditions in plain words, the three states among them. */
	ck_assert_ptr_nonnull(strstr(dot, "WEAPON, VIOLENCE, MEDICAL ruled out (answered no)"));
	ck_assert_ptr_nonnull(strstr(dot, "call came in on 911, ADMIN, TEXT"));
	ck_assert_ptr_nonnull(strstr(dot, "every other call"));
	ck_assert_ptr_nonnull(strstr(dot, "no unit: a crisis counselor on the phone"));
	ck_assert_ptr_nonnull(strstr(dot, "EMS unit, CIT officer and patrol unit as backup"));
	/* The fallbacks: a crisis team never becomes police beyond a co-responder team. */
	ck_assert_ptr_nonnull(strstr(dot, "mobile crisis team → co-responder team → unfilled (request one)"));
	char version[64];
	snprintf(version, sizeof version, "rules_version %.12s", r->version);
	ck_assert_ptr_nonnull(strstr(dot, version));
	free(dot);
	pmhc_rules_free(r);
}
END_TEST

START_TEST(test_strings_are_escaped)
{
	struct pmhc_rules *r = pmhc_rules_default();
	free(r->rules[1].dispatch_code);
	r->rules[1].dispatch_code = strdup("A\"B\\C");
	r->rules[1].has_unknown = true;
	r->rules[1].unknown = PMHC_BIT(PMHC_F_SUD);
	r->units.by_source_set[2][4] = true; /* 988, mobile crisis: no fallback */
	char *dot = draw(r);
	ck_assert_ptr_nonnull(strstr(dot, "code A\\\"B\\\\C"));
	ck_assert_ptr_nonnull(strstr(dot, "SUD unknown (not asked or not answered)"));
	ck_assert_ptr_nonnull(strstr(dot, "on 988 calls: mobile crisis team → unfilled (request one)"));
	free(dot);
	pmhc_rules_free(r);
}
END_TEST

Suite *suite_draw(void)
{
	Suite *s = suite_create("draw");
	TCase *tc = tcase_create("draw");
	tcase_add_test(tc, test_default_flowchart_as_dot);
	tcase_add_test(tc, test_strings_are_escaped);
	suite_add_tcase(s, tc);
	return s;
}
