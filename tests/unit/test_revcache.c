#include <stdio.h>

#include "revcache.h"
#include "suites.h"

START_TEST(test_stale_and_replays)
{
	struct pmhc_revcache *c = pmhc_revcache_new(1000);
	ck_assert(!pmhc_revcache_stale(c, "P", "C-1", 1));
	pmhc_revcache_note(c, "P", "C-1", 2);
	ck_assert(pmhc_revcache_stale(c, "P", "C-1", 1));  /* older */
	ck_assert(pmhc_revcache_stale(c, "P", "C-1", 2));  /* the same again: a replay */
	ck_assert(!pmhc_revcache_stale(c, "P", "C-1", 3)); /* newer */
	ck_assert(!pmhc_revcache_stale(c, "P", "C-2", 1)); /* another call */
	ck_assert(!pmhc_revcache_stale(c, "Q", "C-1", 1)); /* another PSAP */
	/* ("P", "C-1") and ("PC", "-1") are different calls. */
	ck_assert(!pmhc_revcache_stale(c, "PC", "-1", 1));
	/* Noting an older revision late does not lower what is known. */
	pmhc_revcache_note(c, "P", "C-1", 1);
	ck_assert(pmhc_revcache_stale(c, "P", "C-1", 2));
	pmhc_revcache_free(c);
}
END_TEST

START_TEST(test_known_whatever_the_revision)
{
	struct pmhc_revcache *c = pmhc_revcache_new(16);
	ck_assert(!pmhc_revcache_known(c, "P", "C-1"));
	pmhc_revcache_note(c, "P", "C-1", 0);
	ck_assert(pmhc_revcache_known(c, "P", "C-1"));
	ck_assert(!pmhc_revcache_known(c, "P", "C-2"));
	ck_assert(!pmhc_revcache_known(c, "PC", "-1"));
	pmhc_revcache_free(c);
}
END_TEST

START_TEST(test_unversioned_calls_are_never_stale)
{
	struct pmhc_revcache *c = pmhc_revcache_new(16);
	pmhc_revcache_note(c, "P", "C-1", 0);
	ck_assert(!pmhc_revcache_stale(c, "P", "C-1", 0));
	pmhc_revcache_free(c);
}
END_TEST

START_TEST(test_eviction_forgets_not_confuses)
{
	/* Far more calls than slots: older ones are forgotten (never stale), never mistaken. */
	struct pmhc_revcache *c = pmhc_revcache_new(64);
	char id[16];
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof id, "C-%d", i);
		pmhc_revcache_note(c, "P", id, 5);
	}
	int remembered = 0;
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof id, "C-%d", i);
		ck_assert(!pmhc_revcache_stale(c, "P", id, 6));
		remembered += pmhc_revcache_stale(c, "P", id, 5);
	}
	ck_assert_int_le(remembered, 64);
	ck_assert_int_gt(remembered, 0);
	pmhc_revcache_free(c);
}
END_TEST

START_TEST(test_recent_calls_all_remembered)
{
	/*
	 * A replay after a rebalance covers what was read since the last commit: up to
	 * the backlog limit (100,000 events by default). Every one of those calls must
	 * be remembered, or it is published to dispatch a second time.
	 */
	struct pmhc_revcache *c = pmhc_revcache_new(1u << 20);
	char id[16];
	for (int i = 0; i < 300000; i++) {
		snprintf(id, sizeof id, "C-%d", i);
		pmhc_revcache_note(c, "P", id, 1);
	}
	int forgotten = 0;
	for (int i = 200000; i < 300000; i++) {
		snprintf(id, sizeof id, "C-%d", i);
		forgotten += !pmhc_revcache_stale(c, "P", id, 1);
	}
	ck_assert_int_eq(forgotten, 0);
	pmhc_revcache_free(c);
}
END_TEST

START_TEST(test_oldest_of_a_full_set_goes)
{
	/* A tiny cache (one set): the first noted is the first forgotten. */
	struct pmhc_revcache *c = pmhc_revcache_new(1);
	char id[16];
	for (int i = 0; i < 9; i++) {
		snprintf(id, sizeof id, "C-%d", i);
		pmhc_revcache_note(c, "P", id, 1);
	}
	ck_assert(!pmhc_revcache_stale(c, "P", "C-0", 1));
	for (int i = 1; i < 9; i++) {
		snprintf(id, sizeof id, "C-%d", i);
		ck_assert_msg(pmhc_revcache_stale(c, "P", id, 1), "C-%d forgotten", i);
	}
	pmhc_revcache_free(c);
}
END_TEST

Suite *suite_revcache(void)
{
	Suite *s = suite_create("revcache");
	TCase *tc = tcase_create("revcache");
	tcase_add_test(tc, test_stale_and_replays);
	tcase_add_test(tc, test_unversioned_calls_are_never_stale);
	tcase_add_test(tc, test_known_whatever_the_revision);
	tcase_add_test(tc, test_eviction_forgets_not_confuses);
	tcase_add_test(tc, test_recent_calls_all_remembered);
	tcase_add_test(tc, test_oldest_of_a_full_set_goes);
	suite_add_tcase(s, tc);
	return s;
}
