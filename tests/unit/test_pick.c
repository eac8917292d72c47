#include <stdio.h>
#include <stdlib.h>

#include "pick.h"
#include "suites.h"

#define ITEM(psap, call, version, partition, offset)                                                                   \
	{                                                                                                              \
		psap, call, version, partition, offset, 0                                                              \
	}

/* Numbers the items as the caller's rows, in the order given, and picks. */
static void revisions(struct pmhc_pick_item *items, size_t n, size_t *keep, size_t *n_keep, size_t *decide,
		      size_t *n_decide)
{
	for (size_t i = 0; i < n; i++)
		items[i].row = i;
	pmhc_pick_revisions(items, n, keep, n_keep, decide, n_decide);
}

static int has(const size_t *rows, size_t n, size_t row)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i] == row)
			return 1;
	return 0;
}

START_TEST(test_newest_revision_kept_every_newer_one_decided)
{
	struct pmhc_pick_item it[] = {
		ITEM("P", "C-1", 1, 0, 10),
		ITEM("P", "C-1", 2, 0, 11),
		ITEM("P", "C-1", 1, 0, 12), /* stale: rev 2 arrived before */
		ITEM("P", "C-2", 3, 1, 5),
	};
	size_t keep[4], decide[4], nk, nd;
	revisions(it, 4, keep, &nk, decide, &nd);
	ck_assert_uint_eq(nk, 2);
	ck_assert(has(keep, nk, 1) && has(keep, nk, 3));
	ck_assert_uint_eq(nd, 3);
	ck_assert(has(decide, nd, 0) && has(decide, nd, 1) && has(decide, nd, 3));
	ck_assert(!has(decide, nd, 2));
}
END_TEST

START_TEST(test_arrival_order_not_input_order)
{
	/* Rows may come interleaved from partitions; the offset says what came first. */
	struct pmhc_pick_item it[] = {
		ITEM("P", "C-1", 1, 2, 40),
		ITEM("P", "C-1", 3, 2, 30),
		ITEM("P", "C-1", 2, 2, 35),
	};
	size_t keep[3], decide[3], nk, nd;
	revisions(it, 3, keep, &nk, decide, &nd);
	ck_assert_uint_eq(nk, 1);
	ck_assert_uint_eq(keep[0], 1);
	/* rev 3 came first (offset 30): rev 2 and rev 1 after it are stale. */
	ck_assert_uint_eq(nd, 1);
	ck_assert_uint_eq(decide[0], 1);
}
END_TEST

START_TEST(test_unversioned_always_counts_latest_wins)
{
	struct pmhc_pick_item it[] = {
		ITEM("P", "C-9", 0, 0, 1),
		ITEM("P", "C-9", 0, 0, 7),
		ITEM("P", "C-9", 0, 0, 3),
	};
	size_t keep[3], decide[3], nk, nd;
	revisions(it, 3, keep, &nk, decide, &nd);
	ck_assert_uint_eq(nk, 1);
	ck_assert_uint_eq(keep[0], 1);
	ck_assert_uint_eq(nd, 1); /* one decision per (call, revision) */
	ck_assert_uint_eq(decide[0], 1);
}
END_TEST

START_TEST(test_keys_are_pairs)
{
	/* ("P", "C-1") and ("PC", "-1") are different calls; so are the same call id in two PSAPs. */
	struct pmhc_pick_item it[] = {
		ITEM("P", "C-1", 5, 0, 1),
		ITEM("PC", "-1", 1, 0, 2),
		ITEM("Q", "C-1", 1, 0, 3),
	};
	size_t keep[3], decide[3], nk, nd;
	revisions(it, 3, keep, &nk, decide, &nd);
	ck_assert_uint_eq(nk, 3);
	ck_assert_uint_eq(nd, 3);
}
END_TEST

