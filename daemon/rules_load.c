#include "rules_load.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enums.h"
#include "screen.h"

const char *const pmhc_rules_sections[] = { "screening", "flowchart", "sharing", "units", NULL };

struct loader {
	const char *file;
	struct pmhc_errlist *errs;
	size_t errs_before;
	char included[4096];	/* the path of an @include'd file, for its messages */
};

#define ERR(ld, s, ...) pmhc_errlist_add((ld)->errs, file_of(ld, s), line_of(s), __VA_ARGS__)

static int line_of(const config_setting_t *s)
{
	return s ? config_setting_source_line(s) : 0;
}

/*
 * The file a setting came from: an @include'd file names itself, so its lines are
 * its own. libconfig names it as the @include line did; it was read from the
 * directory of the including file (config.c), and the message says so.
 */
static const char *file_of(struct loader *ld, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;
	if (f == NULL || strcmp(f, ld->file) == 0)
		return ld->file;
	const char *slash = strrchr(ld->file, '/');
	if (f[0] == '/' || slash == NULL)
		return f;
	snprintf(ld->included, sizeof ld->included, "%.*s/%s", (int)(slash - ld->file), ld->file, f);
	return ld->included;
}

static bool is_string_list(const config_setting_t *s)
{
	return s && (config_setting_is_array(s) || config_setting_is_list(s));
}

/* Refuses members of a group not in allowed: a typo must not silently drop a condition. */
static void check_members(struct loader *ld, const config_setting_t *g, const char *what,
			  const char *const *allowed)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = name && strcmp(name, *a) == 0;
		if (!ok) {
			char list[256] = "";
			for (const char *const *a = allowed; *a; a++) {
				strncat(list, *a, sizeof list - strlen(list) - 1);
				if (a[1])
					strncat(list, ", ", sizeof list - strlen(list) - 1);
			}
			ERR(ld, m, "%s: unknown setting '%s' (allowed: %s)", what, name ? name : "?", list);
		}
	}
}

/* The flags some screening question stands behind, "MH, SUD, ...". */
static const char *questioned_flags(void)
{
	static char list[256];
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

static const char *known_flags(void)
{
	static char list[256];
	if (!list[0])
		for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
			strcat(list, pmhc_flag_name((enum pmhc_flag)f));
			if (f + 1 < PMHC_FLAG_COUNT)
				strcat(list, ", ");
		}
	return list;
}

/* A list of flag names → mask; an empty list is an error unless allow_empty. */
static pmhc_flagset flag_list_ex(struct loader *ld, const config_setting_t *s, const char *what,
				 bool allow_empty)
{
	if (!is_string_list(s)) {
		ERR(ld, s, "%s must be a list of flags, e.g. [ \"MH\", \"WEAPON\" ]", what);
		return 0;
	}
	if (config_setting_length(s) == 0) {
		if (!allow_empty)
			ERR(ld, s, "%s is an empty list; leave it out instead", what);
		return 0;
	}
	pmhc_flagset mask = 0;
	for (int i = 0; i < config_setting_length(s); i++) {
		const char *name = config_setting_get_string_elem(s, i);
		enum pmhc_flag f;
		if (name == NULL)
			ERR(ld, s, "%s: element %d is not a string", what, i + 1);
		else if (pmhc_flag_parse(name, &f) != 0)
			ERR(ld, s, "%s: unknown flag '%s' (known: %s)", what, name, known_flags());
		else
			mask |= PMHC_BIT(f);
	}
	return mask;
}

/* A non-empty list of flag names → mask; 0 with an error otherwise. */
static pmhc_flagset flag_list(struct loader *ld, const config_setting_t *s, const char *what)
{
	return flag_list_ex(ld, s, what, false);
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

/* A string member of g, normalized as a code (trimmed, upper-case); NULL with an error. */
static char *code_member(struct loader *ld, const config_setting_t *g, const char *name,
			 const char *what)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	const char *v = s ? config_setting_get_string(s) : NULL;
	char code[PMHC_CODE_MAX];
	if (v == NULL) {
		ERR(ld, s ? s : g, "%s: '%s' must be given as a string", what, name);
		return NULL;
	}
	if (pmhc_code_normalize(v, code, sizeof code) != 0) {
		ERR(ld, s, "%s: '%s' is longer than %d characters", what, v, PMHC_CODE_MAX - 1);
		return NULL;
	}
	if (code[0] == '\0') {
		ERR(ld, s, "%s: '%s' must not be empty", what, name);
		return NULL;
	}
	return strdup(code);
}

