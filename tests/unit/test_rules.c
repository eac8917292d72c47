/* The rule set as a value: its canonical text, its version, the names. */
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "suites.h"

START_TEST(test_canonical_text_of_defaults)
{
	struct pmhc_rules *r = pmhc_rules_default();
	char *text = pmhc_rules_canonical(r);
	ck_assert_str_eq(text,
			 "pmhc-rules 1\n"
			 "nature EDP MH\n"
			 "nature INTOX SUD\n"
			 "nature MNTL MH\n"
			 "nature MTLV MH,VIOLENCE\n"
			 "nature OD SUD,MEDICAL\n"
			 "nature SUICIDE MH,SELF_HARM\n"
			 "nature SUICTHRT MH,SELF_HARM\n"
			 "premise MH_HISTORY PREMISE_MH\n"
			 "premise VIOLENCE_HISTORY HISTORY_VIOLENCE\n"
			 "premise WEAPONS_HISTORY HISTORY_VIOLENCE\n"
			 "rule not-mh none=MH -> STANDARD \"\"\n"
			 "rule mh-medical all=MEDICAL -> EMS_AND_CIT \"MH-EMS\"\n"
			 "rule mh-weapon-violence any=WEAPON,VIOLENCE -> CIT_WITH_BACKUP \"MH-CITB\"\n"
			 "rule mh-history-violence all=HISTORY_VIOLENCE -> CIT \"MH-CIT\"\n"
			 "rule mh-988 source=988 -> MOBILE_CRISIS \"MH-MCT\"\n"
			 "rule mh-self-harm all=SELF_HARM -> CO_RESPONDER \"MH-COR\"\n"
			 "rule mh-default -> CO_RESPONDER \"MH-COR\"\n"
			 "fallback CIT_OFFICER PATROL\n"
			 "fallback CO_RESPONDER CIT_OFFICER,PATROL\n"
			 "fallback MOBILE_CRISIS CO_RESPONDER,CIT_OFFICER,PATROL\n"
			 "units max_status_age_ms=43200000 hold_ms=120000\n"
			 "share flags=MH,SUD,WEAPON,VIOLENCE,SELF_HARM,HISTORY_VIOLENCE,VICTIM_RISK,OFF_MEDS,"
			 "MEDICAL,PREMISE_MH narrative=no\n");
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
	for (int i = 1; i <= 6; i++) {
		int back = -1;
		ck_assert_int_eq(pmhc_response_parse(pmhc_response_name(i), &back), 0);
		ck_assert_int_eq(back, i);
	}
	int x;
	ck_assert_int_eq(pmhc_response_parse("UNSPECIFIED", &x), -1);
	ck_assert_int_eq(pmhc_response_parse("cit", &x), -1);
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
	tcase_add_test(tc, test_code_normalize);
	suite_add_tcase(s, tc);
	return s;
}
