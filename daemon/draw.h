/*
 * pmhcd --draw-flowchart: the flowchart of a rule set as a Graphviz DOT graph, for
 * staff: every rule in order with its condition in plain words, what it sends
 * (and which units that needs), the "no" path to the next rule, and the fallback
 * chains. `dot -Tsvg` renders it; docs/flowchart.svg is the default one.
 */
#ifndef PMHC_DRAW_H
#define PMHC_DRAW_H

#include <stdio.h>

#include "rules.h"

/* Writes the graph to out; returns 0, or -1 when a write failed. */
int pmhc_draw_flowchart(const struct pmhc_rules *rules, FILE *out);

#endif
