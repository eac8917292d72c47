/*
 * The standardized screening flags of SPEC section 2. The set is fixed: a center
 * configures what raises a flag, never which flags exist.
 */
#ifndef PMHC_FLAGS_H
#define PMHC_FLAGS_H

#include <stdint.h>

enum pmhc_flag {
	PMHC_F_MH,
	PMHC_F_SUD,
	PMHC_F_WEAPON,
	PMHC_F_VIOLENCE,
	PMHC_F_SELF_HARM,
	PMHC_F_HISTORY_VIOLENCE,
	PMHC_F_VICTIM_RISK,
	PMHC_F_OFF_MEDS,
	PMHC_F_MEDICAL,
	PMHC_F_PREMISE_MH,
	PMHC_F_PREMISE_VIOLENCE,
	PMHC_FLAG_COUNT
};

/* One bit per flag; 11 of 16 used. Widen together with PMHC_FLAG_COUNT. */
typedef uint16_t pmhc_flagset;
_Static_assert(PMHC_FLAG_COUNT <= 16, "pmhc_flagset is too narrow for the flags");
#define PMHC_BIT(f) ((pmhc_flagset)(1u << (f)))
#define PMHC_ALL_FLAGS ((pmhc_flagset)((1u << PMHC_FLAG_COUNT) - 1u))

/* "MH", "WEAPON", ... as on the wire and in the database. */
const char *pmhc_flag_name(enum pmhc_flag flag);
/* Plain words for a dispatcher: "weapon reported", "danger to self". */
const char *pmhc_flag_words(enum pmhc_flag flag);
/* Exact, case-sensitive: flags are identifiers, not free text. 0 or -1. */
int pmhc_flag_parse(const char *name, enum pmhc_flag *out);

#endif
