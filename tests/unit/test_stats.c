#include <math.h>

#include "stats.h"
#include "suites.h"

/* R: prop.test(c(56, 45), c(100, 100), correct = FALSE) gives X-squared = 2.4202,
 * p-value = 0.1198, 95 percent CI -0.02774239 0.24774239. */
START_TEST(test_two_prop_matches_r_prop_test)
{
	struct pmhc_two_prop r;
	ck_assert_int_eq(pmhc_two_prop_test(45, 100, 56, 100, PMHC_Z95, &r), 0);
	ck_assert_double_eq_tol(r.diff, 0.11, 1e-12);
	ck_assert_double_eq_tol(r.z * r.z, 2.4202, 5e-5);
	ck_assert_double_eq_tol(r.p_value, 0.1198, 5e-5);
	ck_assert_double_eq_tol(r.lo, -0.02774239, 1e-8);
	ck_assert_double_eq_tol(r.hi, 0.24774239, 1e-8);
	ck_assert(!r.significant);
}
END_TEST

/* A drop from 30 % to 20 % of 1000 calls each is well beyond chance: z = -5.1640, p = 2.4e-7. */
START_TEST(test_two_prop_large_change_is_significant)
{
	struct pmhc_two_prop r;
	ck_assert_int_eq(pmhc_two_prop_test(300, 1000, 200, 1000, PMHC_Z95, &r), 0);
	ck_assert_double_eq_tol(r.z, -5.163978, 1e-6);
	ck_assert(r.p_value < 1e-6 && r.p_value > 1e-7);
	ck_assert(r.hi < 0);
	ck_assert(r.significant);
}
END_TEST

START_TEST(test_two_prop_refuses_impossible_counts)
{
	struct pmhc_two_prop r;
	ck_assert_int_eq(pmhc_two_prop_test(1, 0, 1, 10, PMHC_Z95, &r), -1);
	ck_assert_int_eq(pmhc_two_prop_test(11, 10, 1, 10, PMHC_Z95, &r), -1);
	ck_assert_int_eq(pmhc_two_prop_test(-1, 10, 1, 10, PMHC_Z95, &r), -1);
}
END_TEST

/* No variance (nothing happened in either period): no change, not significant, and no NaN. */
START_TEST(test_two_prop_no_events_is_no_change)
{
	struct pmhc_two_prop r;
	ck_assert_int_eq(pmhc_two_prop_test(0, 50, 0, 80, PMHC_Z95, &r), 0);
	ck_assert(r.z == 0 && r.p_value == 1 && !r.significant);
	ck_assert(isfinite(r.lo) && isfinite(r.hi));
}
END_TEST

START_TEST(test_cell_hidden_below_floor_but_not_zero)
{
	ck_assert(!pmhc_cell_hidden(0, 10));
	ck_assert(pmhc_cell_hidden(1, 10));
	ck_assert(pmhc_cell_hidden(9, 10));
	ck_assert(!pmhc_cell_hidden(10, 10));
	ck_assert(!pmhc_cell_hidden(3, 0));
}
END_TEST

Suite *suite_stats(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_two_prop_matches_r_prop_test);
	tcase_add_test(tc, test_two_prop_large_change_is_significant);
	tcase_add_test(tc, test_two_prop_refuses_impossible_counts);
	tcase_add_test(tc, test_two_prop_no_events_is_no_change);
	tcase_add_test(tc, test_cell_hidden_below_floor_but_not_zero);
	suite_add_tcase(s, tc);
	return s;
}
