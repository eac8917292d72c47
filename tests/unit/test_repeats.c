#include <stdlib.h>
#include <string.h>

#include "repeats.h"
#include "suites.h"

#define DAY (24LL * 3600 * 1000)

static void subject(unsigned char out[PMHC_SUBJECT_HASH_LEN], int who)
{
	memset(out, 0, PMHC_SUBJECT_HASH_LEN);
	out[0] = (unsigned char)who;
	out[31] = (unsigned char)(who * 7);
}

START_TEST(test_threshold_window_and_same_instant)
{
	struct pmhc_repeats *r = pmhc_repeats_new(1000);
	ck_assert(pmhc_repeats_rule(r, "*", 3, 90));
	unsigned char a[PMHC_SUBJECT_HASH_LEN];
	subject(a, 1);
	ck_assert(!pmhc_repeats_guess(r, "P", a, 0));
	ck_assert(!pmhc_repeats_guess(r, "P", a, 10 * DAY));  /* one before it */
	ck_assert(pmhc_repeats_guess(r, "P", a, 90 * DAY));   /* two: the first exactly 90 days before counts */
	ck_assert(!pmhc_repeats_guess(r, "P", a, 190 * DAY)); /* the window is empty again */
	ck_assert(!pmhc_repeats_guess(r, "P", a, 190 * DAY)); /* a call at the same instant does not count */
	ck_assert(pmhc_repeats_guess(r, "P", a, 190 * DAY + 1));
	ck_assert_uint_eq(pmhc_repeats_calls(r), 6);
	pmhc_repeats_free(r);
}
END_TEST

START_TEST(test_rules_per_psap)
{
	struct pmhc_repeats *r = pmhc_repeats_new(1000);
	unsigned char a[PMHC_SUBJECT_HASH_LEN];
	subject(a, 2);
	/* No rule at all: nothing is guessed a repeat, nor remembered. */
	ck_assert(!pmhc_repeats_guess(r, "P", a, 0));
	ck_assert(!pmhc_repeats_guess(r, "P", a, 1));
	ck_assert_uint_eq(pmhc_repeats_calls(r), 0);
	ck_assert(!pmhc_repeats_guess(r, "Q", a, -1));
	ck_assert(pmhc_repeats_rule(r, "*", 3, 90));
	ck_assert(pmhc_repeats_rule(r, "Q", 2, 1));
	ck_assert(!pmhc_repeats_rule(r, "Q", 1, 1)); /* a threshold under 2 is no rule */
	ck_assert(!pmhc_repeats_rule(r, "Q", 2, 0));
	ck_assert(!pmhc_repeats_guess(r, "P", a, 2));
	ck_assert(!pmhc_repeats_guess(r, "P", a, 3));
	ck_assert(pmhc_repeats_guess(r, "P", a, 4));  /* the default: two before it */
	ck_assert(!pmhc_repeats_guess(r, "Q", a, 0)); /* another PSAP's calls are its own */
	ck_assert(!pmhc_repeats_guess(r, "Q", a, 2 * DAY));
	ck_assert(pmhc_repeats_guess(r, "Q", a, 3 * DAY)); /* Q's own rule: one in the day before */
	pmhc_repeats_free(r);
}
END_TEST

/* In time order the guess is the definition: checked against counting every pair. */
START_TEST(test_in_order_matches_the_definition)
{
	enum { N = 4000, PEOPLE = 37 };
	struct pmhc_repeats *r = pmhc_repeats_new(N);
	ck_assert(pmhc_repeats_rule(r, "*", 4, 30));
	static int64_t t[N];
	static int who[N];
	srand(7);
	int64_t now = 0;
	for (int i = 0; i < N; i++) {
		now += rand() % (2 * DAY / 3); /* ties happen: the same instant twice */
		t[i] = now;
		who[i] = rand() % PEOPLE;
	}
	for (int i = 0; i < N; i++) {
		unsigned char s[PMHC_SUBJECT_HASH_LEN];
		subject(s, who[i]);
		int before = 0;
		for (int j = 0; j < i; j++)
			before += who[j] == who[i] && t[j] < t[i] && t[j] >= t[i] - 30 * DAY;
		ck_assert_msg(pmhc_repeats_guess(r, "P", s, t[i]) == (before >= 3), "call %d", i);
	}
	pmhc_repeats_free(r);
}
END_TEST

START_TEST(test_full_guesses_no)
{
	struct pmhc_repeats *r = pmhc_repeats_new(3);
	ck_assert(pmhc_repeats_rule(r, "*", 2, 90));
	unsigned char a[PMHC_SUBJECT_HASH_LEN];
	subject(a, 3);
	ck_assert(!pmhc_repeats_guess(r, "P", a, 0));
	ck_assert(pmhc_repeats_guess(r, "P", a, 1));
	ck_assert(pmhc_repeats_guess(r, "P", a, 2));
	ck_assert(!pmhc_repeats_guess(r, "P", a, 3)); /* not remembered: the final pass sets it */
	ck_assert_uint_eq(pmhc_repeats_calls(r), 3);
	pmhc_repeats_free(r);
}
END_TEST

/* Many subjects: the table grows and finds each again. */
START_TEST(test_many_subjects)
{
	struct pmhc_repeats *r = pmhc_repeats_new(100000);
	ck_assert(pmhc_repeats_rule(r, "*", 2, 1));
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 5000; i++) {
			unsigned char s[PMHC_SUBJECT_HASH_LEN] = { 0 };
			memcpy(s, &i, sizeof i);
			ck_assert(pmhc_repeats_guess(r, "P", s, round) == (round == 1));
		}
	pmhc_repeats_free(r);
}
END_TEST

Suite *suite_repeats(void)
{
	Suite *s = suite_create("repeats");
	TCase *tc = tcase_create("repeats");
	tcase_add_test(tc, test_threshold_window_and_same_instant);
	tcase_add_test(tc, test_rules_per_psap);
	tcase_add_test(tc, test_in_order_matches_the_definition);
	tcase_add_test(tc, test_full_guesses_no);
	tcase_add_test(tc, test_many_subjects);
	suite_add_tcase(s, tc);
	return s;
}
