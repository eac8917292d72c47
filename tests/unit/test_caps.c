#include <string.h>

#include "caps.h"
#include "suites.h"

START_TEST(test_within_caps_untouched)
{
	char narrative[] = "short", why[100] = "";
	char *flags[] = { "MH_HISTORY" };
	Pmhc__V1__CallEvent c = PMHC__V1__CALL_EVENT__INIT;
	c.narrative = narrative;
	c.premise_flags = flags;
	c.n_premise_flags = 1;
	ck_assert_uint_eq(pmhc_caps_call(&c, why, sizeof why), 0);
	ck_assert_str_eq(c.narrative, "short");
	ck_assert_uint_eq(c.n_premise_flags, 1);
	ck_assert_str_eq(why, "");
}
END_TEST

START_TEST(test_text_cut_at_a_character)
{
	static char narrative[PMHC_TEXT_MAX + 10];
	memset(narrative, 'a', PMHC_TEXT_MAX - 1);
	/* "ü" (C3 BC) straddles the cap: it goes whole. */
	strcpy(narrative + PMHC_TEXT_MAX - 1, "\xc3\xbc tail");
	char why[100];
	Pmhc__V1__CallEvent c = PMHC__V1__CALL_EVENT__INIT;
	c.narrative = narrative;
	ck_assert_uint_eq(pmhc_caps_call(&c, why, sizeof why), 1);
	ck_assert_uint_eq(strlen(c.narrative), PMHC_TEXT_MAX - 1);
	ck_assert_str_eq(why, "narrative bytes of 8198 cut to 8192");
}
END_TEST

START_TEST(test_lists_keep_their_first)
{
	static char *flags[PMHC_LIST_MAX + 5];
	for (size_t i = 0; i < PMHC_LIST_MAX + 5; i++)
		flags[i] = "MH_HISTORY";
	static char ids[PMHC_LIST_MAX * 2][8];
	static char *unit_ids[PMHC_LIST_MAX * 2];
	for (size_t i = 0; i < PMHC_LIST_MAX * 2; i++)
		unit_ids[i] = ids[i];
	Pmhc__V1__CallEvent c = PMHC__V1__CALL_EVENT__INIT;
	c.premise_flags = flags;
	c.n_premise_flags = PMHC_LIST_MAX + 5;
	ck_assert_uint_eq(pmhc_caps_call(&c, NULL, 0), 1);
	ck_assert_uint_eq(c.n_premise_flags, PMHC_LIST_MAX);
	Pmhc__V1__Disposition d = PMHC__V1__DISPOSITION__INIT;
	d.unit_ids = unit_ids;
	d.n_unit_ids = PMHC_LIST_MAX * 2;
	char why[100];
	ck_assert_uint_eq(pmhc_caps_disposition(&d, why, sizeof why), 1);
	ck_assert_uint_eq(d.n_unit_ids, PMHC_LIST_MAX);
	ck_assert_str_eq(why, "unit_ids of 128 cut to 64");
}
END_TEST

Suite *suite_caps(void)
{
	Suite *s = suite_create("caps");
	TCase *tc = tcase_create("caps");
	tcase_add_test(tc, test_within_caps_untouched);
	tcase_add_test(tc, test_text_cut_at_a_character);
	tcase_add_test(tc, test_lists_keep_their_first);
	suite_add_tcase(s, tc);
	return s;
}
