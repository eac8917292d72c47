#include "draw.h"

#include <string.h>

#include "pmhc.pb-c.h"
#include "screen.h"

/* A DOT string body: quotes and backslashes escaped, control characters dropped. */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, out);
	}
}

/* "WEAPON, VIOLENCE" or "WEAPON or VIOLENCE". */
static void put_flags(FILE *out, pmhc_flagset set, const char *sep)
{
	const char *s = "";
	for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
		if (set & PMHC_BIT(f)) {
			fprintf(out, "%s%s", s, pmhc_flag_name((enum pmhc_flag)f));
			s = sep;
		}
	}
}

static int count(pmhc_flagset set)
{
	int n = 0;
	for (int f = 0; f < PMHC_FLAG_COUNT; f++)
		n += (set & PMHC_BIT(f)) != 0;
	return n;
}

/* The condition in plain words, one part a line (DOT's \l: left-justified). */
static void put_condition(FILE *out, const struct pmhc_rule *r)
{
	if (pmhc_rule_is_catch_all(r)) {
		fputs("every other call\\l", out);
		return;
	}
	if (r->has_all) {
		put_flags(out, r->all, " and ");
		fputs(count(r->all) > 1 ? " all raised\\l" : " raised\\l", out);
	}
	if (r->has_any) {
		put_flags(out, r->any, " or ");
		fputs(" raised\\l", out);
	}
	if (r->has_none) {
		fputs(count(r->none) > 1 ? "none of " : "", out);
		put_flags(out, r->none, ", ");
		fputs(count(r->none) > 1 ? " raised\\l" : " not raised\\l", out);
	}
	if (r->has_ruled_out) {
		put_flags(out, r->ruled_out, ", ");
		fputs(" ruled out (answered no)\\l", out);
	}
	if (r->has_unknown) {
		put_flags(out, r->unknown, ", ");
		fputs(" unknown (not asked or not answered)\\l", out);
	}
	if (r->sources) {
		fputs("call came in on ", out);
		const char *sep = "";
		for (int s = 0; s < PMHC_SOURCE_COUNT; s++) {
			if (r->sources & (1u << s)) {
				fprintf(out, "%s%s", sep, pmhc_source_name(s));
				sep = ", ";
			}
		}
		fputs("\\l", out);
	}
	for (size_t i = 0; i < r->n_nature_codes; i++) {
		fputs(i ? ", " : "nature code ", out);
		put_escaped(out, r->nature_codes[i]);
	}
	if (r->n_nature_codes)
		fputs("\\l", out);
}

/* The fill of a response: red sends police with backup, yellow police, green no police. */
static const char *response_fill(int response)
{
	switch (response) {
	case PMHC__V1__RESPONSE__RESPONSE_CIT_WITH_BACKUP:
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT:
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT_WITH_BACKUP: return "#f4c7c3";
	case PMHC__V1__RESPONSE__RESPONSE_CIT:
	case PMHC__V1__RESPONSE__RESPONSE_CO_RESPONDER: return "#fce8b2";
	case PMHC__V1__RESPONSE__RESPONSE_MOBILE_CRISIS:
	case PMHC__V1__RESPONSE__RESPONSE_CALL_DIVERSION:
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_MOBILE_CRISIS: return "#b7e1cd";
	default: return "#e8eaed";
	}
}

static void put_needs(FILE *out, int response)
{
	int kinds[PMHC_NEEDS_MAX];
	size_t n = pmhc_units_needed(response, kinds);
	if (response == PMHC__V1__RESPONSE__RESPONSE_CALL_DIVERSION) {
		fputs("no unit: a crisis counselor on the phone", out);
		return;
	}
	if (n == 0) {
		fputs("the CAD's own rules pick units", out);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bool backup = kinds[i] == PMHC__V1__UNIT_KIND__UNIT_PATROL;
		fprintf(out, "%s%s%s",
			i == 0       ? ""
			: i + 1 == n ? " and "
				     : ", ",
			pmhc_unit_kind_words(kinds[i]), backup ? " as backup" : "");
	}
}

static void put_chain(FILE *out, int kind, const int *chain)
{
	fprintf(out, "%s", pmhc_unit_kind_words(kind));
	for (int f = 0; f < PMHC_UNIT_KINDS && chain[f]; f++)
		fprintf(out, " → %s", pmhc_unit_kind_words(chain[f]));
	fputs(" → unfilled (request one)\\l", out);
}

int pmhc_draw_flowchart(const struct pmhc_rules *rules, FILE *out)
{
	fputs("// pmhcd --draw-flowchart: render with  dot -Tsvg -o flowchart.svg\n", out);
	fputs("digraph pmhc_flowchart {\n", out);
	fprintf(out,
		"  graph [fontname=\"Helvetica\", fontsize=12, labelloc=t, nodesep=0.4, ranksep=0.25,\n"
		"         label=\"Dispatch flowchart: the first rule whose condition holds decides.\\n"
		"Red: police with backup; yellow: police; green: no police; grey: not a mental-health call.\\n"
		"rules_version %.12s\"];\n",
		rules->version);
	fputs("  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=white];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=9];\n",
	      out);
	fputs("  call [label=\"Call event, screened:\\neach flag raised, ruled out or unknown\", shape=oval, "
	      "fillcolor=\"#d2e3fc\"];\n",
	      out);
	for (size_t i = 0; i < rules->n_rules; i++) {
		const struct pmhc_rule *r = &rules->rules[i];
		fprintf(out, "  rule%zu [label=\"%zu. ", i, i + 1);
		put_escaped(out, r->id);
		fputs("\\n\\n", out);
		put_condition(out, r);
		fputs("\"];\n", out);
		fprintf(out, "  send%zu [label=\"%s", i, pmhc_response_name(r->response));
		if (r->dispatch_code[0]) {
			fputs("\\ncode ", out);
			put_escaped(out, r->dispatch_code);
		}
		fputs("\\n", out);
		put_needs(out, r->response);
		fprintf(out, "\", fillcolor=\"%s\"];\n", response_fill(r->response));
		fprintf(out, "  { rank=same; rule%zu; send%zu; }\n", i, i);
		fprintf(out, "  rule%zu -> send%zu [label=\"%s\"];\n", i, i, pmhc_rule_is_catch_all(r) ? "" : "yes");
		if (i == 0)
			fprintf(out, "  call -> rule0;\n");
		else
			fprintf(out, "  rule%zu -> rule%zu [label=\"no\", weight=10];\n", i - 1, i);
	}

	/* Which kind stands in for which: what a dispatcher hears when a kind has nobody free. */
	fputs("  fallbacks [shape=note, fillcolor=\"#f1f3f4\", label=\"When no unit of a kind is free:\\l", out);
	for (int k = 1; k < PMHC_UNIT_KINDS; k++)
		put_chain(out, k, rules->units.fallback[k]);
	for (int s = 0; s < PMHC_SOURCE_COUNT; s++) {
		for (int k = 1; k < PMHC_UNIT_KINDS; k++) {
			if (!rules->units.by_source_set[s][k])
				continue;
			fprintf(out, "on %s calls: ", pmhc_source_name(s));
			put_chain(out, k, rules->units.by_source[s][k]);
		}
	}
	fputs("\"];\n", out);
	if (rules->n_rules > 0)
		fprintf(out, "  rule%zu -> fallbacks [style=invis];\n", rules->n_rules - 1);
	fputs("}\n", out);
	return ferror(out) ? -1 : 0;
}
