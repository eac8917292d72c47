/*
 * The units section (SPEC section 4): how old a unit's status may be, how long
 * a recommended unit is held, and the fallback chains, per needed kind and,
 * where an entry names sources, per call source.
 */
#include <string.h>

#include "rules_load_int.h"

/* The config gives seconds; the policy keeps milliseconds. */
#define MS_PER_S 1000
/* units.max_status_age: the range SPEC section 4 allows, a minute to a week (default 12 hours). */
#define STATUS_AGE_MIN_S 60
#define STATUS_AGE_MAX_S (7 * 24 * 60 * 60)
/* units.hold: the range SPEC section 4 allows, 0 (no hold at all) to an hour (default 120 s). */
#define HOLD_MIN_S 0
#define HOLD_MAX_S (60 * 60)

static const char *const units_members[] = { "max_status_age", "hold", "fallbacks", NULL };
static const char *const fallback_members[] = { "kind", "source", "then", NULL };

/* Which chains units.fallbacks has given so far: a kind's default, and a kind's for a source. */
struct chains_seen {
	bool kind[PMHC_UNIT_KINDS];
	bool source[PMHC_SOURCE_COUNT][PMHC_UNIT_KINDS];
};

/* A whole number of seconds in lo..hi, or an error. */
static void seconds_member(struct loader *ld, const config_setting_t *g, const char *name, long long lo, long long hi,
			   int64_t *out_ms)
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
		*out_ms = v * MS_PER_S;
}

static int unit_kind(struct loader *ld, const config_setting_t *s, const char *name, const char *what)
{
	int k;
	if (name == NULL || pmhc_unit_kind_parse(name, &k) != 0) {
		ERR(ld, s,
		    "%s: unknown unit kind '%s' (known: PATROL, CIT_OFFICER, CO_RESPONDER, "
		    "MOBILE_CRISIS, EMS)",
		    what, name ? name : "?");
		return 0;
	}
	return k;
}

/*
 * Marks kind's chain as given: its default chain (by_source false) or its chain
 * for each of sources. True when one of them was given before.
 */
static bool seen_twice(struct chains_seen *seen, int kind, bool by_source, uint32_t sources)
{
	bool twice = false;
	if (!by_source) {
		twice = seen->kind[kind];
		seen->kind[kind] = true;
	}
	for (int src = 0; src < PMHC_SOURCE_COUNT; src++) {
		if (!(sources & (1u << src)))
			continue;
		twice = twice || seen->source[src][kind];
		seen->source[src][kind] = true;
	}
	return twice;
}

/* The kinds 'then' lists → chain, 0-terminated: a kind twice, or kind itself, is an error. */
static void read_chain(struct loader *ld, const config_setting_t *then, int kind, const char *what,
		       int chain[PMHC_UNIT_KINDS])
{
	int n = 0;
	for (int j = 0; j < config_setting_length(then); j++) {
		int f = unit_kind(ld, then, config_setting_get_string_elem(then, j), what);
		bool dup = f == kind;
		for (int x = 0; x < n && !dup; x++)
			dup = chain[x] == f;
		if (f != 0 && dup)
			ERR(ld, then, "%s: %s: %s appears twice or stands in for itself", what,
			    pmhc_unit_kind_name(kind), pmhc_unit_kind_name(f));
		else if (f != 0 && n < PMHC_UNIT_KINDS - 1) /* the last slot stays 0, the end */
			chain[n++] = f;
	}
}

/* The chain becomes kind's default (by_source false) or its chain for each of sources. */
static void set_chain(struct pmhc_unit_policy *u, int kind, bool by_source, uint32_t sources,
		      const int chain[PMHC_UNIT_KINDS])
{
	if (!by_source)
		memcpy(u->fallback[kind], chain, sizeof u->fallback[kind]);
	for (int src = 0; src < PMHC_SOURCE_COUNT; src++) {
		if (!(sources & (1u << src)))
			continue;
		u->by_source_set[src][kind] = true;
		memcpy(u->by_source[src][kind], chain, sizeof u->by_source[src][kind]);
	}
}

/* Element i of units.fallbacks: { kind = ...; source = [ ... ]; then = [ ... ]; }. */
static void load_fallback(struct loader *ld, const config_setting_t *e, int i, struct chains_seen *seen,
			  struct pmhc_rules *r)
{
	const char *what = "units.fallbacks";
	if (!config_setting_is_group(e)) {
		ERR(ld, e, "%s: element %d must be a group { kind = ...; then = [ ... ]; }", what, i + 1);
		return;
	}
	loader_check_members(ld, e, what, fallback_members);
	const config_setting_t *ks = config_setting_get_member(e, "kind");
	int kind = unit_kind(ld, ks ? ks : e, ks ? config_setting_get_string(ks) : NULL, what);
	const config_setting_t *then = config_setting_get_member(e, "then");
	const config_setting_t *ss = config_setting_get_member(e, "source");
	uint32_t sources = ss ? loader_source_list(ld, ss, what) : 0;
	if (kind == 0 || (ss != NULL && sources == 0))
		return;
	if (seen_twice(seen, kind, ss != NULL, sources)) {
		ERR(ld, e, "%s: %s has two chains%s; give one", what, pmhc_unit_kind_name(kind),
		    ss ? " for one source" : "");
		return;
	}
	/* For a source an empty chain says "no fallback for these calls"; the default
	 * chain is left out instead. */
	if (!loader_is_string_list(then) || (config_setting_length(then) == 0 && ss == NULL)) {
		ERR(ld, then ? then : e,
		    "%s: %s: 'then' must be a non-empty list of unit kinds (leave the "
		    "entry out for no fallback)",
		    what, pmhc_unit_kind_name(kind));
		return;
	}
	int chain[PMHC_UNIT_KINDS] = { 0 };
	read_chain(ld, then, kind, what, chain);
	set_chain(&r->units, kind, ss != NULL, sources, chain);
}

static void load_fallbacks(struct loader *ld, const config_setting_t *list, struct pmhc_rules *r)
{
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
	struct chains_seen seen;
	memset(&seen, 0, sizeof seen);
	for (int i = 0; i < config_setting_length(list); i++)
		load_fallback(ld, config_setting_get_elem(list, (unsigned)i), i, &seen, r);
}

void rules_load_units(struct loader *ld, const config_setting_t *g, struct pmhc_rules *r)
{
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		ERR(ld, g, "units must be a group: units = { hold = 120; fallbacks = ( ... ); };");
		return;
	}
	loader_check_members(ld, g, "units", units_members);
	seconds_member(ld, g, "max_status_age", STATUS_AGE_MIN_S, STATUS_AGE_MAX_S, &r->units.max_status_age_ms);
	seconds_member(ld, g, "hold", HOLD_MIN_S, HOLD_MAX_S, &r->units.hold_ms);
	load_fallbacks(ld, config_setting_get_member(g, "fallbacks"), r);
}
