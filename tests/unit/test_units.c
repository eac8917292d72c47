/* Unit choice (SPEC section 4): candidates, ranking, fallbacks, holds. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "suites.h"
#include "units.h"

#define T0 1763870400000LL /* the call's received_at_ms */
#define NOW (T0 + 1000)    /* wall clock at decision time */
#define PATROL PMHC__V1__UNIT_KIND__UNIT_PATROL
#define CIT PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER
#define COR PMHC__V1__UNIT_KIND__UNIT_CO_RESPONDER
#define MCT PMHC__V1__UNIT_KIND__UNIT_MOBILE_CRISIS
#define EMS PMHC__V1__UNIT_KIND__UNIT_EMS
#define AVAIL PMHC__V1__UNIT_STATE__UNIT_AVAILABLE
#define BUSY PMHC__V1__UNIT_STATE__UNIT_DISPATCHED

static struct pmhc_roster *roster;
static struct pmhc_unit_policy policy;
static struct fixture_call call;

static void setup(void)
{
	roster = pmhc_roster_new();
	pmhc_unit_policy_default(&policy);
	fixture_call_init(&call);
	call.call.received_at_ms = T0;
	call.location.beat = (char *)"52-3";
	call.location.district = (char *)"52";
	call.location.lat = 43.6525;
	call.location.lon = -79.3839;
}

static void teardown(void)
{
	pmhc_roster_free(roster);
}

static int status(const char *id, int kind, int state, int64_t at, const char *beat, const char *district, double lat,
		  double lon)
{
	Pmhc__V1__UnitStatus st = PMHC__V1__UNIT_STATUS__INIT;
	st.unit_id = (char *)id;
	st.psap_id = (char *)"PSAP-A";
	st.kind = kind;
	st.state = state;
	st.at_ms = at;
	st.beat = (char *)beat;
	st.district = (char *)district;
	st.lat = lat;
	st.lon = lon;
	return pmhc_roster_apply(roster, &st);
}

static void choose(int response, int64_t now, struct pmhc_choice *out)
{
	pmhc_units_choose(roster, &policy, &call.call, response, now, out);
}

#define R_CIT PMHC__V1__RESPONSE__RESPONSE_CIT
#define R_CITB PMHC__V1__RESPONSE__RESPONSE_CIT_WITH_BACKUP
#define R_COR PMHC__V1__RESPONSE__RESPONSE_CO_RESPONDER
#define R_MCT PMHC__V1__RESPONSE__RESPONSE_MOBILE_CRISIS
#define R_EMS PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT
#define R_STD PMHC__V1__RESPONSE__RESPONSE_STANDARD
#define R_DIV PMHC__V1__RESPONSE__RESPONSE_CALL_DIVERSION
#define R_EMSM PMHC__V1__RESPONSE__RESPONSE_EMS_AND_MOBILE_CRISIS
#define R_EMSB PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT_WITH_BACKUP

START_TEST(test_needs_per_response)
{
	int k[PMHC_NEEDS_MAX];
	ck_assert_uint_eq(pmhc_units_needed(R_STD, k), 0);
	ck_assert_uint_eq(pmhc_units_needed(R_CIT, k), 1);
	ck_assert_int_eq(k[0], CIT);
	ck_assert_uint_eq(pmhc_units_needed(R_CITB, k), 2);
	ck_assert_int_eq(k[0], CIT);
	ck_assert_int_eq(k[1], PATROL);
	ck_assert_uint_eq(pmhc_units_needed(R_COR, k), 1);
	ck_assert_int_eq(k[0], COR);
	ck_assert_uint_eq(pmhc_units_needed(R_MCT, k), 1);
	ck_assert_int_eq(k[0], MCT);
	ck_assert_uint_eq(pmhc_units_needed(R_EMS, k), 2);
	ck_assert_int_eq(k[0], EMS);
	ck_assert_int_eq(k[1], CIT);
	/* The call stays on the phone: no unit at all. */
	ck_assert_uint_eq(pmhc_units_needed(R_DIV, k), 0);
	ck_assert_uint_eq(pmhc_units_needed(R_EMSM, k), 2);
	ck_assert_int_eq(k[0], EMS);
	ck_assert_int_eq(k[1], MCT);
	ck_assert_uint_eq(pmhc_units_needed(R_EMSB, k), 3);
	ck_assert_int_eq(k[0], EMS);
	ck_assert_int_eq(k[1], CIT);
	ck_assert_int_eq(k[2], PATROL);
}
END_TEST

