/*
 * Who goes (SPEC section 4): the live roster of units from cad.units, the
 * units each response needs, candidates, the lexicographic ranking, fallback
 * chains and holds. Pure: no I/O and no clock — time is passed in.
 */
#ifndef PMHC_UNITS_H
#define PMHC_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmhc.pb-c.h"

/* UnitKind numbers of the wire contract. */
#define PMHC_UNIT_KINDS 6
/* The most units a response needs: EMS_AND_CIT_WITH_BACKUP needs three. */
#define PMHC_NEEDS_MAX 3
/* Source numbers are the CallSource enum of the wire contract. */
#define PMHC_SOURCE_COUNT 6

struct pmhc_unit {
	char *psap_id, *unit_id; /* never change once the unit is known */
	int kind, state;
	int64_t at_ms;
	char *beat, *district; /* "" when the CAD gave none */
	double lat, lon;       /* 0,0 = unknown */
	int64_t hold_until_ms; /* wall clock; 0 = not held */
	char *hold_call;       /* call_id it is held for (same PSAP) */
};

/*
 * What unit choice may be configured with: per needed kind, the kinds to try
 * in order when none of it is free (0-terminated), how old a status may be,
 * and how long a recommended unit is held. A chain set for a call source
 * (by_source_set) replaces the kind's chain for calls from that source; an
 * empty one means no fallback for them.
 */
struct pmhc_unit_policy {
	int fallback[PMHC_UNIT_KINDS][PMHC_UNIT_KINDS];
	bool by_source_set[PMHC_SOURCE_COUNT][PMHC_UNIT_KINDS];
	int by_source[PMHC_SOURCE_COUNT][PMHC_UNIT_KINDS][PMHC_UNIT_KINDS];
	int64_t max_status_age_ms;
	int64_t hold_ms;
};

/* The chain walked for a need of kind on a call from source (0-terminated). */
const int *pmhc_fallback_chain(const struct pmhc_unit_policy *p, int source, int kind);

void pmhc_unit_policy_default(struct pmhc_unit_policy *p);

struct pmhc_roster;

struct pmhc_roster *pmhc_roster_new(void);
void pmhc_roster_free(struct pmhc_roster *r);
size_t pmhc_roster_size(const struct pmhc_roster *r);

/*
 * Applies one status. The newest by at_ms is current; on equal at_ms the later
 * arrival wins. A strictly newer status ends the unit's hold. Returns 1 when
 * it became current, 0 when older than what is known, -1 when out of memory.
 */
int pmhc_roster_apply(struct pmhc_roster *r, const Pmhc__V1__UnitStatus *st);
const struct pmhc_unit *pmhc_roster_find(const struct pmhc_roster *r, const char *psap_id, const char *unit_id);

/* The call's disposition arrived: its units are no longer held. */
void pmhc_roster_release_call(struct pmhc_roster *r, const char *psap_id, const char *call_id);

/*
 * Another instance recommended UNIT_IDS for the call at decided_at_ms: hold them
 * here too, until decided_at_ms + hold_ms, and let go of units held here for that
 * call that its newest recommendation no longer names. Every instance settles the
 * same way when two recommended one unit to two calls: the earlier decision keeps it
 * (then the lower call_id). A unit whose status is newer than the decision is not
 * held: it has moved on. Returns how many units are now held for the call.
 */
size_t pmhc_roster_learn_hold(struct pmhc_roster *r, const char *psap_id, const char *call_id, char *const *unit_ids,
			      size_t n_unit_ids, int64_t decided_at_ms, int64_t hold_ms);

struct pmhc_pick {
	int need;            /* the UnitKind the response needs */
	int got;             /* the kind found: need, a fallback kind, or 0 = nothing free */
	const char *unit_id; /* NULL when unfilled; valid as long as the roster */
};

struct pmhc_choice {
	struct pmhc_pick picks[PMHC_NEEDS_MAX];
	size_t n;
	bool fallback_used; /* a need was filled by another kind, or not at all */
};

/* The kinds a Response needs, in order; returns how many (0 for STANDARD). */
size_t pmhc_units_needed(int response, int kinds[PMHC_NEEDS_MAX]);

/*
 * Chooses units for the call's response, holds them until now_ms + hold_ms,
 * and lets go of units held for an earlier revision of this call that are no
 * longer chosen. now_ms is wall-clock time.
 */
void pmhc_units_choose(struct pmhc_roster *r, const struct pmhc_unit_policy *pol, const Pmhc__V1__CallEvent *call,
		       int response, int64_t now_ms, struct pmhc_choice *out);

/* Great-circle distance in km (haversine, R = 6371 km). */
double pmhc_distance_km(double lat1, double lon1, double lat2, double lon2);

/* Whether a kind of unit brings a police officer: patrol, CIT, co-responder. */
bool pmhc_unit_kind_is_police(int kind);
/* "CIT officer", "patrol unit", ... for a dispatcher's sentence. */
const char *pmhc_unit_kind_words(int kind);
/* "CIT_OFFICER", "PATROL", ... as in the config file. */
const char *pmhc_unit_kind_name(int kind);
int pmhc_unit_kind_parse(const char *name, int *out);

#endif
