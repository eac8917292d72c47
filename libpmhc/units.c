#include "units.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "enums.h"
#include "pairhash.h"

#define K_PATROL PMHC__V1__UNIT_KIND__UNIT_PATROL
#define K_CIT PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER
#define K_COR PMHC__V1__UNIT_KIND__UNIT_CO_RESPONDER
#define K_MCT PMHC__V1__UNIT_KIND__UNIT_MOBILE_CRISIS
#define K_EMS PMHC__V1__UNIT_KIND__UNIT_EMS

/* How a summary read by a dispatcher names each kind; the enum names the rest. */
static const char *const kind_words[PMHC_UNIT_KINDS] = {
	[0] = "unit",
	[K_PATROL] = "patrol unit",
	[K_CIT] = "CIT officer",
	[K_COR] = "co-responder team",
	[K_MCT] = "mobile crisis team",
	[K_EMS] = "EMS unit",
};

const char *pmhc_unit_kind_words(int kind)
{
	return kind > 0 && kind < PMHC_UNIT_KINDS ? kind_words[kind] : "unit";
}

const char *pmhc_unit_kind_name(int kind)
{
	return pmhc_enum_name(&pmhc__v1__unit_kind__descriptor, kind);
}

int pmhc_unit_kind_parse(const char *name, int *out)
{
	return pmhc_enum_parse(&pmhc__v1__unit_kind__descriptor, name, out);
}

bool pmhc_unit_kind_is_police(int kind)
{
	return kind == K_PATROL || kind == K_CIT || kind == K_COR;
}

void pmhc_unit_policy_default(struct pmhc_unit_policy *p)
{
	memset(p, 0, sizeof *p);
	/*
	 * A mobile crisis team is a civilian response: it may become a co-responder team
	 * (a clinician still goes, with an officer), and otherwise goes unfilled. It never
	 * silently becomes CIT or patrol. CO_RESPONDER → CIT → PATROL and CIT → PATROL
	 * keep a police response a police response; EMS and PATROL have none.
	 */
	p->fallback[K_MCT][0] = K_COR;
	p->fallback[K_COR][0] = K_CIT;
	p->fallback[K_COR][1] = K_PATROL;
	p->fallback[K_CIT][0] = K_PATROL;
	p->max_status_age_ms = 12LL * 3600 * 1000;
	p->hold_ms = 120LL * 1000;
}

const int *pmhc_fallback_chain(const struct pmhc_unit_policy *p, int source, int kind)
{
	static const int none[PMHC_UNIT_KINDS] = { 0 };
	if (kind <= 0 || kind >= PMHC_UNIT_KINDS)
		return none;
	if (source >= 0 && source < PMHC_SOURCE_COUNT && p->by_source_set[source][kind])
		return p->by_source[source][kind];
	return p->fallback[kind];
}

size_t pmhc_units_needed(int response, int kinds[PMHC_NEEDS_MAX])
{
	switch (response) {
	case PMHC__V1__RESPONSE__RESPONSE_CIT: kinds[0] = K_CIT; return 1;
	case PMHC__V1__RESPONSE__RESPONSE_CIT_WITH_BACKUP:
		kinds[0] = K_CIT;
		kinds[1] = K_PATROL; /* the backup is always patrol */
		return 2;
	case PMHC__V1__RESPONSE__RESPONSE_CO_RESPONDER: kinds[0] = K_COR; return 1;
	case PMHC__V1__RESPONSE__RESPONSE_MOBILE_CRISIS: kinds[0] = K_MCT; return 1;
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT:
		kinds[0] = K_EMS;
		kinds[1] = K_CIT;
		return 2;
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_MOBILE_CRISIS:
		kinds[0] = K_EMS;
		kinds[1] = K_MCT;
		return 2;
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT_WITH_BACKUP:
		kinds[0] = K_EMS;
		kinds[1] = K_CIT;
		kinds[2] = K_PATROL; /* the backup is always patrol */
		return 3;
	default:
		/* STANDARD: the CAD's own rules pick patrol units for calls that are not MH.
		 * CALL_DIVERSION: the call stays on the phone with a crisis counselor. */
		return 0;
	}
}