static const char *const map_members_nature[] = { "code", "flags", NULL };
static const char *const map_members_table[] = { "code", "flags", NULL };
static const char *const map_members_premise[] = { "flag", "flags", NULL };
static const char *const alias_members[] = { "from", "to", NULL };
static const char *const rule_members[] = { "id",     "all",    "any",      "none",          "ruled_out",
					    "unknown", "source", "nature", "response", "dispatch_code", NULL };
static const char *const sharing_members[] = { "flags", "narrative", NULL };
static const char *const screening_members[] = { "nature_codes", "premise_flags", "aliases", "code_table",
						 NULL };

/*
 * A list of { <key> = "CODE"; flags = [...]; } → the map. Replaces *map on
 * success; leaves the defaults when the setting is absent.
 */
static void load_map(struct loader *ld, const config_setting_t *list, const char *what,
		     const char *key, const char *const *members, bool premise,
		     struct pmhc_code_map **map, size_t *n)
{
	if (list == NULL)
		return;
	if (!config_setting_is_list(list)) {
		ERR(ld, list, "%s must be a list of groups: ( { %s = \"...\"; flags = [ ... ]; }, ... )", what,
		    key);
		return;
	}
	int count = config_setting_length(list);
	struct pmhc_code_map *m = calloc((size_t)count + 1, sizeof *m);
	size_t used = 0;
	for (int i = 0; m && i < count; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(g)) {
			ERR(ld, g, "%s: element %d must be a group { ... }", what, i + 1);
			continue;
		}
		check_members(ld, g, what, members);
		size_t before = pmhc_errlist_count(ld->errs);
		char *code = code_member(ld, g, key, what);
		/* A nature code may raise nothing: it is then known, for the unknown-code count. */
		pmhc_flagset flags = flag_list_ex(ld, config_setting_get_member(g, "flags"), what, !premise);
		if (code == NULL || pmhc_errlist_count(ld->errs) != before) {
			free(code);
			continue;
		}
		if (premise && (flags & PMHC_BIT(PMHC_F_MH))) {
			ERR(ld, g, "%s: premise flag %s may not raise MH: a location's history alone never "
				   "makes a call a mental-health call", what, code);
			free(code);
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < used && !dup; j++)
			dup = strcmp(m[j].code, code) == 0;
		if (dup) {
			ERR(ld, g, "%s: %s is mapped twice; give all its flags in one entry", what, code);
			free(code);
			continue;
		}
		m[used++] = (struct pmhc_code_map){ code, flags };
	}
	for (size_t i = 0; i < *n; i++)
		free((*map)[i].code);
	free(*map);
	*map = m;
	*n = used;
}

/*
 * The code table (config/apco-2.103.2.conf, @include'd into screening): every code
 * it lists becomes known, and raises its flags unless nature_codes maps the same
 * code, which wins: that is how a center maps otherwise.
 */
static void load_code_table(struct loader *ld, const config_setting_t *list, struct pmhc_rules *r)
{
	if (list == NULL)
		return;
	struct pmhc_code_map *table = NULL;
	size_t n_table = 0;
	load_map(ld, list, "screening.code_table", "code", map_members_table, false, &table, &n_table);
	struct pmhc_code_map *merged = calloc(r->n_nature_map + n_table + 1, sizeof *merged);
	if (merged == NULL) {
		for (size_t i = 0; i < n_table; i++)
			free(table[i].code);
		free(table);
		pmhc_errlist_add(ld->errs, ld->file, 0, "out of memory loading screening.code_table");
		return;
	}
	size_t n = r->n_nature_map;
	memcpy(merged, r->nature_map, n * sizeof *merged);
	for (size_t i = 0; i < n_table; i++) {
		bool mapped = false;
		for (size_t j = 0; j < r->n_nature_map && !mapped; j++)
			mapped = strcmp(r->nature_map[j].code, table[i].code) == 0;
		if (mapped)
			free(table[i].code);
		else
			merged[n++] = table[i];
	}
	free(table);
	free(r->nature_map);
	r->nature_map = merged;
	r->n_nature_map = n;
}

