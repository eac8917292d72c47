/*
 * The decision rules from the config file: screening mappings, CAD code
 * aliases, the flowchart and the sharing policy (SPEC sections 2 and 3).
 * A section left out keeps the SPEC default; a section given replaces it whole.
 * The units policy (section 4) too, setting by setting: one left out keeps its
 * default. Built by rules_load*.c, which share rules_load_int.h.
 */
#ifndef PMHC_RULES_LOAD_H
#define PMHC_RULES_LOAD_H

#include <libconfig.h>

#include "errlist.h"
#include "rules.h"

/* The top-level settings this loader owns. */
extern const char *const pmhc_rules_sections[];

/*
 * Builds and seals the rules from cf. Every problem goes to errs as
 * "FILE:LINE: reason"; NULL when there was any.
 */
struct pmhc_rules *pmhc_rules_load(const config_t *cf, const char *file, struct pmhc_errlist *errs);

#endif
