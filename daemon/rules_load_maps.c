/*
 * The screening section (nature codes, premise flags, the code table, aliases:
 * which flags a call's codes raise) and the sharing policy (what a
 * recommendation may carry). SPEC sections 2 and 3.
 */
#include <stdlib.h>
#include <string.h>

#include "rules_load_int.h"

/* What one map is called in the config and how its entries are checked. */
struct map_spec {
	const char *what;           /* the setting, for messages */
	const char *key;            /* the member naming the code */
	const char *const *members; /* the members an entry may have */
	bool premise;               /* premise flags: may not raise MH, must raise something */
};

static const char *const map_members_nature[] = { "code", "flags", NULL };
static const char *const map_members_table[] = { "code", "flags", NULL };
static const char *const map_members_premise[] = { "flag", "flags", NULL };
static const char *const alias_members[] = { "from", "to", NULL };
static const char *const sharing_members[] = { "flags", "narrative", NULL };
static const char *const screening_members[] = { "nature_codes", "premise_flags", "aliases", "code_table", NULL };

static const struct map_spec nature_codes_spec = { "screening.nature_codes", "code", map_members_nature, false };
static const struct map_spec premise_flags_spec = { "screening.premise_flags", "flag", map_members_premise, true };
static const struct map_spec code_table_spec = { "screening.code_table", "code", map_members_table, false };

/* A string member of g, normalized as a code (trimmed, upper-case); NULL with an error. */
static char *code_member(struct loader *ld, const config_setting_t *g, const char *name, const char *what)
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

/*
 * Element i of a map, { <key> = "CODE"; flags = [...]; } → its code (to be freed)
 * and *flags; NULL when the entry has a problem of its own, already reported.
 */
static char *map_entry(struct loader *ld, const config_setting_t *g, int i, const struct map_spec *spec,
		       pmhc_flagset *flags)
{
	const char *what = spec->what;
	if (!config_setting_is_group(g)) {
		ERR(ld, g, "%s: element %d must be a group { ... }", what, i + 1);
		return NULL;
	}
	loader_check_members(ld, g, what, spec->members);
	size_t before = pmhc_errlist_count(ld->errs);
	char *code = code_member(ld, g, spec->key, what);
	/* A nature code may raise nothing: it is then known, for the unknown-code count. */
	*flags = loader_flag_list_ex(ld, config_setting_get_member(g, "flags"), what, !spec->premise);
	if (code == NULL || pmhc_errlist_count(ld->errs) != before) {
		free(code);
		return NULL;
	}
	if (spec->premise && (*flags & PMHC_BIT(PMHC_F_MH))) {
		ERR(ld, g,
		    "%s: premise flag %s may not raise MH: a location's history alone never "
		    "makes a call a mental-health call",
		    what, code);
		free(code);
		return NULL;
	}
	return code;
}

/*
 * A list of { <key> = "CODE"; flags = [...]; } → the map. Replaces *map on
 * success; leaves the defaults when the setting is absent.
 */
static void load_map(struct loader *ld, const config_setting_t *list, const struct map_spec *spec,
		     struct pmhc_code_map **map, size_t *n)
{
	if (list == NULL)
		return;
	if (!config_setting_is_list(list)) {
		ERR(ld, list, "%s must be a list of groups: ( { %s = \"...\"; flags = [ ... ]; }, ... )", spec->what,
		    spec->key);
		return;
	}
	int count = config_setting_length(list);
	struct pmhc_code_map *m = calloc((size_t)count + 1, sizeof *m);
	size_t used = 0;
	for (int i = 0; m && i < count; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		pmhc_flagset flags = 0;
		char *code = map_entry(ld, g, i, spec, &flags);
		if (code == NULL)
			continue;
		bool dup = false;
		for (size_t j = 0; j < used && !dup; j++)
			dup = strcmp(m[j].code, code) == 0;
		if (dup) {
			ERR(ld, g, "%s: %s is mapped twice; give all its flags in one entry", spec->what, code);
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
	load_map(ld, list, &code_table_spec, &table, &n_table);
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
		loader_check_members(ld, g, what, alias_members);
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

void rules_load_screening(struct loader *ld, const config_setting_t *g, struct pmhc_rules *r)
{
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		ERR(ld, g, "screening must be a group: screening = { nature_codes = ( ... ); ... };");
		return;
	}
	loader_check_members(ld, g, "screening", screening_members);
	load_map(ld, config_setting_get_member(g, "nature_codes"), &nature_codes_spec, &r->nature_map,
		 &r->n_nature_map);
	load_map(ld, config_setting_get_member(g, "premise_flags"), &premise_flags_spec, &r->premise_map,
		 &r->n_premise_map);
	load_aliases(ld, config_setting_get_member(g, "aliases"), r);
	/* After nature_codes: the center's own mapping of a code wins over the table's. */
	load_code_table(ld, config_setting_get_member(g, "code_table"), r);
}

void rules_load_sharing(struct loader *ld, const config_setting_t *g, struct pmhc_rules *r)
{
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		ERR(ld, g, "sharing must be a group: sharing = { flags = [ ... ]; narrative = false; };");
		return;
	}
	loader_check_members(ld, g, "sharing", sharing_members);
	const config_setting_t *s = config_setting_get_member(g, "flags");
	if (s != NULL) {
		/* An empty list is allowed here: a center may share no flags at all. */
		r->share_flags = config_setting_length(s) == 0 && loader_is_string_list(s)
					 ? 0
					 : loader_flag_list(ld, s, "sharing.flags");
	}
	if ((s = config_setting_get_member(g, "narrative")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			ERR(ld, s, "sharing.narrative must be true or false");
		else
			r->share_narrative = config_setting_get_bool(s) != 0;
	}
}
