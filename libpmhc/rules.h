/*
 * The decision engine's configuration as one immutable value: the flag mappings
 * and CAD code aliases of SPEC section 2, the flowchart of section 3 and the
 * information-sharing policy. Built once (from defaults or from the config file),
 * never changed afterwards; a reload builds a new one and swaps the pointer.
 */
#ifndef PMHC_RULES_H
#define PMHC_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flags.h"
#include "units.h"

/* Longest nature code or premise flag we compare; longer ones match nothing. */
#define PMHC_CODE_MAX 64

/* A nature code or premise flag and the flags it raises (a nature code may raise
 * none: it is then only known). code is upper-case. */
struct pmhc_code_map {
	char *code;
	pmhc_flagset flags;
};

/* A center's own CAD code and the standard code it means. Both upper-case. */
struct pmhc_alias {
	char *from;
	char *to;
};

/*
 * A condition holds when every present part holds; a part is present when its
 * has_ flag is set (an empty list in the file is refused, so presence is
 * explicit). A rule without any part is the unconditional catch-all.
 * all, any and none test raised flags; ruled_out and unknown test the state of
 * flags a screening question stands behind (screen.h): every flag in ruled_out
 * must be ruled out, every flag in unknown must be unknown.
 */
struct pmhc_rule {
	char *id;
	bool has_all, has_any, has_none, has_ruled_out, has_unknown;
	pmhc_flagset all, any, none, ruled_out, unknown;
	uint32_t sources;    /* bit per CallSource number; 0 = not constrained */
	char **nature_codes; /* upper-case mapped codes; NULL = not constrained */
	size_t n_nature_codes;
	int response; /* Response enum number */
	char *dispatch_code;
	int line; /* where it was defined, for error messages; 0 = built in */
};

struct pmhc_rules {
	/* The center's nature codes and the code table it includes, one entry a code,
	 * sorted by code once sealed. Entries without flags only make a code known. */
	struct pmhc_code_map *nature_map;
	size_t n_nature_map;
	struct pmhc_code_map *premise_map;
	size_t n_premise_map;
	struct pmhc_alias *aliases;
	size_t n_aliases;
	struct pmhc_rule *rules;
	size_t n_rules;
	/* Information-sharing policy: what a Recommendation may carry. */
	pmhc_flagset share_flags;
	bool share_narrative;
	/* Unit choice: fallback chains, status age, holds (SPEC section 4). */
	struct pmhc_unit_policy units;
	/* Lowercase hex SHA-256 of pmhc_rules_canonical(): see SPEC section 3. */
	char version[65];
};

bool pmhc_rule_is_catch_all(const struct pmhc_rule *rule);

/* The defaults of SPEC sections 2 and 3. NULL only when out of memory. */
struct pmhc_rules *pmhc_rules_default(void);
void pmhc_rules_free(struct pmhc_rules *rules);

/*
 * The canonical text behind the version: every mapping, alias, rule and the
 * sharing policy, in order, one fact a line. Layout and comments of the file
 * it came from cannot change it. Caller frees.
 */
char *pmhc_rules_canonical(const struct pmhc_rules *rules);
/*
 * Makes a built rule set ready for use: sorts the nature map for lookup and fills
 * rules->version from the canonical text. 0 or -1 (out of memory).
 */
int pmhc_rules_seal(struct pmhc_rules *rules);

/* The entry for a mapped nature code, NULL when the rules do not map it. Sealed rules. */
const struct pmhc_code_map *pmhc_nature_find(const struct pmhc_rules *rules, const char *mapped);
/*
 * Whether a mapped nature code (after trimming, upper-casing and aliases) is known:
 * in the nature map or code table (with or without flags), or what an alias maps
 * to. An empty code is not known. For counting the codes a center's tables miss.
 */
bool pmhc_nature_known(const struct pmhc_rules *rules, const char *mapped);

/* Upper-cased, trimmed copy of s into out; -1 when it does not fit. */
int pmhc_code_normalize(const char *s, char *out, size_t outlen);

/* The Response / CallSource names without prefix: "CIT_WITH_BACKUP", "988". */
const char *pmhc_response_name(int response);
int pmhc_response_parse(const char *name, int *out);
const char *pmhc_source_name(int source);
int pmhc_source_parse(const char *name, int *out);

#endif
