/*
 * Which rows of a batch reach the tables, decided in memory, so that a batch
 * touching no stored call can be COPYed straight into them. The rules are
 * those of the merge statements in daemon/store_sql.h, applied within the batch:
 *
 *   calls      A revision counts when it is 0 (unversioned) or newer than every
 *              earlier arrival of the same call. Each counted revision gets a
 *              decision; the call keeps its highest counted revision.
 *   dispositions  Each call keeps its latest by closed_at.
 *
 * Ties (the same revision or closed_at twice) go to the lowest partition, then
 * the latest offset, as the merge statements' ORDER BY says.
 *
 * A live batch mixes calls new to the tables with revisions of stored ones.
 * pmhc_pick_unseen() tells which calls this process met first in the batch:
 * those most likely are not stored yet and can be COPYed too.
 */
#ifndef PMHC_PICK_H
#define PMHC_PICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pmhc_pick_item {
	const char *psap_id;
	const char *call_id;
	int64_t version; /* calls: the revision; dispositions: closed_at in ms */
	int32_t partition;
	int64_t offset;
	size_t row;  /* the caller's index of the row */
	bool unseen; /* calls, live: the call's first revision, and no earlier event of it reached this process */
};

/*
 * Calls. Sorts items[] (in place) and writes into keep[] the row each call
 * keeps and into decide[] the rows that get a decision, each in key order.
 * Both arrays need room for n; *n_keep and *n_decide receive their lengths.
 */
void pmhc_pick_revisions(struct pmhc_pick_item *items, size_t n, size_t *keep, size_t *n_keep, size_t *decide,
			 size_t *n_decide);

/*
 * Calls, after pmhc_pick_revisions() has sorted items[]: unseen[row], for each
 * caller's row, is whether its call has an unseen item in the batch. All of a
 * call's rows go one way, since what it keeps and what gets a decision are
 * picked per call. Such a call is new to the tables unless this is a replay
 * this process does not remember (a restart, a rebalance), which a COPY then
 * finds out.
 */
void pmhc_pick_unseen(const struct pmhc_pick_item *items, size_t n, bool *unseen);

/* Dispositions: sorts items[] and writes into keep[] the row each call keeps. */
void pmhc_pick_latest(struct pmhc_pick_item *items, size_t n, size_t *keep, size_t *n_keep);

#endif