static void load_aliases(struct loader *ld, const config_setting_t *list, struct pmhc_rules *r)
{
	if (list == NULL)
		return;
	const char *what = "screening.aliases";
	if (!config_setting_is_list(list)) {
		ERR(ld, list, "%s must be a list of groups: ( { from = \"10-96\"; to = \"EDP\"; }, ... )", what);
		return;
	}
	int count = config_setting_length(list);
	r->aliases = calloc((size_t)count + 1, sizeof *r->aliases);
	for (int i = 0; r->aliases && i < count; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(g)) {
			ERR(ld, g, "%s: element %d must be a group { from = ...; to = ...; }", what, i + 1);
			continue;
		}
		check_members(ld, g, what, alias_members);
		char *from = code_member(ld, g, "from", what), *to = code_member(ld, g, "to", what);
		bool dup = false;
		for (size_t j = 0; from && j < r->n_aliases && !dup; j++)
			dup = strcmp(r->aliases[j].from, from) == 0;
		if (from == NULL || to == NULL || dup) {
			if (dup)
				ERR(ld, g, "%s: %s is aliased twice", what, from);
			free(from);
			free(to);
			continue;
		}
		r->aliases[r->n_aliases++] = (struct pmhc_alias){ from, to };
	}
	/* One step only: a chain would make the code a rule sees depend on table order. */
	for (size_t i = 0; i < r->n_aliases; i++)
		for (size_t j = 0; j < r->n_aliases; j++)
			if (strcmp(r->aliases[i].to, r->aliases[j].from) == 0)
				ERR(ld, list, "%s: %s → %s → %s is a chain; alias %s straight to %s", what,
				    r->aliases[i].from, r->aliases[i].to, r->aliases[j].to, r->aliases[i].from,
				    r->aliases[j].to);
}

static bool valid_rule_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n >= 64)
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
	    a->sources != b->sources ||
	    (a->nature_codes == NULL) != (b->nature_codes == NULL) || a->n_nature_codes != b->n_nature_codes)
		return false;
	/* Both lists are kept sorted, so equal sets compare equal element by element. */
	for (size_t i = 0; i < a->n_nature_codes; i++)
		if (strcmp(a->nature_codes[i], b->nature_codes[i]) != 0)
			return false;
	return true;
}

/* A non-empty list of call sources → a bit per CallSource number; 0 with an error otherwise. */
static uint32_t source_list(struct loader *ld, const config_setting_t *s, const char *what)
{
	uint32_t sources = 0;
	if (!is_string_list(s) || config_setting_length(s) == 0)
		ERR(ld, s, "%s: 'source' must be a non-empty list such as [ \"988\" ]", what);
	for (int i = 0; is_string_list(s) && i < config_setting_length(s); i++) {
		const char *name = config_setting_get_string_elem(s, i);
		int src;
		if (name == NULL || pmhc_source_parse(name, &src) != 0)
			ERR(ld, s, "%s: unknown source '%s' (known: 911, 988, ADMIN, OFFICER_INITIATED, TEXT, "
				   "UNSPECIFIED)", what, name ? name : "?");
		else
			sources |= 1u << src;
	}
	return sources;
}

