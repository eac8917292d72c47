/*
 * The dispatch flowchart of SPEC section 3: ordered rules, first match wins.
 * Pure: no I/O, no allocation.
 */
#ifndef PMHC_FLOWCHART_H
#define PMHC_FLOWCHART_H

#include <stdbool.h>
#include <stddef.h>

#include "rules.h"

/* What a rule is tested against: the flags and the call fields a condition may name. */
struct pmhc_facts {
	pmhc_flagset flags;     /* raised */
	pmhc_flagset ruled_out; /* see enum pmhc_flag_state in screen.h */
	pmhc_flagset unknown;
	int source;                /* CallSource number */
	const char *nature_mapped; /* upper-case, after aliases */
};

/*
 * Whether the rule's condition holds. When why is not NULL it receives the first
 * part that failed ("none=[MH] but MH holds", "ruled_out=[WEAPON,MEDICAL] but
 * MEDICAL unknown, not ruled out") or "all parts hold".
 */
bool pmhc_rule_matches(const struct pmhc_rule *rule, const struct pmhc_facts *facts, char *why, size_t whylen);

/* The first matching rule. The last rule is the catch-all, so there always is one. */
const struct pmhc_rule *pmhc_flowchart_decide(const struct pmhc_rules *rules, const struct pmhc_facts *facts);

#endif
