#include "flowchart.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t len, const char *fmt, ...)
{
	if (why == NULL || len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* The flags of set as "A,B", for explanations. */
static const char *flag_list(pmhc_flagset set, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int f = 0; f < PMHC_FLAG_COUNT && used < len; f++) {
		if (set & PMHC_BIT(f)) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
					 pmhc_flag_name((enum pmhc_flag)f));
			if (n < 0)
				break;
			used += (size_t)n;
		}
	}
	return buf;
}

bool pmhc_rule_matches(const struct pmhc_rule *rule, const struct pmhc_facts *facts, char *why, size_t whylen)
{
	char a[160], b[160];

	if (rule->has_all && (facts->flags & rule->all) != rule->all) {
		if (why != NULL)
			say(why, whylen, "all=[%s] but %s missing", flag_list(rule->all, a, sizeof a),
			    flag_list(rule->all & (pmhc_flagset)~facts->flags, b, sizeof b));
		return false;
	}
	if (rule->has_any && (facts->flags & rule->any) == 0) {
		if (why != NULL)
			say(why, whylen, "any=[%s] but none of them holds", flag_list(rule->any, a, sizeof a));
		return false;
	}
	if (rule->has_none && (facts->flags & rule->none) != 0) {
		if (why != NULL)
			say(why, whylen, "none=[%s] but %s holds", flag_list(rule->none, a, sizeof a),
			    flag_list(facts->flags & rule->none, b, sizeof b));
		return false;
	}
	if (rule->has_ruled_out && (facts->ruled_out & rule->ruled_out) != rule->ruled_out) {
		if (why != NULL) {
			pmhc_flagset missing = rule->ruled_out & (pmhc_flagset)~facts->ruled_out;
			/* Not ruled out and not raised: a question behind it is unanswered. */
			pmhc_flagset unknown = missing & (pmhc_flagset)~facts->flags;
			/* Unknown is what a dispatcher can fix by asking: say it first. */
			if (unknown)
				say(why, whylen, "ruled_out=[%s] but %s unknown, not ruled out",
				    flag_list(rule->ruled_out, a, sizeof a), flag_list(unknown, b, sizeof b));
			else
				say(why, whylen, "ruled_out=[%s] but %s raised",
				    flag_list(rule->ruled_out, a, sizeof a), flag_list(missing, b, sizeof b));
		}
		return false;
	}
	if (rule->has_unknown && (facts->unknown & rule->unknown) != rule->unknown) {
		if (why != NULL) {
			pmhc_flagset missing = rule->unknown & (pmhc_flagset)~facts->unknown;
			say(why, whylen, "unknown=[%s] but %s %s", flag_list(rule->unknown, a, sizeof a),
			    flag_list(missing, b, sizeof b),
			    (missing & facts->flags) == missing       ? "raised"
			    : (missing & facts->ruled_out) == missing ? "ruled out"
								      : "raised or ruled out");
		}
		return false;
	}
	if (rule->sources != 0 &&
	    (facts->source < 0 || facts->source >= PMHC_SOURCE_COUNT || (rule->sources & (1u << facts->source)) == 0)) {
		if (why != NULL)
			say(why, whylen, "source is %s, not one the rule names", pmhc_source_name(facts->source));
		return false;
	}
	if (rule->nature_codes != NULL) {
		bool found = false;
		for (size_t i = 0; i < rule->n_nature_codes && !found; i++)
			found = strcmp(rule->nature_codes[i], facts->nature_mapped) == 0;
		if (!found) {
			if (why != NULL)
				say(why, whylen, "nature code '%s' is not one the rule names", facts->nature_mapped);
			return false;
		}
	}
	if (why != NULL) {
		if (rule->has_unknown)
			say(why, whylen, "all parts hold: %s unknown, not ruled out",
			    flag_list(rule->unknown, a, sizeof a));
		else
			say(why, whylen, "%s",
			    pmhc_rule_is_catch_all(rule) ? "catch-all: always matches" : "all parts hold");
	}
	return true;
}

const struct pmhc_rule *pmhc_flowchart_decide(const struct pmhc_rules *rules, const struct pmhc_facts *facts)
{
	for (size_t i = 0; i < rules->n_rules; i++)
		if (pmhc_rule_matches(&rules->rules[i], facts, NULL, 0))
			return &rules->rules[i];
	/* Unreachable with a validated rule set: its last rule is the catch-all. */
	return rules->n_rules ? &rules->rules[rules->n_rules - 1] : NULL;
}
