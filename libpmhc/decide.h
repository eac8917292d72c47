/*
 * One call → one decision: screening, then the flowchart, then the plain-language
 * summary a dispatcher reads. Pure: no I/O, no clock, no allocation.
 */
#ifndef PMHC_DECIDE_H
#define PMHC_DECIDE_H

#include <stdbool.h>

#include "flowchart.h"
#include "screen.h"
#include "units.h"

struct pmhc_decision {
	struct pmhc_screening screening;
	const struct pmhc_rule *rule; /* points into the rules used; they must outlive it */
	bool mental_health_call;
	int source; /* CallSource number, for the summary */
};

void pmhc_decide(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call, struct pmhc_decision *out);

/*
 * One sentence for the dispatcher: what the call is, whom to send, which units
 * (or plainly what is missing and what stands in), and which safety questions
 * nobody answered. Mentions only the flags in shared, so a withheld flag cannot
 * leak through the words. units may be NULL (no units chosen, as in --explain).
 * Returns what snprintf returns.
 */
int pmhc_decision_summary(const struct pmhc_decision *d, const struct pmhc_choice *units, pmhc_flagset shared,
			  char *buf, size_t len);

#endif
