/*
 * A first guess at each history call's repeat-encounter flag (migration 009's
 * definition: an MH call whose subject had at least threshold - 1 other MH
 * calls in the window before it), made from the calls read so far. History
 * comes out of order across partitions, so a call read later can turn an
 * earlier guess wrong; pmhc.finish_backfill() recomputes every flag and
 * rewrites only the wrong ones. A right guess saves the database a new row
 * version in each of pmhc.calls' nine indexes. Pure.
 */
#ifndef PMHC_REPEATS_H
#define PMHC_REPEATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "subject.h"

struct pmhc_repeats;

/*
 * At most max_calls calls are remembered; past that (or out of memory) a
 * guess is "not a repeat", which the final pass corrects. NULL when out of memory.
 */
struct pmhc_repeats *pmhc_repeats_new(size_t max_calls);
void pmhc_repeats_free(struct pmhc_repeats *r);

/*
 * The rule of a PSAP, as pmhc.definitions says: "*" for every PSAP without
 * its own. A PSAP with no rule at all gets no repeat guessed. False when the
 * values are out of the definitions' range or memory ran out.
 */
bool pmhc_repeats_rule(struct pmhc_repeats *r, const char *psap_id, int threshold, int window_days);

/*
 * Notes an MH call of a subject received at t_ms, and guesses whether it is a
 * repeat encounter: at least threshold - 1 of the subject's calls noted so
 * far fall in [t_ms - window, t_ms); calls at the same instant do not count.
 */
bool pmhc_repeats_guess(struct pmhc_repeats *r, const char *psap_id, const unsigned char subject[PMHC_SUBJECT_HASH_LEN],
			int64_t t_ms);

/* Calls remembered, for the log. */
size_t pmhc_repeats_calls(const struct pmhc_repeats *r);

#endif