double pmhc_distance_km(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371.0, rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	return 2 * r * asin(sqrt(a < 1 ? a : 1));
}

/* ---- the roster: units by (psap_id, unit_id) in an open-addressing index ---- */

struct pmhc_roster {
	struct pmhc_unit *units;
	size_t n, cap;
	uint32_t *slots; /* index + 1 into units; 0 = empty */
	size_t nslots;   /* a power of two, at most half full */
};

static size_t find_slot(const struct pmhc_roster *r, const char *psap, const char *unit)
{
	size_t mask = r->nslots - 1, i = (size_t)pmhc_pair_hash(psap, unit) & mask;
	for (;; i = (i + 1) & mask) {
		uint32_t s = r->slots[i];
		if (s == 0)
			return i;
		const struct pmhc_unit *u = &r->units[s - 1];
		if (strcmp(u->unit_id, unit) == 0 && strcmp(u->psap_id, psap) == 0)
			return i;
	}
}

static int grow_index(struct pmhc_roster *r)
{
	size_t n = r->nslots ? r->nslots * 2 : 64;
	uint32_t *slots = calloc(n, sizeof *slots);
	if (slots == NULL)
		return -1;
	free(r->slots);
	r->slots = slots;
	r->nslots = n;
	for (size_t i = 0; i < r->n; i++)
		r->slots[find_slot(r, r->units[i].psap_id, r->units[i].unit_id)] = (uint32_t)(i + 1);
	return 0;
}

struct pmhc_roster *pmhc_roster_new(void)
{
	struct pmhc_roster *r = calloc(1, sizeof *r);
	if (r != NULL && grow_index(r) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

void pmhc_roster_free(struct pmhc_roster *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct pmhc_unit *u = &r->units[i];
		free(u->psap_id);
		free(u->unit_id);
		free(u->beat);
		free(u->district);
		free(u->hold_call);
	}
	free(r->units);
	free(r->slots);
	free(r);
}

size_t pmhc_roster_size(const struct pmhc_roster *r)
{
	return r->n;
}

const struct pmhc_unit *pmhc_roster_find(const struct pmhc_roster *r, const char *psap_id, const char *unit_id)
{
	uint32_t s = r->slots[find_slot(r, psap_id, unit_id)];
	return s ? &r->units[s - 1] : NULL;
}

static void release(struct pmhc_unit *u)
{
	u->hold_until_ms = 0;
	free(u->hold_call);
	u->hold_call = NULL;
}

/* Replaces *slot with a copy of s; false when out of memory (slot unchanged). */
static bool set_str(char **slot, const char *s)
{
	if (*slot != NULL && strcmp(*slot, s) == 0)
		return true;
	char *c = strdup(s);
	if (c == NULL)
		return false;
	free(*slot);
	*slot = c;
	return true;
}

int pmhc_roster_apply(struct pmhc_roster *r, const Pmhc__V1__UnitStatus *st)
{
	size_t slot = find_slot(r, st->psap_id, st->unit_id);
	struct pmhc_unit *u;
	if (r->slots[slot] != 0) {
		u = &r->units[r->slots[slot] - 1];
		if (st->at_ms < u->at_ms)
			return 0; /* arrived out of order: what we have is newer */
		if (st->at_ms > u->at_ms)
			release(u);
	} else {
		if ((r->n + 1) * 2 > r->nslots) {
			if (grow_index(r) != 0)
				return -1;
			slot = find_slot(r, st->psap_id, st->unit_id);
		}
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			struct pmhc_unit *nu = realloc(r->units, cap * sizeof *nu);
			if (nu == NULL)
				return -1;
			r->units = nu;
			r->cap = cap;
		}
		u = &r->units[r->n];
		memset(u, 0, sizeof *u);
		u->psap_id = strdup(st->psap_id);
		u->unit_id = strdup(st->unit_id);
		if (u->psap_id == NULL || u->unit_id == NULL) {
			free(u->psap_id);
			free(u->unit_id);
			return -1;
		}
		r->slots[slot] = (uint32_t)(++r->n);
	}
	if (!set_str(&u->beat, st->beat) || !set_str(&u->district, st->district))
		return -1;
	u->kind = st->kind;
	u->state = st->state;
	u->at_ms = st->at_ms;
	u->lat = st->lat;
	u->lon = st->lon;
	return 1;
}