static void load_rule(struct loader *ld, const config_setting_t *g, struct pmhc_rule *rule)
{
	char what[96] = "flowchart rule";
	const char *id = NULL;
	check_members(ld, g, what, rule_members);
	rule->line = line_of(g);

	const config_setting_t *s = config_setting_get_member(g, "id");
	if (s == NULL || (id = config_setting_get_string(s)) == NULL)
		ERR(ld, s ? s : g, "flowchart rule: 'id' must be given as a string");
	else if (!valid_rule_id(id))
		ERR(ld, s, "flowchart rule: id '%s' must be 1-63 letters, digits, '-', '_' or '.'", id);
	else {
		rule->id = strdup(id);
		snprintf(what, sizeof what, "flowchart rule '%s'", id);
	}

	if ((s = config_setting_get_member(g, "all")) != NULL) {
		rule->has_all = true;
		rule->all = flag_list(ld, s, what);
	}
	if ((s = config_setting_get_member(g, "any")) != NULL) {
		rule->has_any = true;
		rule->any = flag_list(ld, s, what);
	}
	if ((s = config_setting_get_member(g, "none")) != NULL) {
		rule->has_none = true;
		rule->none = flag_list(ld, s, what);
	}
	/* ruled_out and unknown are states of the answers: a flag no question stands behind has neither. */
	static const char *const state_parts[] = { "ruled_out", "unknown" };
	for (size_t p = 0; p < 2; p++) {
		if ((s = config_setting_get_member(g, state_parts[p])) == NULL)
			continue;
		pmhc_flagset set = flag_list(ld, s, what);
		pmhc_flagset unasked = set & (pmhc_flagset)~pmhc_questioned_flags();
		for (int f = 0; f < PMHC_FLAG_COUNT; f++)
			if (unasked & PMHC_BIT(f))
				ERR(ld, s, "%s: %s: no screening question stands behind %s, so it is raised or not, "
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
		ERR(ld, g, "%s can never match: every flag in 'any' is also in 'none', 'ruled_out' or 'unknown'",
		    what);
	if ((s = config_setting_get_member(g, "source")) != NULL)
		rule->sources = source_list(ld, s, what);
	if ((s = config_setting_get_member(g, "nature")) != NULL) {
		int n = is_string_list(s) ? config_setting_length(s) : 0;
		if (n == 0)
			ERR(ld, s, "%s: 'nature' must be a non-empty list of nature codes", what);
		rule->nature_codes = calloc((size_t)n + 1, sizeof(char *));
		for (int i = 0; rule->nature_codes && i < n; i++) {
			const char *v = config_setting_get_string_elem(s, i);
			char code[PMHC_CODE_MAX];
			if (v == NULL || pmhc_code_normalize(v, code, sizeof code) != 0 || code[0] == '\0')
				ERR(ld, s, "%s: nature code %d must be a non-empty string under %d characters", what,
				    i + 1, PMHC_CODE_MAX);
			else
				rule->nature_codes[rule->n_nature_codes++] = strdup(code);
		}
		if (rule->nature_codes)
			qsort(rule->nature_codes, rule->n_nature_codes, sizeof(char *), cmp_str);
	}

	const char *resp = (s = config_setting_get_member(g, "response")) ? config_setting_get_string(s) : NULL;
	if (resp == NULL)
		ERR(ld, s ? s : g, "%s: 'response' must be given as a string", what);
	else if (pmhc_response_parse(resp, &rule->response) != 0) {
		char names[512];
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

static void load_flowchart(struct loader *ld, const config_setting_t *list, struct pmhc_rules *r)
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
	 * look like a catch-all to the checks below: that would bury the real error. */
	bool *broken = calloc((size_t)count, sizeof *broken);
	if (rules == NULL || broken == NULL) {
		free(rules);
		free(broken);
		return;
	}
	for (size_t i = 0; i < r->n_rules; i++) {
		free(r->rules[i].id);
		free(r->rules[i].dispatch_code);
		for (size_t j = 0; j < r->rules[i].n_nature_codes; j++)
			free(r->rules[i].nature_codes[j]);
		free(r->rules[i].nature_codes);
	}
	free(r->rules);
	r->rules = rules;
	r->n_rules = 0;

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

	const struct pmhc_rule *catch_all = NULL;
	for (size_t i = 0; i < r->n_rules; i++) {
		const struct pmhc_rule *rule = &rules[i];
		const char *id = rule->id ? rule->id : "?";
		for (size_t j = 0; j < i && rule->id; j++)
			if (rules[j].id && strcmp(rules[j].id, rule->id) == 0)
				pmhc_errlist_add(ld->errs, ld->file, rule->line,
						  "flowchart: duplicate rule id '%s' (first at line %d)", id, rules[j].line);
		if (broken[i])
			continue;
		if (catch_all != NULL) {
			pmhc_errlist_add(ld->errs, ld->file, rule->line,
					  "flowchart rule '%s' can never match: rule '%s' at line %d before it has no "
					  "condition", id, catch_all->id ? catch_all->id : "?", catch_all->line);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (!broken[j] && same_condition(&rules[j], rule)) {
				pmhc_errlist_add(ld->errs, ld->file, rule->line,
						  "flowchart rule '%s' can never match: its condition is the same as rule "
						  "'%s' at line %d", id, rules[j].id ? rules[j].id : "?", rules[j].line);
				break;
			}
		if (pmhc_rule_is_catch_all(rule))
			catch_all = rule;
	}
	if (r->n_rules > 0 && !broken[r->n_rules - 1] && !pmhc_rule_is_catch_all(&rules[r->n_rules - 1]))
		pmhc_errlist_add(ld->errs, ld->file, rules[r->n_rules - 1].line,
				  "flowchart: the last rule '%s' has a condition; the last rule must be the "
				  "unconditional catch-all (only id, response and dispatch_code)",
				  rules[r->n_rules - 1].id ? rules[r->n_rules - 1].id : "?");
	free(broken);
}

static void load_sharing(struct loader *ld, const config_setting_t *g, struct pmhc_rules *r)
{
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		ERR(ld, g, "sharing must be a group: sharing = { flags = [ ... ]; narrative = false; };");
		return;
	}
	check_members(ld, g, "sharing", sharing_members);
	const config_setting_t *s = config_setting_get_member(g, "flags");
	if (s != NULL) {
		/* An empty list is allowed here: a center may share no flags at all. */
		r->share_flags = config_setting_length(s) == 0 && is_string_list(s)
				       ? 0
				       : flag_list(ld, s, "sharing.flags");
	}
	if ((s = config_setting_get_member(g, "narrative")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			ERR(ld, s, "sharing.narrative must be true or false");
		else
			r->share_narrative = config_setting_get_bool(s) != 0;
	}
}

static const char *const units_members[] = { "max_status_age", "hold", "fallbacks", NULL };
static const char *const fallback_members[] = { "kind", "source", "then", NULL };

/* A whole number of seconds in lo..hi, or an error. */
static void seconds_member(struct loader *ld, const config_setting_t *g, const char *name, long long lo,
			   long long hi, int64_t *out_ms)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	if (s == NULL)
		return;
	int type = config_setting_type(s);
	long long v = config_setting_get_int64(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		ERR(ld, s, "units.%s must be a whole number of seconds", name);
	else if (v < lo || v > hi)
		ERR(ld, s, "units.%s is %lld, outside %lld..%lld seconds", name, v, lo, hi);
	else
		*out_ms = v * 1000;
}

static int unit_kind(struct loader *ld, const config_setting_t *s, const char *name, const char *what)
{
	int k;
	if (name == NULL || pmhc_unit_kind_parse(name, &k) != 0) {
		ERR(ld, s, "%s: unknown unit kind '%s' (known: PATROL, CIT_OFFICER, CO_RESPONDER, "
			   "MOBILE_CRISIS, EMS)", what, name ? name : "?");
		return 0;
	}
	return k;
}

static void load_units(struct loader *ld, const config_setting_t *g, struct pmhc_rules *r)
{
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		ERR(ld, g, "units must be a group: units = { hold = 120; fallbacks = ( ... ); };");
		return;
	}
	check_members(ld, g, "units", units_members);
	seconds_member(ld, g, "max_status_age", 60, 7 * 86400, &r->units.max_status_age_ms);
	seconds_member(ld, g, "hold", 0, 3600, &r->units.hold_ms);

	const config_setting_t *list = config_setting_get_member(g, "fallbacks");
	if (list == NULL)
		return;
	const char *what = "units.fallbacks";
	if (!config_setting_is_list(list)) {
		ERR(ld, list, "%s must be a list: ( { kind = \"CIT_OFFICER\"; then = [ \"PATROL\" ]; }, ... )", what);
		return;
	}
	/* Given at all, the list replaces every default chain: a kind not listed has none. */
	memset(r->units.fallback, 0, sizeof r->units.fallback);
	memset(r->units.by_source, 0, sizeof r->units.by_source);
	memset(r->units.by_source_set, 0, sizeof r->units.by_source_set);
	bool seen[PMHC_UNIT_KINDS] = { false };
	bool seen_src[PMHC_SOURCE_COUNT][PMHC_UNIT_KINDS] = { { false } };
	for (int i = 0; i < config_setting_length(list); i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(e)) {
			ERR(ld, e, "%s: element %d must be a group { kind = ...; then = [ ... ]; }", what, i + 1);
			continue;
		}
		check_members(ld, e, what, fallback_members);
		const config_setting_t *ks = config_setting_get_member(e, "kind");
		int kind = unit_kind(ld, ks ? ks : e, ks ? config_setting_get_string(ks) : NULL, what);
		const config_setting_t *then = config_setting_get_member(e, "then");
		const config_setting_t *ss = config_setting_get_member(e, "source");
		uint32_t sources = ss ? source_list(ld, ss, what) : 0;
		if (kind == 0 || (ss != NULL && sources == 0))
			continue;
		bool twice = false;
		if (ss == NULL) {
			twice = seen[kind];
			seen[kind] = true;
		}
		for (int src = 0; src < PMHC_SOURCE_COUNT; src++) {
			if (!(sources & (1u << src)))
				continue;
			twice = twice || seen_src[src][kind];
			seen_src[src][kind] = true;
		}
		if (twice) {
			ERR(ld, e, "%s: %s has two chains%s; give one", what, pmhc_unit_kind_name(kind),
			    ss ? " for one source" : "");
			continue;
		}
		/* For a source an empty chain says "no fallback for these calls"; the default
		 * chain is left out instead. */
		if (!is_string_list(then) || (config_setting_length(then) == 0 && ss == NULL)) {
			ERR(ld, then ? then : e, "%s: %s: 'then' must be a non-empty list of unit kinds (leave the "
					     "entry out for no fallback)", what, pmhc_unit_kind_name(kind));
			continue;
		}
		int chain[PMHC_UNIT_KINDS] = { 0 };
		int n = 0;
		for (int j = 0; j < config_setting_length(then); j++) {
			int f = unit_kind(ld, then, config_setting_get_string_elem(then, j), what);
			bool dup = f == kind;
			for (int x = 0; x < n && !dup; x++)
				dup = chain[x] == f;
			if (f != 0 && dup)
				ERR(ld, then, "%s: %s: %s appears twice or stands in for itself", what,
				    pmhc_unit_kind_name(kind), pmhc_unit_kind_name(f));
			else if (f != 0 && n < PMHC_UNIT_KINDS - 1)
				chain[n++] = f;
		}
		if (ss == NULL)
			memcpy(r->units.fallback[kind], chain, sizeof chain);
		for (int src = 0; src < PMHC_SOURCE_COUNT; src++) {
			if (!(sources & (1u << src)))
				continue;
			r->units.by_source_set[src][kind] = true;
			memcpy(r->units.by_source[src][kind], chain, sizeof chain);
		}
	}
}

struct pmhc_rules *pmhc_rules_load(const config_t *cf, const char *file,
				   struct pmhc_errlist *errs)
{
	struct loader ld = { file, errs, pmhc_errlist_count(errs) };
	struct pmhc_rules *r = pmhc_rules_default();
	if (r == NULL) {
		pmhc_errlist_add(errs, file, 0, "out of memory building the rules");
		return NULL;
	}
	const config_setting_t *screening = config_lookup(cf, "screening");
	if (screening != NULL) {
		if (!config_setting_is_group(screening)) {
			ERR(&ld, screening, "screening must be a group: screening = { nature_codes = ( ... ); ... };");
		} else {
			check_members(&ld, screening, "screening", screening_members);
			load_map(&ld, config_setting_get_member(screening, "nature_codes"), "screening.nature_codes",
				 "code", map_members_nature, false, &r->nature_map, &r->n_nature_map);
			load_map(&ld, config_setting_get_member(screening, "premise_flags"),
				 "screening.premise_flags", "flag", map_members_premise, true, &r->premise_map,
				 &r->n_premise_map);
			load_aliases(&ld, config_setting_get_member(screening, "aliases"), r);
			/* After nature_codes: the center's own mapping of a code wins over the table's. */
			load_code_table(&ld, config_setting_get_member(screening, "code_table"), r);
		}
	}
	load_flowchart(&ld, config_lookup(cf, "flowchart"), r);
	load_sharing(&ld, config_lookup(cf, "sharing"), r);
	load_units(&ld, config_lookup(cf, "units"), r);

	if (pmhc_errlist_count(errs) == ld.errs_before && pmhc_rules_seal(r) != 0)
		pmhc_errlist_add(errs, file, 0, "out of memory computing rules_version");
	if (pmhc_errlist_count(errs) != ld.errs_before) {
		pmhc_rules_free(r);
		return NULL;
	}
	return r;
}
