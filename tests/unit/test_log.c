#include <string.h>

#include "log.h"
#include "suites.h"

START_TEST(quotes_backslashes_and_controls_are_escaped)
{
	char out[128];

	ck_assert_str_eq(pmhc_log_escape(out, sizeof out, "A-1\" forged=\"yes"), "A-1\\\" forged=\\\"yes");
	ck_assert_str_eq(pmhc_log_escape(out, sizeof out, "a\\b"), "a\\\\b");
	ck_assert_str_eq(pmhc_log_escape(out, sizeof out, "x\n2026-11-30T00:00:00Z level=error"),
			 "x\\n2026-11-30T00:00:00Z level=error");
	ck_assert_str_eq(pmhc_log_escape(out, sizeof out, "\r\t\x01\x7f"), "\\r\\t\\x01\\x7f");
	ck_assert_str_eq(pmhc_log_escape(out, sizeof out, "Café ok"), "Café ok");
	ck_assert_str_eq(pmhc_log_escape(out, sizeof out, NULL), "");
}
END_TEST

START_TEST(a_cut_never_splits_an_escape_or_a_character)
{
	char out[6];

	/* "ab\"" is 4 bytes escaped; the next escape would need 2 more and the NUL. */
	ck_assert_str_eq(pmhc_log_escape(out, sizeof out, "ab\"\"\""), "ab\\\"");
	ck_assert_str_eq(pmhc_log_escape(out, sizeof out, "abcd\xC3\xA9"), "abcd");
	ck_assert_str_eq(pmhc_log_escape(out, sizeof out, "abc\xC3\xA9"), "abc\xC3\xA9");
}
END_TEST

START_TEST(q_keeps_several_arguments_apart)
{
	const char *a = pmhc_q("one\"");
	const char *b = pmhc_q("two\n");

	ck_assert_str_eq(a, "one\\\"");
	ck_assert_str_eq(b, "two\\n");
	ck_assert_ptr_ne(a, b);
}
END_TEST

Suite *suite_log(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, quotes_backslashes_and_controls_are_escaped);
	tcase_add_test(tc, a_cut_never_splits_an_escape_or_a_character);
	tcase_add_test(tc, q_keeps_several_arguments_apart);
	suite_add_tcase(s, tc);
	return s;
}