void pmhc_roster_release_call(struct pmhc_roster *r, const char *psap_id, const char *call_id)
{
	for (size_t i = 0; i < r->n; i++) {
		struct pmhc_unit *u = &r->units[i];
		if (u->hold_call && strcmp(u->hold_call, call_id) == 0 && strcmp(u->psap_id, psap_id) == 0)
			release(u);
	}
}

static bool names(char *const *ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

/* Whether a hold until `until` for call_id comes before the unit's own: earlier, then lower id. */
static bool hold_wins(const struct pmhc_unit *u, int64_t until, const char *call_id, int64_t decided_ms)
{
	if (u->hold_call == NULL || u->hold_until_ms <= decided_ms)
		return true; /* not held when this decision was taken */
	if (until != u->hold_until_ms)
		return until < u->hold_until_ms;
	return strcmp(call_id, u->hold_call) <= 0;
}

size_t pmhc_roster_learn_hold(struct pmhc_roster *r, const char *psap_id, const char *call_id, char *const *unit_ids,
			      size_t n_unit_ids, int64_t decided_at_ms, int64_t hold_ms)
{
	int64_t until = decided_at_ms + hold_ms;
	size_t held = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct pmhc_unit *u = &r->units[i];
		if (u->hold_call != NULL && strcmp(u->hold_call, call_id) == 0 && strcmp(u->psap_id, psap_id) == 0 &&
		    !names(unit_ids, n_unit_ids, u->unit_id))
			release(u); /* a later revision of the call no longer needs it */
	}
	for (size_t i = 0; i < n_unit_ids; i++) {
		uint32_t s = r->slots[find_slot(r, psap_id, unit_ids[i])];
		struct pmhc_unit *u = s ? &r->units[s - 1] : NULL;
		if (u == NULL || u->at_ms > decided_at_ms)
			continue; /* unknown here, or its status is newer than the decision */
		bool same = u->hold_call != NULL && strcmp(u->hold_call, call_id) == 0;
		if (!same && !hold_wins(u, until, call_id, decided_at_ms))
			continue;
		if (!set_str(&u->hold_call, call_id))
			continue; /* out of memory: the unit stays as it was */
		if (!same || until > u->hold_until_ms)
			u->hold_until_ms = until;
		held++;
	}
	return held;
}

/* ---- choice ---- */

struct call_view {
	const char *psap, *call_id, *beat, *district;
	bool has_pos;
	double lat, lon;
	int64_t oldest_ms; /* statuses older than this are too old to trust */
	int64_t now_ms;
};

static bool held_for(const struct pmhc_unit *u, const struct call_view *c)
{
	return u->hold_until_ms > c->now_ms && u->hold_call && strcmp(u->hold_call, c->call_id) == 0;
}

static bool candidate(const struct pmhc_unit *u, int kind, const struct call_view *c, const struct pmhc_choice *taken)
{
	if (u->kind != kind || u->state != PMHC__V1__UNIT_STATE__UNIT_AVAILABLE || u->at_ms < c->oldest_ms ||
	    strcmp(u->psap_id, c->psap) != 0)
		return false;
	if (u->hold_until_ms > c->now_ms && !held_for(u, c))
		return false; /* recommended for another call moments ago */
	for (size_t i = 0; i < taken->n; i++)
		if (taken->picks[i].unit_id == u->unit_id)
			return false;
	return true;
}

static bool unit_has_pos(const struct pmhc_unit *u)
{
	return !(u->lat == 0 && u->lon == 0);
}

