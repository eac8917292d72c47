/* Screening details the flowchart table does not show: reasons and unknowns. */
#include <string.h>

#include "fixture.h"
#include "screen.h"
#include "suites.h"

static struct pmhc_rules *rules;

static void setup(void)
{
	rules = pmhc_rules_default();
}

static void teardown(void)
{
	pmhc_rules_free(rules);
}

static size_t count_kind(const struct pmhc_screening *s, enum pmhc_reason_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_reasons; i++)
		n += s->reasons[i].kind == kind;
	return n;
}

START_TEST(test_unknown_safety_questions_are_reported_on_mh_calls)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.screening.mental_health_issue = PMHC__V1__ANSWER__ANSWER_YES;
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(count_kind(&s, PMHC_WHY_UNANSWERED), 3);
	/* An unanswered question raises no flag. */
	ck_assert_uint_eq(s.flags, PMHC_BIT(PMHC_F_MH));

	f.screening.weapon_involved = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.violence_in_progress = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.danger_to_others = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(count_kind(&s, PMHC_WHY_UNANSWERED), 0);
}
END_TEST

START_TEST(test_unknown_not_reported_when_flag_holds_anyway)
{
	/* MTLV raises VIOLENCE: "violence unknown" beside it would only confuse. */
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.nature_code = (char *)"MTLV";
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(count_kind(&s, PMHC_WHY_UNANSWERED), 1);
	for (size_t i = 0; i < s.n_reasons; i++)
		if (s.reasons[i].kind == PMHC_WHY_UNANSWERED)
			ck_assert_int_eq(s.reasons[i].detail, PMHC_Q_WEAPON_INVOLVED);
}
END_TEST

START_TEST(test_no_unknown_noise_on_calls_that_are_not_mh)
{
	struct fixture_call f;
	fixture_call_init(&f);
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(s.n_reasons, 0);
}
END_TEST

START_TEST(test_reason_texts)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.source = PMHC__V1__CALL_SOURCE__SOURCE_988;
	f.call.nature_code = (char *)"suicide";
	f.screening.weapon_involved = PMHC__V1__ANSWER__ANSWER_YES;
	f.screening.violence_in_progress = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.danger_to_others = PMHC__V1__ANSWER__ANSWER_NO;
	fixture_premise(&f, "weapons_history");
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);

	static const char *const want[] = {
		"Q4 answered yes: weapon reported",
		"call came in on 988: mental-health call",
		"nature code SUICIDE: mental-health call",
		"nature code SUICIDE: danger to self",
		"premise flag weapons_history: history of violence",
	};
	ck_assert_uint_eq(s.n_reasons, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < s.n_reasons; i++) {
		char text[200];
		pmhc_reason_format(&s.reasons[i], &s, &f.call, text, sizeof text);
		ck_assert_str_eq(text, want[i]);
	}
}
END_TEST

START_TEST(test_overlong_nature_code_matches_nothing)
{
	struct fixture_call f;
	fixture_call_init(&f);
	char code[200];
	memset(code, 'E', sizeof code - 1);
	code[sizeof code - 1] = '\0';
	f.call.nature_code = code;
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(s.flags, 0);
	ck_assert_str_eq(s.nature_mapped, "");
}
END_TEST

START_TEST(test_premise_map_can_never_raise_mh)
{
	/* Even a rule set that slipped MH into a premise mapping must not make an MH call. */
	rules->premise_map[0].flags |= PMHC_BIT(PMHC_F_MH);
	struct fixture_call f;
	fixture_call_init(&f);
	fixture_premise(&f, rules->premise_map[0].code);
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(s.flags & PMHC_BIT(PMHC_F_MH), 0);
}
END_TEST

Suite *suite_screen(void)
{
	Suite *s = suite_create("screen");
	TCase *tc = tcase_create("screen");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unknown_safety_questions_are_reported_on_mh_calls);
	tcase_add_test(tc, test_unknown_not_reported_when_flag_holds_anyway);
	tcase_add_test(tc, test_no_unknown_noise_on_calls_that_are_not_mh);
	tcase_add_test(tc, test_reason_texts);
	tcase_add_test(tc, test_overlong_nature_code_matches_nothing);
	tcase_add_test(tc, test_premise_map_can_never_raise_mh);
	suite_add_tcase(s, tc);
	return s;
}
