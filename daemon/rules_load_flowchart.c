/*
 * The flowchart section (SPEC section 3): each rule's id, conditions (all,
 * any, none, ruled_out, unknown, source, nature) and outcome (response,
 * dispatch_code), then the checks across rules: duplicate ids, rules that can
 * never match, and the unconditional catch-all last.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enums.h"
#include "rules_load_int.h"
#include "screen.h"

/* A rule id and its NUL: ids are 1-63 characters (SPEC section 3, docs/rules.md). */
#define RULE_ID_MAX 64
/* Room for "flowchart rule '<id>'", the name a rule's messages go by, with the longest id. */
#define RULE_WHAT_LEN (sizeof "flowchart rule ''" + RULE_ID_MAX - 1)
/* Room for every Response name in a message: 136 characters for the nine today. */
#define RESPONSE_NAMES_LEN 512

static const char *const rule_members[] = { "id",     "all",    "any",      "none",          "ruled_out", "unknown",
					    "source", "nature", "response", "dispatch_code", NULL };

/* The flags some screening question stands behind, "MH, SUD, ...". */
static const char *questioned_flags(void)
{
	static char list[LOADER_NAMES_LEN];
	if (!list[0])
		for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
			if (!(pmhc_questioned_flags() & PMHC_BIT(f)))
				continue;
			if (list[0])
				strcat(list, ", ");
			strcat(list, pmhc_flag_name((enum pmhc_flag)f));
		}
	return list;
}

/* The values of an enum, "A, B, C", for an error message: never out of date. */
static const char *enum_names(const ProtobufCEnumDescriptor *d, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < d->n_values; i++) {
		if (d->values[i].value == 0)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
				 pmhc_enum_name(d, d->values[i].value));
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

static bool valid_rule_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n >= RULE_ID_MAX)
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool same_condition(const struct pmhc_rule *a, const struct pmhc_rule *b)
{
	if (a->has_all != b->has_all || a->has_any != b->has_any || a->has_none != b->has_none ||
	    a->has_ruled_out != b->has_ruled_out || a->has_unknown != b->has_unknown || a->all != b->all ||
	    a->any != b->any || a->none != b->none || a->ruled_out != b->ruled_out || a->unknown != b->unknown ||
	    a->sources != b->sources || (a->nature_codes == NULL) != (b->nature_codes == NULL) ||
	    a->n_nature_codes != b->n_nature_codes)
		return false;
	/* Both lists are kept sorted, so equal sets compare equal element by element. */
	for (size_t i = 0; i < a->n_nature_codes; i++)
		if (strcmp(a->nature_codes[i], b->nature_codes[i]) != 0)
			return false;
	return true;
}

/* The rule's id; once it is good, what (len bytes) names the rule by it for the messages that follow. */
static void rule_id(struct loader *ld, const config_setting_t *g, struct pmhc_rule *rule, char *what, size_t len)
{
	const char *id = NULL;
	const config_setting_t *s = config_setting_get_member(g, "id");
	if (s == NULL || (id = config_setting_get_string(s)) == NULL)
		ERR(ld, s ? s : g, "flowchart rule: 'id' must be given as a string");
	else if (!valid_rule_id(id))
		ERR(ld, s, "flowchart rule: id '%s' must be 1-%d letters, digits, '-', '_' or '.'", id,
		    RULE_ID_MAX - 1);
	else {
		rule->id = strdup(id);
		snprintf(what, len, "flowchart rule '%s'", id);
	}
}

/* all, any and none: flags raised, each given list present even if its flags are bad. */
static void rule_raised(struct loader *ld, const config_setting_t *g, struct pmhc_rule *rule, const char *what)
{
	const config_setting_t *s;
	if ((s = config_setting_get_member(g, "all")) != NULL) {
		rule->has_all = true;
		rule->all = loader_flag_list(ld, s, what);
	}
	if ((s = config_setting_get_member(g, "any")) != NULL) {
		rule->has_any = true;
		rule->any = loader_flag_list(ld, s, what);
	}
	if ((s = config_setting_get_member(g, "none")) != NULL) {
		rule->has_none = true;
		rule->none = loader_flag_list(ld, s, what);
	}
}

