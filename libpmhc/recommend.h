/*
 * A decision → the Recommendation message for the dispatcher's screen, under the
 * information-sharing policy (SPEC section 3). Pure; the message points into a
 * caller-owned scratch value, so building one allocates nothing.
 */
#ifndef PMHC_RECOMMEND_H
#define PMHC_RECOMMEND_H

#include "decide.h"

#define PMHC_REASON_LEN 200
#define PMHC_SUMMARY_LEN 512

struct pmhc_rec_scratch {
	Pmhc__V1__Recommendation rec;
	char *flags[PMHC_FLAG_COUNT];
	char *reasons[PMHC_REASONS_MAX];
	char *units[PMHC_NEEDS_MAX];
	char reason_text[PMHC_REASONS_MAX][PMHC_REASON_LEN];
	char summary[PMHC_SUMMARY_LEN];
};

/* Fills s->rec; valid while s, call, units and rules live. units may be NULL. */
void pmhc_recommend(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call, const struct pmhc_decision *d,
		    const struct pmhc_choice *units, int64_t decided_at_ms, struct pmhc_rec_scratch *s);

#endif
