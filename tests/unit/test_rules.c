/* The rule set as a value: its canonical text, its version, the names. */
#include <stdlib.h>
#include <string.h>

#include "pmhc.pb-c.h"
#include "rules.h"
#include "suites.h"

START_TEST(test_canonical_text_of_defaults)
{
	struct pmhc_rules *r = pmhc_rules_default();
	char *text = pmhc_rules_canonical(r);
	ck_assert_str_eq(
		text,
		"pmhc-rules 1\n"
		"nature EDP MH\n"
		"nature INTOX SUD\n"
		"nature MNTL MH\n"
		"nature MTLV MH,VIOLENCE\n"
		"nature OD SUD,MEDICAL\n"
		"nature SUICIDE MH,SELF_HARM\n"
		"nature SUICTHRT MH,SELF_HARM\n"
		"premise MH_HISTORY PREMISE_MH\n"
		"premise VIOLENCE_HISTORY PREMISE_VIOLENCE\n"
		"premise WEAPONS_HISTORY PREMISE_VIOLENCE\n"
		"rule not-mh none=MH -> STANDARD \"\"\n"
		"rule mh-medical-danger all=MEDICAL any=WEAPON,VIOLENCE -> EMS_AND_CIT_WITH_BACKUP \"MH-EMSB\"\n"
		"rule mh-weapon-violence any=WEAPON,VIOLENCE -> CIT_WITH_BACKUP \"MH-CITB\"\n"
		"rule mh-988-medical all=MEDICAL none=HISTORY_VIOLENCE ruled_out=WEAPON,VIOLENCE source=988 -> EMS_AND_MOBILE_CRISIS \"MH-EMSM\"\n"
		"rule mh-911-medical all=MEDICAL ruled_out=WEAPON,VIOLENCE,HISTORY_VIOLENCE source=911,ADMIN,TEXT -> EMS_AND_MOBILE_CRISIS \"MH-EMSM\"\n"
		"rule mh-medical all=MEDICAL -> EMS_AND_CIT \"MH-EMS\"\n"
		"rule mh-history-violence all=HISTORY_VIOLENCE -> CIT \"MH-CIT\"\n"
		"rule mh-988-diversion ruled_out=WEAPON,VIOLENCE,SELF_HARM,MEDICAL source=988 -> CALL_DIVERSION \"MH-DIV\"\n"
		"rule mh-988 ruled_out=WEAPON,VIOLENCE,MEDICAL source=988 -> MOBILE_CRISIS \"MH-MCT\"\n"
		"rule mh-911-diversion ruled_out=WEAPON,VIOLENCE,SELF_HARM,HISTORY_VIOLENCE,MEDICAL source=911,ADMIN,TEXT -> CALL_DIVERSION \"MH-DIV\"\n"
		"rule mh-911-mobile-crisis ruled_out=WEAPON,VIOLENCE,HISTORY_VIOLENCE,MEDICAL source=911,ADMIN,TEXT -> MOBILE_CRISIS \"MH-MCT\"\n"
		"rule mh-self-harm all=SELF_HARM -> CO_RESPONDER \"MH-COR\"\n"
		"rule mh-default -> CO_RESPONDER \"MH-COR\"\n"
		"fallback CIT_OFFICER PATROL\n"
		"fallback CO_RESPONDER CIT_OFFICER,PATROL\n"
		"fallback MOBILE_CRISIS CO_RESPONDER\n"
		"units max_status_age_ms=43200000 hold_ms=120000\n"
		"share flags=MH,SUD,WEAPON,VIOLENCE,SELF_HARM,HISTORY_VIOLENCE,VICTIM_RISK,OFF_MEDS,MEDICAL,PREMISE_MH,PREMISE_VIOLENCE narrative=no\n");
	free(text);
	pmhc_rules_free(r);
}
END_TEST

START_TEST(test_version_is_sha256_hex)
{
	struct pmhc_rules *r = pmhc_rules_default();
	ck_assert_uint_eq(strlen(r->version), 64);
	ck_assert_uint_eq(strspn(r->version, "0123456789abcdef"), 64);
	pmhc_rules_free(r);
}
END_TEST

START_TEST(test_version_follows_meaning_not_order_of_mappings)
{
	struct pmhc_rules *a = pmhc_rules_default(), *b = pmhc_rules_default();
	/* Swap two mappings: a set, so the same meaning and the same version. */
	struct pmhc_code_map t = b->nature_map[0];
	b->nature_map[0] = b->nature_map[1];
	b->nature_map[1] = t;
	pmhc_rules_seal(b);
	ck_assert_str_eq(a->version, b->version);

	/* Swap two rules: first match wins, so the meaning changed. */
	struct pmhc_rule r = b->rules[1];
	b->rules[1] = b->rules[2];
	b->rules[2] = r;
	pmhc_rules_seal(b);
	ck_assert_str_ne(a->version, b->version);

	/* A dispatch code is part of the rules too. */
	struct pmhc_rules *c = pmhc_rules_default();
	c->rules[1].dispatch_code[0] = 'X';
	pmhc_rules_seal(c);
	ck_assert_str_ne(a->version, c->version);
	pmhc_rules_free(a);
	pmhc_rules_free(b);
	pmhc_rules_free(c);
}
END_TEST