START_TEST(test_same_beat_beats_distance)
{
	status("CIT-NEAR", CIT, AVAIL, T0, "51-1", "52", 43.6526, -79.3840);
	status("CIT-BEAT", CIT, AVAIL, T0, "52-3", "52", 43.75, -79.50);
	struct pmhc_choice c;
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-BEAT");
	ck_assert(!c.fallback_used);
}
END_TEST

START_TEST(test_same_district_second)
{
	status("CIT-NEAR", CIT, AVAIL, T0, "14-1", "14", 43.6526, -79.3840);
	status("CIT-DIST", CIT, AVAIL, T0, "52-1", "52", 43.75, -79.50);
	struct pmhc_choice c;
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-DIST");
}
END_TEST

START_TEST(test_empty_beat_matches_nothing)
{
	call.location.beat = (char *)"";
	call.location.district = (char *)"";
	status("CIT-FAR", CIT, AVAIL, T0, "", "", 43.75, -79.50);
	status("CIT-NEAR", CIT, AVAIL, T0, "52-3", "52", 43.6530, -79.3845);
	struct pmhc_choice c;
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-NEAR");
}
END_TEST

START_TEST(test_nearest_then_unknown_positions_last)
{
	status("CIT-NOPOS", CIT, AVAIL, T0 - 99999, "9", "9", 0, 0);
	status("CIT-2KM", CIT, AVAIL, T0, "9", "9", 43.6705, -79.3839);
	status("CIT-1KM", CIT, AVAIL, T0, "9", "9", 43.6615, -79.3839);
	struct pmhc_choice c;
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-1KM");
	call.call.call_id = (char *)"C-2"; /* another call: CIT-1KM is held for C-1 */
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-2KM");
	call.call.call_id = (char *)"C-3";
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-NOPOS");
}
END_TEST

START_TEST(test_call_without_position_ranks_by_time_available)
{
	call.location.lat = call.location.lon = 0;
	call.location.beat = call.location.district = (char *)"";
	status("CIT-NEW", CIT, AVAIL, T0 - 1000, "", "", 43.6525, -79.3839);
	status("CIT-OLD", CIT, AVAIL, T0 - 5000, "", "", 44.0, -80.0);
	struct pmhc_choice c;
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-OLD");
}
END_TEST

