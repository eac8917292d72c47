/*
 * Which revision of each recent call this process has already decided, so a
 * replay (after a rebalance) or a stale duplicate is counted and skipped, not
 * published to dispatch again; and so whether a call is new to this process,
 * which the live writer takes as a sign that it is not stored yet. Bounded and
 * set-associative: an evicted call just falls back to the database's own
 * stale check. Pure.
 */
#ifndef PMHC_REVCACHE_H
#define PMHC_REVCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pmhc_revcache;

/* slots is rounded up to a power of two. NULL when out of memory. */
struct pmhc_revcache *pmhc_revcache_new(size_t slots);
void pmhc_revcache_free(struct pmhc_revcache *c);

/*
 * Whether revision is at or below one already decided for (psap_id, call_id).
 * Revision 0 (a CAD that does not version) is never stale.
 */
bool pmhc_revcache_stale(const struct pmhc_revcache *c, const char *psap_id, const char *call_id, uint32_t revision);

/* Whether any revision of (psap_id, call_id) was noted and is still held. */
bool pmhc_revcache_known(const struct pmhc_revcache *c, const char *psap_id, const char *call_id);

/* Remembers that revision was decided. */
void pmhc_revcache_note(struct pmhc_revcache *c, const char *psap_id, const char *call_id, uint32_t revision);

#endif