START_TEST(test_names_round_trip)
{
	for (int i = 1; i <= 9; i++) {
		int back = -1;
		ck_assert_int_eq(pmhc_response_parse(pmhc_response_name(i), &back), 0);
		ck_assert_int_eq(back, i);
	}
	int x;
	ck_assert_int_eq(pmhc_response_parse("UNSPECIFIED", &x), -1);
	ck_assert_int_eq(pmhc_response_parse("cit", &x), -1);
	ck_assert_int_eq(pmhc_response_parse("CALL_DIVERSION", &x), 0);
	ck_assert_int_eq(x, 7);
	ck_assert_int_eq(pmhc_response_parse("EMS_AND_MOBILE_CRISIS", &x), 0);
	ck_assert_int_eq(x, 8);
	ck_assert_int_eq(pmhc_response_parse("EMS_AND_CIT_WITH_BACKUP", &x), 0);
	ck_assert_int_eq(x, 9);
	for (int i = 0; i < PMHC_SOURCE_COUNT; i++) {
		int back = -1;
		ck_assert_int_eq(pmhc_source_parse(pmhc_source_name(i), &back), 0);
		ck_assert_int_eq(back, i);
	}
	for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
		enum pmhc_flag back;
		ck_assert_int_eq(pmhc_flag_parse(pmhc_flag_name((enum pmhc_flag)f), &back), 0);
		ck_assert_int_eq(back, f);
	}
	enum pmhc_flag fl;
	ck_assert_int_eq(pmhc_flag_parse("mh", &fl), -1);
}
END_TEST

/* Every new part of a rule and every per-source chain is in the text the version hashes. */
START_TEST(test_canonical_covers_new_parts)
{
	struct pmhc_rules *a = pmhc_rules_default();
	char *before = pmhc_rules_canonical(a);

	struct pmhc_rules *b = pmhc_rules_default();
	b->rules[11].has_unknown = true; /* mh-self-harm */
	b->rules[11].unknown = PMHC_BIT(PMHC_F_WEAPON);
	pmhc_rules_seal(b);
	char *text = pmhc_rules_canonical(b);
	ck_assert_ptr_nonnull(strstr(text, "rule mh-self-harm all=SELF_HARM unknown=WEAPON -> CO_RESPONDER"));
	ck_assert_str_ne(a->version, b->version);
	free(text);

	/* A per-source chain, empty or not. */
	struct pmhc_rules *c = pmhc_rules_default();
	c->units.by_source_set[PMHC__V1__CALL_SOURCE__SOURCE_988][PMHC__V1__UNIT_KIND__UNIT_MOBILE_CRISIS] = true;
	c->units.by_source_set[PMHC__V1__CALL_SOURCE__SOURCE_TEXT][PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER] = true;
	c->units.by_source[PMHC__V1__CALL_SOURCE__SOURCE_TEXT][PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER][0] =
		PMHC__V1__UNIT_KIND__UNIT_CO_RESPONDER;
	pmhc_rules_seal(c);
	text = pmhc_rules_canonical(c);
	ck_assert_ptr_nonnull(strstr(text, "fallback MOBILE_CRISIS source=988 -\n"));
	ck_assert_ptr_nonnull(strstr(text, "fallback CIT_OFFICER source=TEXT CO_RESPONDER\n"));
	ck_assert_str_ne(a->version, c->version);
	free(text);

	/* A nature code that raises nothing decides nothing: known, but not in the version. */
	struct pmhc_rules *d = pmhc_rules_default();
	d->nature_map = realloc(d->nature_map, (d->n_nature_map + 1) * sizeof *d->nature_map);
	d->nature_map[d->n_nature_map++] = (struct pmhc_code_map){ strdup("BURG"), 0 };
	pmhc_rules_seal(d);
	ck_assert_str_eq(a->version, d->version);
	ck_assert(pmhc_nature_known(d, "BURG"));
	ck_assert(!pmhc_nature_known(a, "BURG"));
	ck_assert_ptr_nonnull(pmhc_nature_find(d, "EDP"));
	ck_assert_ptr_null(pmhc_nature_find(d, "EDPX"));

	free(before);
	pmhc_rules_free(a);
	pmhc_rules_free(b);
	pmhc_rules_free(c);
	pmhc_rules_free(d);
}
END_TEST

START_TEST(test_code_normalize)
{
	char out[8];
	ck_assert_int_eq(pmhc_code_normalize("  edp\t", out, sizeof out), 0);
	ck_assert_str_eq(out, "EDP");
	ck_assert_int_eq(pmhc_code_normalize("", out, sizeof out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(pmhc_code_normalize("12345678", out, sizeof out), -1);
	ck_assert_int_eq(pmhc_code_normalize("1234567", out, sizeof out), 0);
}
END_TEST

Suite *suite_rules(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, test_canonical_text_of_defaults);
	tcase_add_test(tc, test_version_is_sha256_hex);
	tcase_add_test(tc, test_version_follows_meaning_not_order_of_mappings);
	tcase_add_test(tc, test_names_round_trip);
	tcase_add_test(tc, test_canonical_covers_new_parts);
	tcase_add_test(tc, test_code_normalize);
	suite_add_tcase(s, tc);
	return s;
}