START_TEST(test_ties_go_to_unit_id_byte_order)
{
	status("CIT-b", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	status("CIT-B", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	status("CIT-a", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	struct pmhc_choice c;
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-B"); /* 'B' (0x42) before 'a' (0x61) */
}
END_TEST

START_TEST(test_only_available_fresh_units_of_the_psap)
{
	status("CIT-BUSY", CIT, BUSY, T0, "52-3", "52", 43.6525, -79.3839);
	status("CIT-STALE", CIT, AVAIL, T0 - 12LL * 3600 * 1000 - 1, "52-3", "52", 43.6525, -79.3839);
	Pmhc__V1__UnitStatus other = PMHC__V1__UNIT_STATUS__INIT;
	other.unit_id = (char *)"CIT-OTHER";
	other.psap_id = (char *)"PSAP-B";
	other.kind = CIT;
	other.state = AVAIL;
	other.at_ms = T0;
	pmhc_roster_apply(roster, &other);
	status("CIT-OK", CIT, AVAIL, T0 - 12LL * 3600 * 1000, "1", "1", 45, -75);
	struct pmhc_choice c;
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-OK"); /* exactly 12 h old is still fine */
}
END_TEST

START_TEST(test_fallback_chain)
{
	status("P-12", PATROL, AVAIL, T0, "52-3", "52", 0, 0);
	status("CIT-9", CIT, AVAIL, T0, "14-1", "14", 0, 0);
	struct pmhc_choice c;
	/* A co-responder need goes on to a CIT officer. */
	choose(R_COR, NOW, &c);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_int_eq(c.picks[0].need, COR);
	ck_assert_int_eq(c.picks[0].got, CIT);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-9");
	ck_assert(c.fallback_used);
	/* CIT-9 is held for C-1 now: another call's CIT need falls back to patrol. */
	call.call.call_id = (char *)"C-2";
	choose(R_CIT, NOW, &c);
	ck_assert_int_eq(c.picks[0].got, PATROL);
	ck_assert_str_eq(c.picks[0].unit_id, "P-12");
}
END_TEST

/* A mobile crisis team never silently becomes police: co-responder at most, then unfilled. */
START_TEST(test_mobile_crisis_never_becomes_cit_or_patrol)
{
	status("P-12", PATROL, AVAIL, T0, "52-3", "52", 0, 0);
	status("CIT-9", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	struct pmhc_choice c;
	for (int src = 0; src < PMHC_SOURCE_COUNT; src++) {
		call.call.source = (Pmhc__V1__CallSource)src;
		choose(R_MCT, NOW, &c);
		ck_assert_uint_eq(c.n, 1);
		ck_assert_int_eq(c.picks[0].got, 0);
		ck_assert_ptr_null(c.picks[0].unit_id);
		ck_assert(c.fallback_used);
		choose(R_EMSM, NOW, &c);
		ck_assert_ptr_null(c.picks[1].unit_id);
	}
	status("COR-2", COR, AVAIL, T0, "14-1", "14", 0, 0);
	choose(R_MCT, NOW, &c);
	ck_assert_int_eq(c.picks[0].got, COR);
	ck_assert_str_eq(c.picks[0].unit_id, "COR-2");
}
END_TEST

/* A chain set for a source replaces the kind's chain for calls from it, and only for them. */
START_TEST(test_fallback_chain_per_source)
{
	status("COR-2", COR, AVAIL, T0, "52-3", "52", 0, 0);
	status("P-1", PATROL, AVAIL, T0, "52-3", "52", 0, 0);
	int s988 = PMHC__V1__CALL_SOURCE__SOURCE_988, stext = PMHC__V1__CALL_SOURCE__SOURCE_TEXT;
	/* 988: no fallback at all for a mobile crisis team. */
	policy.by_source_set[s988][MCT] = true;
	/* Text-to-911: a CIT need may become a co-responder team, never patrol. */
	policy.by_source_set[stext][CIT] = true;
	policy.by_source[stext][CIT][0] = COR;
	ck_assert_ptr_eq(pmhc_fallback_chain(&policy, s988, MCT), policy.by_source[s988][MCT]);
	ck_assert_ptr_eq(pmhc_fallback_chain(&policy, 1, MCT), policy.fallback[MCT]);
	ck_assert_ptr_eq(pmhc_fallback_chain(&policy, 99, MCT), policy.fallback[MCT]);
	ck_assert_int_eq(pmhc_fallback_chain(&policy, 1, 0)[0], 0);

	struct pmhc_choice c;
	call.call.source = PMHC__V1__CALL_SOURCE__SOURCE_988;
	choose(R_MCT, NOW, &c);
	ck_assert_ptr_null(c.picks[0].unit_id);
	call.call.source = PMHC__V1__CALL_SOURCE__SOURCE_911;
	choose(R_MCT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "COR-2");
	call.call.call_id = (char *)"C-2";
	call.call.source = PMHC__V1__CALL_SOURCE__SOURCE_TEXT;
	choose(R_CIT, NOW, &c);
	ck_assert_ptr_null(c.picks[0].unit_id); /* COR-2 is held for C-1, and patrol is not in this chain */
	call.call.source = PMHC__V1__CALL_SOURCE__SOURCE_911;
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "P-1");
}
END_TEST

START_TEST(test_ems_cit_with_backup_takes_three)
{
	status("EMS-4", EMS, AVAIL, T0, "52-3", "52", 0, 0);
	status("CIT-1", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	status("P-1", PATROL, AVAIL, T0, "52-3", "52", 0, 0);
	struct pmhc_choice c;
	choose(R_EMSB, NOW, &c);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_str_eq(c.picks[0].unit_id, "EMS-4");
	ck_assert_str_eq(c.picks[1].unit_id, "CIT-1");
	ck_assert_str_eq(c.picks[2].unit_id, "P-1");
	ck_assert(!c.fallback_used);
	choose(R_DIV, NOW, &c);
	ck_assert_uint_eq(c.n, 0);
	ck_assert(!c.fallback_used);
}
END_TEST

START_TEST(test_ems_has_no_fallback)
{
	status("P-1", PATROL, AVAIL, T0, "52-3", "52", 0, 0);
	status("CIT-1", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	struct pmhc_choice c;
	choose(R_EMS, NOW, &c);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_int_eq(c.picks[0].need, EMS);
	ck_assert_int_eq(c.picks[0].got, 0);
	ck_assert_ptr_null(c.picks[0].unit_id);
	ck_assert_str_eq(c.picks[1].unit_id, "CIT-1");
	ck_assert(c.fallback_used);
}
END_TEST

START_TEST(test_backup_is_another_unit)
{
	status("P-1", PATROL, AVAIL, T0, "52-3", "52", 0, 0);
	status("P-2", PATROL, AVAIL, T0, "52-3", "52", 0, 0);
	struct pmhc_choice c;
	/* No CIT officer: the CIT need falls back to patrol, and the backup is a second patrol. */
	choose(R_CITB, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "P-1");
	ck_assert_str_eq(c.picks[1].unit_id, "P-2");
	ck_assert(c.fallback_used);
	struct pmhc_choice c2;
	call.call.call_id = (char *)"C-2";
	choose(R_CITB, NOW, &c2);
	ck_assert_ptr_null(c2.picks[0].unit_id); /* both held for C-1 */
	ck_assert_ptr_null(c2.picks[1].unit_id);
}
END_TEST

START_TEST(test_learned_holds)
{
	status("CIT-1", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	status("CIT-2", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	char *one[] = { (char *)"CIT-1" }, *two[] = { (char *)"CIT-2" }, *ghost[] = { (char *)"CIT-9" };
	struct pmhc_choice c;

	/* Another instance sent CIT-1 to C-9: this one must not send it to C-1. */
	ck_assert_uint_eq(pmhc_roster_learn_hold(roster, "PSAP-A", "C-9", one, 1, NOW, policy.hold_ms), 1);
	choose(R_CIT, NOW + 5, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-2");

	/* A later revision of C-9 took CIT-2 instead: CIT-1 is free again, CIT-2 stays with C-1. */
	ck_assert_uint_eq(pmhc_roster_learn_hold(roster, "PSAP-A", "C-9", two, 1, NOW + 10, policy.hold_ms), 0);
	ck_assert_int_eq(pmhc_roster_find(roster, "PSAP-A", "CIT-1")->hold_until_ms, 0);
	ck_assert_str_eq(pmhc_roster_find(roster, "PSAP-A", "CIT-2")->hold_call, "C-1");

	/* Two instances took one unit in the same moment: the earlier decision keeps it. */
	ck_assert_uint_eq(pmhc_roster_learn_hold(roster, "PSAP-A", "C-8", two, 1, NOW + 1, policy.hold_ms), 1);
	ck_assert_str_eq(pmhc_roster_find(roster, "PSAP-A", "CIT-2")->hold_call, "C-8");
	ck_assert_uint_eq(pmhc_roster_learn_hold(roster, "PSAP-A", "C-7", two, 1, NOW + 2, policy.hold_ms), 0);
	ck_assert_str_eq(pmhc_roster_find(roster, "PSAP-A", "CIT-2")->hold_call, "C-8");
	/* At the same moment, the lower call id. */
	ck_assert_uint_eq(pmhc_roster_learn_hold(roster, "PSAP-A", "C-0", two, 1, NOW + 1, policy.hold_ms), 1);
	ck_assert_str_eq(pmhc_roster_find(roster, "PSAP-A", "CIT-2")->hold_call, "C-0");

	/* A unit this instance does not know, or whose status is newer, is not held. */
	ck_assert_uint_eq(pmhc_roster_learn_hold(roster, "PSAP-A", "C-6", ghost, 1, NOW, policy.hold_ms), 0);
	status("CIT-1", CIT, AVAIL, NOW + 50, "52-3", "52", 0, 0);
	ck_assert_uint_eq(pmhc_roster_learn_hold(roster, "PSAP-A", "C-5", one, 1, NOW + 40, policy.hold_ms), 0);
	ck_assert_int_eq(pmhc_roster_find(roster, "PSAP-A", "CIT-1")->hold_until_ms, 0);

	/* Another PSAP's unit of the same id is another unit. */
	ck_assert_uint_eq(pmhc_roster_learn_hold(roster, "PSAP-B", "C-4", one, 1, NOW + 60, policy.hold_ms), 0);
}
END_TEST

START_TEST(test_holds_expire_and_release)
{
	status("CIT-1", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	struct pmhc_choice c;
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-1");

	call.call.call_id = (char *)"C-2";
	choose(R_CIT, NOW + 119999, &c);
	ck_assert_ptr_null(c.picks[0].unit_id); /* held for C-1 */
	choose(R_CIT, NOW + 120000, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-1"); /* hold ran out; now held for C-2 */

	/* A newer status for the unit ends the hold at once. */
	call.call.call_id = (char *)"C-3";
	choose(R_CIT, NOW + 120001, &c);
	ck_assert_ptr_null(c.picks[0].unit_id);
	ck_assert_int_eq(status("CIT-1", CIT, AVAIL, T0 + 1, "52-3", "52", 0, 0), 1);
	choose(R_CIT, NOW + 120002, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-1");

	/* The call's disposition ends it too. */
	call.call.call_id = (char *)"C-4";
	choose(R_CIT, NOW + 120003, &c);
	ck_assert_ptr_null(c.picks[0].unit_id);
	pmhc_roster_release_call(roster, "PSAP-A", "C-3");
	choose(R_CIT, NOW + 120004, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-1");
}
END_TEST

START_TEST(test_new_revision_keeps_its_units)
{
	status("COR-1", COR, AVAIL, T0, "52-3", "52", 0, 0);
	struct pmhc_choice c;
	choose(R_COR, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "COR-1");
	/* A better-placed team frees up; the call's next revision still keeps COR-1. */
	status("COR-0", COR, AVAIL, T0 - 9000, "52-3", "52", 0, 0);
	call.call.revision = 2;
	choose(R_COR, NOW + 5000, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "COR-1");
	/* Rev 3 escalates to CIT with backup: COR-1 no longer fits and goes back to the pool. */
	status("CIT-1", CIT, AVAIL, T0, "52-3", "52", 0, 0);
	status("P-1", PATROL, AVAIL, T0, "52-3", "52", 0, 0);
	call.call.revision = 3;
	choose(R_CITB, NOW + 6000, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-1");
	ck_assert_str_eq(c.picks[1].unit_id, "P-1");
	call.call.call_id = (char *)"C-2";
	choose(R_COR, NOW + 7000, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "COR-0");
	call.call.call_id = (char *)"C-3";
	choose(R_COR, NOW + 7000, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "COR-1"); /* released by C-1's revision 3 */
}
END_TEST

START_TEST(test_statuses_out_of_order)
{
	ck_assert_int_eq(status("CIT-1", CIT, BUSY, T0 + 10, "52-3", "52", 0, 0), 1);
	/* An older AVAILABLE arriving late must not bring the unit back. */
	ck_assert_int_eq(status("CIT-1", CIT, AVAIL, T0 + 5, "52-3", "52", 0, 0), 0);
	struct pmhc_choice c;
	choose(R_CIT, NOW, &c);
	ck_assert_ptr_null(c.picks[0].unit_id);
	/* Equal at_ms: the later arrival wins. */
	ck_assert_int_eq(status("CIT-1", CIT, AVAIL, T0 + 10, "52-3", "52", 0, 0), 1);
	choose(R_CIT, NOW, &c);
	ck_assert_str_eq(c.picks[0].unit_id, "CIT-1");
	ck_assert_uint_eq(pmhc_roster_size(roster), 1);
	ck_assert_int_eq(pmhc_roster_find(roster, "PSAP-A", "CIT-1")->at_ms, T0 + 10);
}
END_TEST

START_TEST(test_standard_needs_nothing)
{
	status("P-1", PATROL, AVAIL, T0, "52-3", "52", 0, 0);
	struct pmhc_choice c;
	choose(R_STD, NOW, &c);
	ck_assert_uint_eq(c.n, 0);
	ck_assert(!c.fallback_used);
}
END_TEST

START_TEST(test_haversine)
{
	/* One degree of latitude is 6371·π/180 km. */
	ck_assert_double_eq_tol(pmhc_distance_km(0, 0, 1, 0), 6371.0 * M_PI / 180.0, 1e-9);
	/* A quarter of the equator, and pole to equator, are R·π/2. */
	ck_assert_double_eq_tol(pmhc_distance_km(0, 0, 0, 90), 6371.0 * M_PI / 2, 1e-9);
	ck_assert_double_eq_tol(pmhc_distance_km(90, 0, 0, 123), 6371.0 * M_PI / 2, 1e-9);
	/* Symmetric, and across the antimeridian the short way. */
	ck_assert_double_eq_tol(pmhc_distance_km(43.65, -79.38, 45.50, -73.55),
				pmhc_distance_km(45.50, -73.55, 43.65, -79.38), 1e-9);
	ck_assert_double_eq_tol(pmhc_distance_km(0, 179.5, 0, -179.5), 6371.0 * M_PI / 180.0, 1e-9);
	ck_assert_double_eq_tol(pmhc_distance_km(10, 20, 10, 20), 0, 1e-12);
}
END_TEST

START_TEST(test_many_units_grow_the_index)
{
	char id[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "P-%d", i);
		ck_assert_int_eq(status(id, PATROL, AVAIL, T0 - i, "x", "y", 0, 0), 1);
	}
	ck_assert_uint_eq(pmhc_roster_size(roster), 5000);
	ck_assert_ptr_nonnull(pmhc_roster_find(roster, "PSAP-A", "P-4321"));
	ck_assert_ptr_null(pmhc_roster_find(roster, "PSAP-B", "P-4321"));
	struct pmhc_choice c;
	choose(R_CITB, NOW, &c); /* longest available patrols first */
	ck_assert_str_eq(c.picks[0].unit_id, "P-4999");
	ck_assert_str_eq(c.picks[1].unit_id, "P-4998");
}
END_TEST

Suite *suite_units(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("units");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_needs_per_response);
	tcase_add_test(tc, test_same_beat_beats_distance);
	tcase_add_test(tc, test_same_district_second);
	tcase_add_test(tc, test_empty_beat_matches_nothing);
	tcase_add_test(tc, test_nearest_then_unknown_positions_last);
	tcase_add_test(tc, test_call_without_position_ranks_by_time_available);
	tcase_add_test(tc, test_ties_go_to_unit_id_byte_order);
	tcase_add_test(tc, test_only_available_fresh_units_of_the_psap);
	tcase_add_test(tc, test_fallback_chain);
	tcase_add_test(tc, test_mobile_crisis_never_becomes_cit_or_patrol);
	tcase_add_test(tc, test_fallback_chain_per_source);
	tcase_add_test(tc, test_ems_cit_with_backup_takes_three);
	tcase_add_test(tc, test_ems_has_no_fallback);
	tcase_add_test(tc, test_backup_is_another_unit);
	tcase_add_test(tc, test_holds_expire_and_release);
	tcase_add_test(tc, test_learned_holds);
	tcase_add_test(tc, test_new_revision_keeps_its_units);
	tcase_add_test(tc, test_statuses_out_of_order);
	tcase_add_test(tc, test_standard_needs_nothing);
	tcase_add_test(tc, test_haversine);
	tcase_add_test(tc, test_many_units_grow_the_index);
	suite_add_tcase(s, tc);
	return s;
}