/* Whether a ranks before b (SPEC section 4: beat, district, distance, longest available, id). */
static bool ranks_before(const struct pmhc_unit *a, double da, const struct pmhc_unit *b, double db,
			 const struct call_view *c)
{
	if (c->beat[0]) {
		bool sa = strcmp(a->beat, c->beat) == 0, sb = strcmp(b->beat, c->beat) == 0;
		if (sa != sb)
			return sa;
	}
	if (c->district[0]) {
		bool sa = strcmp(a->district, c->district) == 0, sb = strcmp(b->district, c->district) == 0;
		if (sa != sb)
			return sa;
	}
	if (c->has_pos) {
		bool pa = unit_has_pos(a), pb = unit_has_pos(b);
		if (pa != pb)
			return pa;
		if (pa && da != db)
			return da < db;
	}
	if (a->at_ms != b->at_ms)
		return a->at_ms < b->at_ms;
	return strcmp(a->unit_id, b->unit_id) < 0;
}

static struct pmhc_unit *best_of_kind(struct pmhc_roster *r, int kind, const struct call_view *c,
				      const struct pmhc_choice *taken)
{
	/* A unit already held for this call (an earlier revision) keeps it if it still fits. */
	for (size_t i = 0; i < r->n; i++)
		if (held_for(&r->units[i], c) && candidate(&r->units[i], kind, c, taken))
			return &r->units[i];

	struct pmhc_unit *best = NULL;
	double best_d = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct pmhc_unit *u = &r->units[i];
		if (!candidate(u, kind, c, taken))
			continue;
		double d = c->has_pos && unit_has_pos(u) ? pmhc_distance_km(c->lat, c->lon, u->lat, u->lon) : 0;
		if (best == NULL || ranks_before(u, d, best, best_d, c)) {
			best = u;
			best_d = d;
		}
	}
	return best;
}

void pmhc_units_choose(struct pmhc_roster *r, const struct pmhc_unit_policy *pol, const Pmhc__V1__CallEvent *call,
		       int response, int64_t now_ms, struct pmhc_choice *out)
{
	const Pmhc__V1__Location *loc = call->location;
	struct call_view c = {
		.psap = call->psap_id,
		.call_id = call->call_id,
		.beat = loc ? loc->beat : "",
		.district = loc ? loc->district : "",
		.has_pos = loc && !(loc->lat == 0 && loc->lon == 0),
		.lat = loc ? loc->lat : 0,
		.lon = loc ? loc->lon : 0,
		.oldest_ms = call->received_at_ms - pol->max_status_age_ms,
		.now_ms = now_ms,
	};
	int needs[PMHC_NEEDS_MAX];
	size_t n = pmhc_units_needed(response, needs);
	struct pmhc_unit *chosen[PMHC_NEEDS_MAX] = { NULL };

	out->n = 0;
	out->fallback_used = false;
	for (size_t i = 0; i < n; i++) {
		struct pmhc_pick *p = &out->picks[out->n++];
		p->need = needs[i];
		p->got = 0;
		p->unit_id = NULL;
		struct pmhc_unit *u = best_of_kind(r, needs[i], &c, out);
		int got = u ? needs[i] : 0;
		const int *chain = pmhc_fallback_chain(pol, (int)call->source, needs[i]);
		for (size_t f = 0; u == NULL && f < PMHC_UNIT_KINDS && chain[f]; f++) {
			u = best_of_kind(r, chain[f], &c, out);
			got = chain[f];
		}
		if (u == NULL) {
			out->fallback_used = true;
			continue;
		}
		if (got != needs[i])
			out->fallback_used = true;
		p->got = got;
		p->unit_id = u->unit_id;
		chosen[i] = u;
	}

	/* Units this call held from an earlier revision but no longer needs go back to the pool. */
	for (size_t i = 0; i < r->n; i++) {
		struct pmhc_unit *u = &r->units[i];
		if (!held_for(u, &c))
			continue;
		bool kept = false;
		for (size_t k = 0; k < n && !kept; k++)
			kept = chosen[k] == u;
		if (!kept)
			release(u);
	}
	for (size_t k = 0; k < n; k++) {
		struct pmhc_unit *u = chosen[k];
		if (u == NULL)
			continue;
		if (!held_for(u, &c) && !set_str(&u->hold_call, call->call_id))
			continue; /* out of memory: recommended, just not held */
		u->hold_until_ms = now_ms + pol->hold_ms;
	}
}
