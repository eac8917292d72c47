#include <string.h>

#include "errlist.h"
#include "suites.h"

START_TEST(lines_carry_file_and_line)
{
	struct pmhc_errlist errs = { 0 };

	pmhc_errlist_add(&errs, "a.conf", 12, "'%s' is %d", "x", 3);
	pmhc_errlist_add(&errs, "a.conf", 0, "cannot read");
	ck_assert_uint_eq(pmhc_errlist_count(&errs), 2);
	ck_assert_str_eq(errs.lines[0], "a.conf:12: 'x' is 3");
	ck_assert_str_eq(errs.lines[1], "a.conf: cannot read");
	pmhc_errlist_clear(&errs);
	ck_assert_uint_eq(pmhc_errlist_count(&errs), 0);
	ck_assert_ptr_null(errs.lines);
}
END_TEST

START_TEST(a_lost_line_still_counts)
{
	/* A problem that could not be written down must still refuse the config. */
	struct pmhc_errlist errs = { .lost = 1 };

	ck_assert_uint_eq(pmhc_errlist_count(&errs), 1);
	pmhc_errlist_add(&errs, "b.conf", 1, "bad");
	ck_assert_uint_eq(pmhc_errlist_count(&errs), 2);
	pmhc_errlist_clear(&errs);
	ck_assert_uint_eq(pmhc_errlist_count(&errs), 0);
}
END_TEST

START_TEST(long_messages_are_cut_not_lost)
{
	struct pmhc_errlist errs = { 0 };
	char big[2000];

	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	pmhc_errlist_add(&errs, "c.conf", 7, "%s", big);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert(strncmp(errs.lines[0], "c.conf:7: yyy", 13) == 0);
	ck_assert_uint_lt(strlen(errs.lines[0]), 600);
	pmhc_errlist_clear(&errs);
}
END_TEST

Suite *suite_errlist(void)
{
	Suite *s = suite_create("errlist");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, lines_carry_file_and_line);
	tcase_add_test(tc, a_lost_line_still_counts);
	tcase_add_test(tc, long_messages_are_cut_not_lost);
	suite_add_tcase(s, tc);
	return s;
}