/* ruled_out and unknown are states of the answers: a flag no question stands behind has neither. */
static void rule_states(struct loader *ld, const config_setting_t *g, struct pmhc_rule *rule, const char *what)
{
	static const char *const state_parts[] = { "ruled_out", "unknown" };
	for (size_t p = 0; p < sizeof state_parts / sizeof state_parts[0]; p++) {
		const config_setting_t *s = config_setting_get_member(g, state_parts[p]);
		if (s == NULL)
			continue;
		pmhc_flagset set = loader_flag_list(ld, s, what);
		pmhc_flagset unasked = set & (pmhc_flagset)~pmhc_questioned_flags();
		for (int f = 0; f < PMHC_FLAG_COUNT; f++)
			if (unasked & PMHC_BIT(f))
				ERR(ld, s,
				    "%s: %s: no screening question stands behind %s, so it is raised or not, "
				    "never ruled out or unknown (flags with a question: %s)",
				    what, state_parts[p], pmhc_flag_name((enum pmhc_flag)f), questioned_flags());
		if (p == 0) {
			rule->has_ruled_out = true;
			rule->ruled_out = set;
		} else {
			rule->has_unknown = true;
			rule->unknown = set;
		}
	}
}

/* Refuses flag conditions that contradict each other, so the rule could never match. */
static void rule_contradictions(struct loader *ld, const config_setting_t *g, const struct pmhc_rule *rule,
				const char *what)
{
	/* A flag cannot be in two states at once: such a rule could never match. */
	const struct {
		const char *a, *b;
		pmhc_flagset both;
	} clash[] = {
		{ "all", "ruled_out", rule->all & rule->ruled_out },
		{ "all", "unknown", rule->all & rule->unknown },
		{ "all", "none", rule->all & rule->none },
		{ "ruled_out", "unknown", rule->ruled_out & rule->unknown },
	};
	for (size_t c = 0; c < sizeof clash / sizeof clash[0]; c++)
		for (int f = 0; f < PMHC_FLAG_COUNT; f++)
			if (clash[c].both & PMHC_BIT(f))
				ERR(ld, g, "%s can never match: %s is in both '%s' and '%s'", what,
				    pmhc_flag_name((enum pmhc_flag)f), clash[c].a, clash[c].b);
	pmhc_flagset never_raised = rule->ruled_out | rule->unknown | rule->none;
	if (rule->has_any && rule->any != 0 && (rule->any & (pmhc_flagset)~never_raised) == 0)
		ERR(ld, g, "%s can never match: every flag in 'any' is also in 'none', 'ruled_out' or 'unknown'", what);
}

/* The nature codes s lists, normalized and sorted, so that same_condition compares them as sets. */
static void rule_nature(struct loader *ld, const config_setting_t *s, struct pmhc_rule *rule, const char *what)
{
	int n = loader_is_string_list(s) ? config_setting_length(s) : 0;
	if (n == 0)
		ERR(ld, s, "%s: 'nature' must be a non-empty list of nature codes", what);
	rule->nature_codes = calloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; rule->nature_codes && i < n; i++) {
		const char *v = config_setting_get_string_elem(s, i);
		char code[PMHC_CODE_MAX];
		if (v == NULL || pmhc_code_normalize(v, code, sizeof code) != 0 || code[0] == '\0')
			ERR(ld, s, "%s: nature code %d must be a non-empty string under %d characters", what, i + 1,
			    PMHC_CODE_MAX);
		else
			rule->nature_codes[rule->n_nature_codes++] = strdup(code);
	}
	if (rule->nature_codes)
		qsort(rule->nature_codes, rule->n_nature_codes, sizeof(char *), cmp_str);
}

/* What the rule decides: its response and its dispatch code ("" for none). */
static void rule_outcome(struct loader *ld, const config_setting_t *g, struct pmhc_rule *rule, const char *what)
{
	const config_setting_t *s;
	const char *resp = (s = config_setting_get_member(g, "response")) ? config_setting_get_string(s) : NULL;
	if (resp == NULL)
		ERR(ld, s ? s : g, "%s: 'response' must be given as a string", what);
	else if (pmhc_response_parse(resp, &rule->response) != 0) {
		char names[RESPONSE_NAMES_LEN];
		ERR(ld, s, "%s: unknown response '%s' (known: %s)", what, resp,
		    enum_names(&pmhc__v1__response__descriptor, names, sizeof names));
	}

	const char *code = (s = config_setting_get_member(g, "dispatch_code")) ? config_setting_get_string(s) : NULL;
	if (code == NULL)
		ERR(ld, s ? s : g, "%s: 'dispatch_code' must be given as a string (\"\" for none)", what);
	else if (strlen(code) >= PMHC_CODE_MAX)
		ERR(ld, s, "%s: dispatch_code is longer than %d characters", what, PMHC_CODE_MAX - 1);
	else
		rule->dispatch_code = strdup(code);
}

/* One rule group → *rule; its problems are reported in the order of its members here. */
static void load_rule(struct loader *ld, const config_setting_t *g, struct pmhc_rule *rule)
{
	char what[RULE_WHAT_LEN] = "flowchart rule";
	loader_check_members(ld, g, what, rule_members);
	rule->line = loader_line_of(g);
	rule_id(ld, g, rule, what, sizeof what);
	rule_raised(ld, g, rule, what);
	rule_states(ld, g, rule, what);
	rule_contradictions(ld, g, rule, what);
	const config_setting_t *s;
	if ((s = config_setting_get_member(g, "source")) != NULL)
		rule->sources = loader_source_list(ld, s, what);
	if ((s = config_setting_get_member(g, "nature")) != NULL)
		rule_nature(ld, s, rule, what);
	rule_outcome(ld, g, rule, what);
}

