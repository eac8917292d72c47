#include "pick.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int cmp_key(const struct pmhc_pick_item *a, const struct pmhc_pick_item *b)
{
	int c = strcmp(a->psap_id, b->psap_id);
	return c != 0 ? c : strcmp(a->call_id, b->call_id);
}

/* One call's messages in arrival order: Kafka keeps a key on one partition. */
static int cmp_arrival(const void *pa, const void *pb)
{
	const struct pmhc_pick_item *a = pa, *b = pb;
	int c = cmp_key(a, b);
	if (c != 0)
		return c;
	if (a->partition != b->partition)
		return a->partition < b->partition ? -1 : 1;
	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* The merge statements' tie-break: lowest partition, then latest offset. */
static bool wins_tie(const struct pmhc_pick_item *a, const struct pmhc_pick_item *b)
{
	return a->partition < b->partition || (a->partition == b->partition && a->offset > b->offset);
}

static bool beats(const struct pmhc_pick_item *a, const struct pmhc_pick_item *b)
{
	return a->version > b->version || (a->version == b->version && wins_tie(a, b));
}

static size_t group_end(const struct pmhc_pick_item *items, size_t n, size_t start)
{
	size_t end = start + 1;
	while (end < n && cmp_key(&items[start], &items[end]) == 0)
		end++;
	return end;
}

void pmhc_pick_revisions(struct pmhc_pick_item *items, size_t n, size_t *keep, size_t *n_keep, size_t *decide,
			 size_t *n_decide)
{
	*n_keep = *n_decide = 0;
	if (n == 0)
		return;
	qsort(items, n, sizeof *items, cmp_arrival);
	for (size_t start = 0, end; start < n; start = end) {
		end = group_end(items, n, start);
		int64_t seen = -1;
		const struct pmhc_pick_item *kept = NULL;
		size_t first_decision = *n_decide;
		for (size_t i = start; i < end; i++) {
			const struct pmhc_pick_item *it = &items[i];
			bool counts = it->version == 0 || it->version > seen;
			if (it->version > seen)
				seen = it->version;
			if (!counts)
				continue;
			if (kept == NULL || beats(it, kept))
				kept = it;
			/* Only unversioned arrivals can repeat a counted revision: one decision each. */
			size_t d = first_decision;
			while (d < *n_decide && items[decide[d]].version != it->version)
				d++;
			if (d == *n_decide)
				decide[(*n_decide)++] = i;
			else if (wins_tie(it, &items[decide[d]]))
				decide[d] = i;
		}
		keep[(*n_keep)++] = kept->row;
	}
	for (size_t d = 0; d < *n_decide; d++)
		decide[d] = items[decide[d]].row;
}

void pmhc_pick_unseen(const struct pmhc_pick_item *items, size_t n, bool *unseen)
{
	for (size_t start = 0, end; start < n; start = end) {
		end = group_end(items, n, start);
		bool any = false;
		for (size_t i = start; i < end; i++)
			any = any || items[i].unseen;
		for (size_t i = start; i < end; i++)
			unseen[items[i].row] = any;
	}
}

void pmhc_pick_latest(struct pmhc_pick_item *items, size_t n, size_t *keep, size_t *n_keep)
{
	*n_keep = 0;
	if (n == 0)
		return;
	qsort(items, n, sizeof *items, cmp_arrival);
	for (size_t start = 0, end; start < n; start = end) {
		end = group_end(items, n, start);
		const struct pmhc_pick_item *kept = &items[start];
		for (size_t i = start + 1; i < end; i++)
			if (beats(&items[i], kept))
				kept = &items[i];
		keep[(*n_keep)++] = kept->row;
	}
}
