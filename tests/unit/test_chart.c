#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "suites.h"

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

START_TEST(test_ticks_are_round_and_cover_the_range)
{
	struct pmhc_ticks k;
	pmhc_nice_ticks(0, 0.4280, 5, &k);
	ck_assert_double_eq_tol(k.step, 0.1, 1e-12);
	ck_assert_double_eq_tol(k.hi, 0.5, 1e-12);
	ck_assert_int_eq(k.n, 6);
	pmhc_nice_ticks(0, 1334, 5, &k);
	ck_assert_double_eq_tol(k.step, 500, 1e-9);
	ck_assert_double_eq_tol(k.hi, 1500, 1e-9);
	pmhc_nice_ticks(0, 100, 5, &k); /* already round: not widened */
	ck_assert_double_eq_tol(k.hi, 100, 1e-9);
	ck_assert_int_eq(k.n, 6);
	pmhc_nice_ticks(-0.03, 0.25, 6, &k);
	ck_assert(k.lo <= -0.03 && k.hi >= 0.25);
	pmhc_nice_ticks(0, 0, 5, &k); /* nothing to show still gives an axis */
	ck_assert(k.hi > k.lo && k.n >= 2);
}
END_TEST

START_TEST(test_scale_maps_ends_and_inverts)
{
	ck_assert_double_eq(pmhc_scale(0, 0, 10, 200, 20), 200);
	ck_assert_double_eq(pmhc_scale(10, 0, 10, 200, 20), 20);
	ck_assert_double_eq(pmhc_scale(5, 0, 10, 200, 20), 110);
	ck_assert_double_eq(pmhc_scale(5, 3, 3, 7, 9), 7);
}
END_TEST