/* Frees the rules a flowchart given replaces. */
static void drop_rules(struct pmhc_rules *r)
{
	for (size_t i = 0; i < r->n_rules; i++) {
		free(r->rules[i].id);
		free(r->rules[i].dispatch_code);
		for (size_t j = 0; j < r->rules[i].n_nature_codes; j++)
			free(r->rules[i].nature_codes[j]);
		free(r->rules[i].nature_codes);
	}
	free(r->rules);
	r->rules = NULL;
	r->n_rules = 0;
}

/* Rule i has the id of an earlier rule. */
static void check_duplicate_id(struct loader *ld, const struct pmhc_rule *rules, size_t i)
{
	const struct pmhc_rule *rule = &rules[i];
	for (size_t j = 0; j < i && rule->id; j++)
		if (rules[j].id && strcmp(rules[j].id, rule->id) == 0)
			pmhc_errlist_add(ld->errs, ld->file, rule->line,
					 "flowchart: duplicate rule id '%s' (first at line %d)", rule->id,
					 rules[j].line);
}

/* Rule i has the condition of an earlier one, which always matches first. */
static void check_same_condition(struct loader *ld, const struct pmhc_rule *rules, const bool *broken, size_t i)
{
	const struct pmhc_rule *rule = &rules[i];
	for (size_t j = 0; j < i; j++)
		if (!broken[j] && same_condition(&rules[j], rule)) {
			pmhc_errlist_add(ld->errs, ld->file, rule->line,
					 "flowchart rule '%s' can never match: its condition is the same as rule "
					 "'%s' at line %d",
					 rule->id ? rule->id : "?", rules[j].id ? rules[j].id : "?", rules[j].line);
			break;
		}
}

/*
 * The checks across the n rules: duplicate ids, rules that can never match, and
 * the unconditional catch-all last. A broken rule is only checked for its id.
 */
static void check_rules(struct loader *ld, const struct pmhc_rule *rules, const bool *broken, size_t n)
{
	const struct pmhc_rule *catch_all = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct pmhc_rule *rule = &rules[i];
		check_duplicate_id(ld, rules, i);
		if (broken[i])
			continue;
		if (catch_all != NULL) {
			pmhc_errlist_add(ld->errs, ld->file, rule->line,
					 "flowchart rule '%s' can never match: rule '%s' at line %d before it has no "
					 "condition",
					 rule->id ? rule->id : "?", catch_all->id ? catch_all->id : "?",
					 catch_all->line);
			continue;
		}
		check_same_condition(ld, rules, broken, i);
		if (pmhc_rule_is_catch_all(rule))
			catch_all = rule;
	}
	if (n > 0 && !broken[n - 1] && !pmhc_rule_is_catch_all(&rules[n - 1]))
		pmhc_errlist_add(ld->errs, ld->file, rules[n - 1].line,
				 "flowchart: the last rule '%s' has a condition; the last rule must be the "
				 "unconditional catch-all (only id, response and dispatch_code)",
				 rules[n - 1].id ? rules[n - 1].id : "?");
}

void rules_load_flowchart(struct loader *ld, const config_setting_t *list, struct pmhc_rules *r)
{
	if (list == NULL)
		return;
	if (!config_setting_is_list(list) || config_setting_length(list) == 0) {
		ERR(ld, list, "flowchart must be a non-empty list of rules: ( { id = ...; ... }, ... )");
		return;
	}
	int count = config_setting_length(list);
	struct pmhc_rule *rules = calloc((size_t)count, sizeof *rules);
	/* A rule with a problem of its own (say its only condition misspelled) must not
	 * look like a catch-all to the checks across rules: that would bury the real error. */
	bool *broken = calloc((size_t)count, sizeof *broken);
	if (rules == NULL || broken == NULL) {
		free(rules);
		free(broken);
		return;
	}
	drop_rules(r);
	r->rules = rules;

	for (int i = 0; i < count; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(g)) {
			ERR(ld, g, "flowchart: element %d must be a rule group { id = ...; ... }", i + 1);
			continue;
		}
		size_t before = pmhc_errlist_count(ld->errs);
		broken[r->n_rules] = false;
		load_rule(ld, g, &rules[r->n_rules]);
		broken[r->n_rules++] = pmhc_errlist_count(ld->errs) != before;
	}
	check_rules(ld, rules, broken, r->n_rules);
	free(broken);
}
