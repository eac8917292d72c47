/*
 * pmhcd --explain: reads calls as JSON lines and shows, for each, the flags and
 * why they hold, every flowchart rule tried and why it matched or not, and the
 * recommendation that would be published — so a center can test a flowchart
 * change before it goes live. Touches neither Kafka nor PostgreSQL.
 */
#ifndef PMHC_EXPLAIN_H
#define PMHC_EXPLAIN_H

#include <stdio.h>

#include "rules.h"

/*
 * Explains every line of in (name is for messages) to out. Returns 0, or 65
 * (EX_DATAERR) when any line could not be read as a call; the others are still
 * explained.
 */
int pmhc_explain_stream(const struct pmhc_rules *rules, FILE *in, const char *name, FILE *out);

#endif
