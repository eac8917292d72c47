/*
 * The rules loader's insides, shared by its files: only daemon/rules_load*.c
 * include this header. Everything else sees rules_load.h alone. Each file has
 * one job:
 *
 *   rules_load.c            the entry point, and the reporting and list
 *                           parsing every section shares
 *   rules_load_maps.c       screening: nature codes, premise flags, the code
 *                           table and aliases; and the sharing policy
 *   rules_load_flowchart.c  the flowchart: each rule's conditions and outcome,
 *                           and the checks across rules
 *   rules_load_units.c      the units policy: status age, hold, fallback chains
 */
#ifndef PMHC_RULES_LOAD_INT_H
#define PMHC_RULES_LOAD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <libconfig.h>

#include "errlist.h"
#include "flags.h"
#include "rules.h"

/* Room for the path of an @include'd file: as long as Linux allows one (PATH_MAX). */
#define LOADER_PATH_LEN 4096
/* Room for a list of names in a message, "MH, SUD, ...": the longest, every flag, is 116 characters. */
#define LOADER_NAMES_LEN 256

struct loader {
	const char *file;
	struct pmhc_errlist *errs;
	size_t errs_before;
	char included[LOADER_PATH_LEN]; /* the path of an @include'd file, for its messages */
};

/* One problem, reported as FILE:LINE of setting s (the file's own line 0 when s is NULL). */
#define ERR(ld, s, ...) pmhc_errlist_add((ld)->errs, loader_file_of(ld, s), loader_line_of(s), __VA_ARGS__)

static inline int loader_line_of(const config_setting_t *s)
{
	return s ? config_setting_source_line(s) : 0;
}

static inline bool loader_is_string_list(const config_setting_t *s)
{
	return s && (config_setting_is_array(s) || config_setting_is_list(s));
}

/* rules_load.c: reporting and the lists every section parses. */

/* The file setting s came from, as a message should name it (see rules_load.c). */
const char *loader_file_of(struct loader *ld, const config_setting_t *s);
/* Refuses members of a group not in allowed (NULL-terminated). */
void loader_check_members(struct loader *ld, const config_setting_t *g, const char *what, const char *const *allowed);
/* A list of flag names → mask; an empty list is an error unless allow_empty. */
pmhc_flagset loader_flag_list_ex(struct loader *ld, const config_setting_t *s, const char *what, bool allow_empty);
/* A non-empty list of flag names → mask; 0 with an error otherwise. */
pmhc_flagset loader_flag_list(struct loader *ld, const config_setting_t *s, const char *what);
/* A non-empty list of call sources → a bit per CallSource number; 0 with an error otherwise. */
uint32_t loader_source_list(struct loader *ld, const config_setting_t *s, const char *what);

/* The sections, each left as it was when its setting is absent (NULL). */

/* rules_load_maps.c */
void rules_load_screening(struct loader *ld, const config_setting_t *g, struct pmhc_rules *r);
void rules_load_sharing(struct loader *ld, const config_setting_t *g, struct pmhc_rules *r);
/* rules_load_flowchart.c */
void rules_load_flowchart(struct loader *ld, const config_setting_t *list, struct pmhc_rules *r);
/* rules_load_units.c */
void rules_load_units(struct loader *ld, const config_setting_t *g, struct pmhc_rules *r);

#endif
