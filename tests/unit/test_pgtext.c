#include <stdint.h>
#include <stdlib.h>

#include "pgtext.h"
#include "suites.h"

/* The buffer's text so far, terminated, for comparison. */
static const char *text(struct pmhc_sbuf *b)
{
	pmhc_sb_put(b, "", 1);
	b->len--;
	return b->p;
}

static const char *field(struct pmhc_sbuf *b, const char *v, bool first)
{
	b->len = 0;
	pmhc_copy_field(b, v, first);
	return text(b);
}

START_TEST(test_copy_field_escapes_what_copy_reads)
{
	struct pmhc_sbuf b = { 0 };
	ck_assert_str_eq(field(&b, "plain text, é ☎", true), "plain text, é ☎");
	ck_assert_str_eq(field(&b, "x", false), "\tx");
	ck_assert_str_eq(field(&b, NULL, true), "\\N");
	ck_assert_str_eq(field(&b, NULL, false), "\t\\N");
	ck_assert_str_eq(field(&b, "", true), "");
	ck_assert_str_eq(field(&b, "a\tb\nc\rd\\e", true), "a\\tb\\nc\\rd\\\\e");
	/* Text that looks like COPY's NULL or end-of-data marker is text. */
	ck_assert_str_eq(field(&b, "\\N", true), "\\\\N");
	ck_assert_str_eq(field(&b, "\\.", true), "\\\\.");
	ck_assert_str_eq(field(&b, "end\\", true), "end\\\\");
	ck_assert_str_eq(field(&b, "\t\t", true), "\\t\\t");
	ck_assert(!b.oom);
	pmhc_sbuf_free(&b);
}
END_TEST

START_TEST(test_values_end_with_nul_at_their_offsets)
{
	struct pmhc_sbuf b = { 0 };
	size_t a = pmhc_sb_str(&b, "first");
	size_t n = pmhc_sb_fmt(&b, "%d", -42);
	size_t e = pmhc_sb_str(&b, "");
	static const unsigned char bytes[] = { 0x00, 0xff, 0x1a, 0x80 };
	size_t h = pmhc_sb_hex(&b, bytes, sizeof bytes);
	ck_assert_str_eq(b.p + a, "first");
	ck_assert_str_eq(b.p + n, "-42");
	ck_assert_str_eq(b.p + e, "");
	ck_assert_str_eq(b.p + h, "00ff1a80");
	pmhc_sbuf_free(&b);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_array_literal_quotes_every_element)
{
	struct pmhc_sbuf b = { 0 };
	char *none[1] = { NULL };
	size_t empty = pmhc_sb_array(&b, none, 0);
	ck_assert_str_eq(b.p + empty, "{}");
	char *items[] = { "plain", "a,b", "{x}", "say \"hi\"", "back\\slash", "NULL", "", "end\\" };
	size_t at = pmhc_sb_array(&b, items, sizeof items / sizeof items[0]);
	ck_assert_str_eq(b.p + at,
			 "{\"plain\",\"a,b\",\"{x}\",\"say \\\"hi\\\"\",\"back\\\\slash\",\"NULL\",\"\",\"end\\\\\"}");
	pmhc_sbuf_free(&b);
}
END_TEST

START_TEST(test_growth_keeps_every_byte)
{
	struct pmhc_sbuf b = { 0 };
	for (int i = 0; i < 10000; i++)
		pmhc_sb_put(&b, "abc", 3);
	ck_assert(!b.oom);
	ck_assert_uint_eq(b.len, 30000);
	ck_assert(b.cap > b.len);
	for (size_t i = 0; i < b.len; i++)
		ck_assert_int_eq(b.p[i], "abc"[i % 3]);
	pmhc_sbuf_free(&b);
}
END_TEST

START_TEST(test_out_of_memory_sticks_and_writes_nothing)
{
	struct pmhc_sbuf b = { 0 };
	pmhc_sb_put(&b, "kept", 4);
	/* A size no allocation can meet is refused before it overflows. */
	pmhc_sb_grow_put(&b, "x", SIZE_MAX - 2);
	ck_assert(b.oom);
	ck_assert_uint_eq(b.len, 4);
	pmhc_sb_put(&b, "y", 1);
	pmhc_sb_str(&b, "z");
	ck_assert_uint_eq(b.len, 4);
	ck_assert(memcmp(b.p, "kept", 4) == 0);
	pmhc_sbuf_free(&b);
	ck_assert(!b.oom);
}
END_TEST

static const char *ts(const char *ms)
{
	static char out[40];
	return pmhc_pg_timestamp(ms, out, sizeof out) ? out : "(refused)";
}

START_TEST(test_timestamps_in_utc_with_milliseconds)
{
	ck_assert_str_eq(ts("0"), "1970-01-01 00:00:00.000+00");
	ck_assert_str_eq(ts("1763870400123"), "2025-11-23 04:00:00.123+00");
	ck_assert_str_eq(ts("-1"), "1969-12-31 23:59:59.999+00");
	ck_assert_str_eq(ts("-1000"), "1969-12-31 23:59:59.000+00");
	/* PostgreSQL's years 1 to 9999 and nothing beyond. */
	ck_assert_str_eq(ts("-62135596800000"), "0001-01-01 00:00:00.000+00");
	ck_assert_str_eq(ts("-62135596800001"), "(refused)");
	ck_assert_str_eq(ts("253402300799999"), "9999-12-31 23:59:59.999+00");
	ck_assert_str_eq(ts("253402300800000"), "(refused)");
	ck_assert_str_eq(ts("99999999999999999999"), "(refused)");
	ck_assert_str_eq(ts(""), "(refused)");
	ck_assert_str_eq(ts("12x"), "(refused)");
	char small[10];
	ck_assert(!pmhc_pg_timestamp("0", small, sizeof small));
}
END_TEST

START_TEST(test_bytea_hex_form)
{
	char out[8];
	ck_assert(pmhc_pg_bytea("00ff", out, sizeof out));
	ck_assert_str_eq(out, "\\x00ff");
	ck_assert(!pmhc_pg_bytea("00112233", out, sizeof out));
}
END_TEST

Suite *suite_pgtext(void)
{
	Suite *s = suite_create("pgtext");
	TCase *tc = tcase_create("pgtext");
	tcase_add_test(tc, test_copy_field_escapes_what_copy_reads);
	tcase_add_test(tc, test_values_end_with_nul_at_their_offsets);
	tcase_add_test(tc, test_array_literal_quotes_every_element);
	tcase_add_test(tc, test_growth_keeps_every_byte);
	tcase_add_test(tc, test_out_of_memory_sticks_and_writes_nothing);
	tcase_add_test(tc, test_timestamps_in_utc_with_milliseconds);
	tcase_add_test(tc, test_bytea_hex_form);
	suite_add_tcase(s, tc);
	return s;
}