START_TEST(test_escape_html)
{
	struct pmhc_text t = { 0 };
	pmhc_text_escape(&t, "<a href=\"x\">Tom & Jerry's</a>");
	ck_assert_str_eq(t.s, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
	pmhc_text_free(&t);
}
END_TEST

START_TEST(test_text_grows_past_its_first_block)
{
	struct pmhc_text t = { 0 };
	for (int i = 0; i < 5000; i++)
		pmhc_text_printf(&t, "%04d", i % 10000);
	ck_assert_uint_eq(t.len, 20000);
	ck_assert_uint_eq(strlen(t.s), 20000);
	ck_assert(memcmp(t.s + 19996, "4999", 4) == 0);
	pmhc_text_free(&t);
}
END_TEST

/* One point per value, none for a gap; the gap breaks the path; the band and the reference are drawn. */
START_TEST(test_lines_marks_gaps_band_ref)
{
	const char *x[] = { "2024-01", "2024-02", "2024-03", "2024-04" };
	double a[] = { 0.4, NAN, 0.5, 0.45 }, b[] = { 0.1, 0.12, 0.09, 0.11 };
	struct pmhc_series s[] = { { "connected", a }, { "arrest", b } };
	struct pmhc_frame f = { "t1", "Outcomes <by month>", "Month", "Share of MH calls (%)", true };
	struct pmhc_text t = { 0 };
	pmhc_chart_lines(&t, &f, x, 4, s, 2, 0, 2, 0.42, "baseline rate");
	ck_assert_uint_eq(count(t.s, "class=\"mark\""), 7);
	ck_assert_uint_eq(count(t.s, "class=\"band\""), 1);
	ck_assert_uint_eq(count(t.s, "class=\"ref\""), 1);
	ck_assert_uint_eq(count(t.s, "d=\"M"), 2); /* one path per series */
	ck_assert_uint_eq(count(t.s, "L"), 4);     /* a: broken at the gap, one segment; b: three */
	ck_assert_ptr_nonnull(strstr(t.s, "Outcomes &lt;by month&gt;"));
	ck_assert_ptr_nonnull(strstr(t.s, "Share of MH calls (%)"));
	ck_assert_ptr_nonnull(strstr(t.s, ">50%<")); /* a tick label in per cent */
	ck_assert_uint_eq(count(t.s, "<svg"), 1);
	ck_assert_uint_eq(count(t.s, "</svg>"), 1);
	pmhc_text_free(&t);
}
END_TEST

/* Bars are as long as their value: a value at the top of the axis spans the plot. */
START_TEST(test_hbars_lengths)
{
	const char *l[] = { "D1 / B3", "D2 / B1", "D3 / B2" };
	double v[] = { 100, 50, NAN };
	struct pmhc_frame f = { "t2", "By beat", "MH calls", "Beat", false };
	struct pmhc_text t = { 0 };
	pmhc_chart_hbars(&t, &f, l, v, 3);
	ck_assert_uint_eq(count(t.s, "class=\"mark\""), 2);
	const char *w1 = strstr(t.s, "class=\"mark\"");
	const char *w2 = strstr(w1 + 1, "class=\"mark\"");
	double a = strtod(strstr(w1, "width=\"") + 7, NULL), b = strtod(strstr(w2, "width=\"") + 7, NULL);
	ck_assert_double_eq_tol(a, 2 * b, 0.2);
	ck_assert_ptr_nonnull(strstr(t.s, "hidden (small count)"));
	pmhc_text_free(&t);
}
END_TEST

START_TEST(test_columns_stack_and_skip_zero)
{
	const char *x[] = { "a", "b" };
	double p[] = { 3, 0 }, q[] = { 2, 4 };
	struct pmhc_series s[] = { { "CIT", p }, { "STANDARD", q } };
	struct pmhc_frame f = { "t3", "Mix", "Month", "MH calls", false };
	struct pmhc_text t = { 0 };
	pmhc_chart_columns(&t, &f, x, 2, s, 2);
	ck_assert_uint_eq(count(t.s, "class=\"mark\""), 3);
	ck_assert_uint_eq(count(t.s, "class=\"key\""), 2);
	pmhc_text_free(&t);
}
END_TEST

START_TEST(test_heat_every_cell_hidden_hatched)
{
	const char *r[] = { "Mon", "Tue" }, *c[] = { "0", "1", "2" };
	double v[] = { 1, 2, 3, NAN, 0, 6 };
	struct pmhc_frame f = { "t4", "Heat", "Hour", "Weekday", false };
	struct pmhc_text t = { 0 };
	pmhc_chart_heat(&t, &f, r, 2, c, 3, v);
	ck_assert_uint_eq(count(t.s, "class=\"mark\""), 6);
	ck_assert_uint_eq(count(t.s, "url(#t4-hide)"), 1);
	ck_assert_ptr_nonnull(strstr(t.s, "fill=\"#08306b\"")); /* the largest is the darkest */
	pmhc_text_free(&t);
}
END_TEST

START_TEST(test_intervals_zero_line_and_marks)
{
	const char *l[] = { "connected", "arrest", "suppressed" };
	double e[] = { 0.02, -0.01, NAN }, lo[] = { -0.01, -0.03, NAN }, hi[] = { 0.05, 0.01, NAN };
	struct pmhc_frame f = { "t5", "Change", "Change (percentage points)", "Measure", true };
	struct pmhc_text t = { 0 };
	pmhc_chart_intervals(&t, &f, l, e, lo, hi, 3);
	ck_assert_uint_eq(count(t.s, "class=\"mark\""), 2);
	ck_assert_uint_eq(count(t.s, "class=\"ci\""), 2);
	ck_assert_uint_eq(count(t.s, "class=\"zero\""), 1);
	pmhc_text_free(&t);
}
END_TEST

Suite *suite_chart(void)
{
	Suite *s = suite_create("chart");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_ticks_are_round_and_cover_the_range);
	tcase_add_test(tc, test_scale_maps_ends_and_inverts);
	tcase_add_test(tc, test_escape_html);
	tcase_add_test(tc, test_text_grows_past_its_first_block);
	tcase_add_test(tc, test_lines_marks_gaps_band_ref);
	tcase_add_test(tc, test_hbars_lengths);
	tcase_add_test(tc, test_columns_stack_and_skip_zero);
	tcase_add_test(tc, test_heat_every_cell_hidden_hatched);
	tcase_add_test(tc, test_intervals_zero_line_and_marks);
	suite_add_tcase(s, tc);
	return s;
}
