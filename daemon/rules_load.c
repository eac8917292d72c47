/*
 * The entry point of the rules loader, and what its sections share: where a
 * problem is reported, unknown members, and the lists of flags and sources.
 * The sections themselves are rules_load_maps.c, rules_load_flowchart.c and
 * rules_load_units.c (see rules_load_int.h).
 */
#include "rules_load.h"

#include <stdio.h>
#include <string.h>

#include "rules_load_int.h"

const char *const pmhc_rules_sections[] = { "screening", "flowchart", "sharing", "units", NULL };

/*
 * The file a setting came from: an @include'd file names itself, so its lines are
 * its own. libconfig names it as the @include line did; it was read from the
 * directory of the including file (config.c), and the message says so.
 */
const char *loader_file_of(struct loader *ld, const config_setting_t *s)
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

/* Refuses members of a group not in allowed: a typo must not silently drop a condition. */
void loader_check_members(struct loader *ld, const config_setting_t *g, const char *what, const char *const *allowed)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = name && strcmp(name, *a) == 0;
		if (!ok) {
			char list[LOADER_NAMES_LEN] = "";
			for (const char *const *a = allowed; *a; a++) {
				strncat(list, *a, sizeof list - strlen(list) - 1);
				if (a[1])
					strncat(list, ", ", sizeof list - strlen(list) - 1);
			}
			ERR(ld, m, "%s: unknown setting '%s' (allowed: %s)", what, name ? name : "?", list);
		}
	}
}

static const char *known_flags(void)
{
	static char list[LOADER_NAMES_LEN];
	if (!list[0])
		for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
			strcat(list, pmhc_flag_name((enum pmhc_flag)f));
			if (f + 1 < PMHC_FLAG_COUNT)
				strcat(list, ", ");
		}
	return list;
}

/* A list of flag names → mask; an empty list is an error unless allow_empty. */
pmhc_flagset loader_flag_list_ex(struct loader *ld, const config_setting_t *s, const char *what, bool allow_empty)
{
	if (!loader_is_string_list(s)) {
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
pmhc_flagset loader_flag_list(struct loader *ld, const config_setting_t *s, const char *what)
{
	return loader_flag_list_ex(ld, s, what, false);
}

/* A non-empty list of call sources → a bit per CallSource number; 0 with an error otherwise. */
uint32_t loader_source_list(struct loader *ld, const config_setting_t *s, const char *what)
{
	uint32_t sources = 0;
	if (!loader_is_string_list(s) || config_setting_length(s) == 0)
		ERR(ld, s, "%s: 'source' must be a non-empty list such as [ \"988\" ]", what);
	for (int i = 0; loader_is_string_list(s) && i < config_setting_length(s); i++) {
		const char *name = config_setting_get_string_elem(s, i);
		int src;
		if (name == NULL || pmhc_source_parse(name, &src) != 0)
			ERR(ld, s,
			    "%s: unknown source '%s' (known: 911, 988, ADMIN, OFFICER_INITIATED, TEXT, "
			    "UNSPECIFIED)",
			    what, name ? name : "?");
		else
			sources |= 1u << src;
	}
	return sources;
}

struct pmhc_rules *pmhc_rules_load(const config_t *cf, const char *file, struct pmhc_errlist *errs)
{
	struct loader ld = { file, errs, pmhc_errlist_count(errs) };
	struct pmhc_rules *r = pmhc_rules_default();
	if (r == NULL) {
		pmhc_errlist_add(errs, file, 0, "out of memory building the rules");
		return NULL;
	}
	rules_load_screening(&ld, config_lookup(cf, "screening"), r);
	rules_load_flowchart(&ld, config_lookup(cf, "flowchart"), r);
	rules_load_sharing(&ld, config_lookup(cf, "sharing"), r);
	rules_load_units(&ld, config_lookup(cf, "units"), r);

	if (pmhc_errlist_count(errs) == ld.errs_before && pmhc_rules_seal(r) != 0)
		pmhc_errlist_add(errs, file, 0, "out of memory computing rules_version");
	if (pmhc_errlist_count(errs) != ld.errs_before) {
		pmhc_rules_free(r);
		return NULL;
	}
	return r;
}