START_TEST(test_latest_disposition)
{
	struct pmhc_pick_item it[] = {
		ITEM("P", "C-1", 1000, 0, 1), ITEM("P", "C-1", 3000, 0, 2),
		ITEM("P", "C-1", 2000, 0, 3),                               /* arrives later, closed earlier: loses */
		ITEM("P", "C-2", 5000, 0, 4), ITEM("P", "C-2", 5000, 0, 9), /* same closed_at, later arrival: wins */
	};
	for (size_t i = 0; i < 5; i++)
		it[i].row = i;
	size_t keep[5], nk;
	pmhc_pick_latest(it, 5, keep, &nk);
	ck_assert_uint_eq(nk, 2);
	ck_assert(has(keep, nk, 1) && has(keep, nk, 4));
}
END_TEST

START_TEST(test_empty_and_large)
{
	size_t nk = 9, nd = 9;
	pmhc_pick_revisions(NULL, 0, NULL, &nk, NULL, &nd);
	ck_assert_uint_eq(nk, 0);
	ck_assert_uint_eq(nd, 0);

	/* 20,000 rows, 5,000 calls with revisions 1..4 in a shuffled arrival. */
	enum { CALLS = 5000, N = CALLS * 4 };
	static char ids[CALLS][16];
	struct pmhc_pick_item *it = calloc(N, sizeof *it);
	size_t *keep = calloc(N, sizeof *keep), *decide = calloc(N, sizeof *decide);
	ck_assert(it && keep && decide);
	/* In order a call gets 4 decisions; with rev 4 first, only that one. */
	size_t expected = 0;
	srand(7);
	for (int c = 0; c < CALLS; c++) {
		snprintf(ids[c], sizeof ids[c], "C-%d", c);
		int64_t base = (int64_t)c * 10;
		int order = rand() % 2; /* half arrive in order, half with rev 4 first */
		expected += order ? 4 : 1;
		for (int r = 0; r < 4; r++) {
			struct pmhc_pick_item *x = &it[c * 4 + r];
			*x = (struct pmhc_pick_item)ITEM("P", ids[c], r + 1, c % 8, base + (order ? r : 3 - r));
		}
	}
	revisions(it, N, keep, &nk, decide, &nd);
	ck_assert_uint_eq(nk, CALLS);
	for (size_t k = 0; k < nk; k++)
		ck_assert_int_eq(keep[k] % 4, 3); /* every call keeps rev 4 */
	ck_assert_uint_eq(nd, expected);
	free(it);
	free(keep);
	free(decide);
}
END_TEST

START_TEST(test_unseen_marks_every_row_of_its_call)
{
	/*
	 * A call's rows go one way: what it keeps and what gets a decision are picked
	 * per call, so a call split between a COPY and a merge would disagree with itself.
	 */
	struct pmhc_pick_item it[] = {
		ITEM("P", "C-1", 2, 0, 10), /* met before this batch */
		ITEM("P", "C-2", 1, 1, 4),  ITEM("P", "C-1", 3, 0, 12),
		ITEM("P", "C-2", 2, 1, 9), /* C-2's second row: seen by then, but its call is new */
		ITEM("Q", "C-1", 1, 0, 11),
	};
	it[1].unseen = true;
	it[4].unseen = true;
	size_t keep[5], decide[5], nk, nd;
	revisions(it, 5, keep, &nk, decide, &nd);
	/* Each the opposite of what it must become, so that an entry left unwritten shows. */
	bool unseen[5] = { true, false, true, false, false };
	pmhc_pick_unseen(it, 5, unseen);
	ck_assert(!unseen[0] && !unseen[2]);
	ck_assert(unseen[1] && unseen[3] && unseen[4]);
}
END_TEST

Suite *suite_pick(void)
{
	Suite *s = suite_create("pick");
	TCase *tc = tcase_create("pick");
	tcase_add_test(tc, test_newest_revision_kept_every_newer_one_decided);
	tcase_add_test(tc, test_arrival_order_not_input_order);
	tcase_add_test(tc, test_unversioned_always_counts_latest_wins);
	tcase_add_test(tc, test_keys_are_pairs);
	tcase_add_test(tc, test_latest_disposition);
	tcase_add_test(tc, test_empty_and_large);
	tcase_add_test(tc, test_unseen_marks_every_row_of_its_call);
	suite_add_tcase(s, tc);
	return s;
}
