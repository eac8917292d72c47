/*
 * The report's queries. Every one reads an analyst view (what pmhc_analyst is
 * granted), filtered to one PSAP, inside one read-only REPEATABLE READ
 * transaction: all the figures of a report come from the same snapshot, so its
 * charts and tables agree with each other even while pmhcd writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/*
 * $1 PSAP, $2 $3 baseline, $4 $5 current (local dates, end excluded). The charts by
 * month show the months from the earlier period's start to the later one's end: what
 * the workgroup compares, and at ten years of history a tenth of the reading.
 * Every bound is a date, compared with the views' month by date >= date: the views
 * are security barriers, and PostgreSQL pushes into them only leakproof conditions.
 * date_trunc() gives a timestamp, and date >= timestamp is not leakproof: left so,
 * the bound was applied after each view had read all ten years (12 s at 10,000,000
 * calls, bench/report.sh).
 */
#define SPAN_MONTHS                                                                                                    \
	" month >= date_trunc('month', least($2::date, $4::date))::date AND month < greatest($3::date, $5::date)"
/* The current period's months. */
#define CURRENT_MONTHS " month >= date_trunc('month', $4::date)::date AND month < $5::date"
/*
 * A figure over several months of a view an analyst reads by month: the sum of its
 * monthly cells, NULL when any is withheld (migrations 013 and 015), so that it
 * tells nothing the monthly cells do not.
 */
#define SUM_SHOWN(c) " CASE WHEN bool_and(" c " IS NOT NULL) THEN sum(" c ") END"
static const char *const queries[RQ_N] = {
	[RQ_MONTHS] = "SELECT to_char(month, 'YYYY-MM'), mh_calls, with_outcome, connected, connected_rate, arrests,"
		      " arrest_rate, use_of_force, use_of_force_rate, involuntary_holds, involuntary_hold_rate,"
		      " repeat_calls, repeat_subjects, month >= $2::date AND month < $3::date"
		      " FROM pmhc.outcomes_by_month WHERE psap_id = $1 AND" SPAN_MONTHS " ORDER BY month",
	/* The periods' counts, not only their rates: the two-proportion test needs them. */
	[RQ_PERIODS] = "SELECT g.period, o.mh_calls, o.counted, o.connected, o.arrested, o.used_force,"
		       " o.involuntary_hold, o.repeat_calls,"
		       " CASE g.period WHEN 1 THEN $3::date - $2::date ELSE $5::date - $4::date END"
		       " FROM generate_series(1, 2) g(period) CROSS JOIN LATERAL pmhc.outcomes_for_months($1,"
		       " CASE g.period WHEN 1 THEN $2::date ELSE $4::date END,"
		       " CASE g.period WHEN 1 THEN $3::date ELSE $5::date END) o ORDER BY 1",
	[RQ_VOLUME] = "SELECT to_char(month, 'YYYY-MM'), calls, mh_calls, mh_share"
		      " FROM pmhc.mh_calls_by_month WHERE psap_id = $1 AND" SPAN_MONTHS " ORDER BY month",
	/* Months of the current period; a suppressed month of a beat (NULL) is left out of its sum. */
	[RQ_PLACE] = "SELECT district, beat, sum(mh_calls), count(*) FILTER (WHERE mh_calls IS NULL)"
		     " FROM pmhc.mh_calls_by_place WHERE psap_id = $1 AND" CURRENT_MONTHS
		     " GROUP BY 1, 2 ORDER BY 3 DESC NULLS LAST, 1, 2",
	[RQ_HOURDOW] = "SELECT isodow, weekday, hour, mh_calls FROM pmhc.mh_calls_by_hour_weekday"
		       " WHERE psap_id = $1 ORDER BY isodow, hour",
	[RQ_MIX] = "SELECT to_char(month, 'YYYY-MM'), response, mh_calls FROM pmhc.response_mix_by_month"
		   " WHERE psap_id = $1 AND" SPAN_MONTHS " ORDER BY 1, 2",
	[RQ_RVD] = "SELECT response, disposition_code," SUM_SHOWN("calls") "," SUM_SHOWN("with_units") "," SUM_SHOWN("all_recommended_went") "," SUM_SHOWN(
		"some_recommended_went") "," SUM_SHOWN("none_recommended_went") " FROM pmhc.recommended_vs_disposition WHERE psap_id = $1 AND" CURRENT_MONTHS
										" GROUP BY 1, 2 ORDER BY 1, 2",
	[RQ_REFER] = "SELECT service_name, sum(mh_calls) FROM pmhc.referrals_service_unavailable"
		     " WHERE psap_id = $1 AND" CURRENT_MONTHS " GROUP BY 1 ORDER BY 2 DESC, 1",
	[RQ_CAPACITY] = "SELECT hour," SUM_SHOWN("mh_calls") "," SUM_SHOWN(
		"fallbacks") ","
			     " CASE WHEN bool_and(mh_calls IS NOT NULL AND fallbacks IS NOT NULL)"
			     " THEN round(sum(fallbacks)::numeric / nullif(sum(mh_calls), 0), 4) END"
			     " FROM pmhc.fallbacks_by_hour_beat WHERE psap_id = $1 AND" CURRENT_MONTHS
			     " GROUP BY 1 ORDER BY 1",
	[RQ_DIVERT] = "SELECT to_char(month, 'YYYY-MM'), mh_calls_911, transferred_988, diversion_rate"
		      " FROM pmhc.diversions_911_to_988 WHERE psap_id = $1 AND" SPAN_MONTHS " ORDER BY month",
};

static int exec_ok(struct report *rp, const char *sql)
{
	PGresult *r = PQexec(rp->db, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, PROG ": %s: %s", sql, PQerrorMessage(rp->db));
	PQclear(r);
	return ok ? 0 : -1;
}

int report_db_open(struct report *rp)
{
	rp->db = PQconnectdb(rp->conninfo);
	if (PQstatus(rp->db) != CONNECTION_OK) {
		fprintf(stderr, PROG ": cannot connect to PostgreSQL: %s", PQerrorMessage(rp->db));
		fprintf(stderr,
			PROG ": hint: -d takes a libpq connection string, e.g. \"host=db dbname=pmhc user=alice\"\n");
		return -1;
	}
	/* JIT compiling these sub-second queries took longer than running them (bench/report.sh). */
	if (exec_ok(rp, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") < 0 ||
	    exec_ok(rp, "SET LOCAL jit = off") < 0)
		return -1;
	return 0;
}

/* The periods and floor of the PSAP's shared definitions, for what the options left unset. */
static int read_definitions(struct report *rp)
{
	const char *params[1] = { rp->psap };
	PGresult *r = PQexecParams(rp->db,
				   "SELECT baseline_start, baseline_end, current_start, current_end, time_zone,"
				   " small_cell_threshold FROM pmhc.effective_definitions"
				   " WHERE psap_id IN ($1, '*') ORDER BY psap_id = '*' LIMIT 1",
				   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		fprintf(stderr, PROG ": cannot read pmhc.effective_definitions: %s",
			PQresultStatus(r) == PGRES_TUPLES_OK ? "no row for '*'\n" : PQerrorMessage(rp->db));
		fprintf(stderr, PROG ": hint: the role needs pmhc_analyst (GRANT pmhc_analyst TO you)\n");
		PQclear(r);
		return -1;
	}
	char *dst[4] = { rp->base0, rp->base1, rp->cur0, rp->cur1 };
	for (int i = 0; i < 4; i++)
		if (dst[i][0] == '\0')
			snprintf(dst[i], 11, "%s", PQgetvalue(r, 0, i));
	snprintf(rp->time_zone, sizeof rp->time_zone, "%s", PQgetvalue(r, 0, 4));
	long own = strtol(PQgetvalue(r, 0, 5), NULL, 10);
	rp->floor = own;
	if (rp->public_edition && rp->floor < PMHC_REPORT_PUBLIC_FLOOR)
		rp->floor = PMHC_REPORT_PUBLIC_FLOOR;
	PQclear(r);
	return 0;
}

/* What each query reads (a view, or one function over one), to head its plan and name it in errors. */
static const char *const query_names[RQ_N] = {
	[RQ_MONTHS] = "outcomes_by_month",
	[RQ_PERIODS] = "outcomes_for_months, baseline and current",
	[RQ_VOLUME] = "mh_calls_by_month",
	[RQ_PLACE] = "mh_calls_by_place, current period",
	[RQ_HOURDOW] = "mh_calls_by_hour_weekday",
	[RQ_MIX] = "response_mix_by_month",
	[RQ_RVD] = "recommended_vs_disposition, current period",
	[RQ_REFER] = "referrals_service_unavailable, current period",
	[RQ_CAPACITY] = "fallbacks_by_hour_beat, current period",
	[RQ_DIVERT] = "diversions_911_to_988",
};

/* Query q, or with explain its plan, with the PSAP and the four period bounds; NULL on failure, said. */
static PGresult *run(struct report *rp, int q, bool explain)
{
	const char *params[5] = { rp->psap, rp->base0, rp->base1, rp->cur0, rp->cur1 };
	/* Typed as text, so a query may leave some unused (PostgreSQL cannot infer an unused one's type). */
	const Oid types[5] = { 25, 25, 25, 25, 25 };
	const char *sql = queries[q];
	char plan_sql[4096];
	if (explain) {
		/* Cut short, a query can still be valid SQL (without its bound): never run one. */
		int n = snprintf(plan_sql, sizeof plan_sql, "EXPLAIN %s", queries[q]);
		if (n < 0 || (size_t)n >= sizeof plan_sql) {
			fprintf(stderr, PROG ": query %d (%s) is too long to explain\n", q, query_names[q]);
			return NULL;
		}
		sql = plan_sql;
	}
	PGresult *r = PQexecParams(rp->db, sql, 5, types, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, PROG ": %squery %d (%s) failed: %s", explain ? "EXPLAIN of " : "", q, query_names[q],
			PQerrorMessage(rp->db));
		PQclear(r);
		return NULL;
	}
	return r;
}

int report_db_fetch(struct report *rp)
{
	if (read_definitions(rp) < 0)
		return -1;
	for (int q = 0; q < RQ_N; q++)
		if ((rp->res[q] = run(rp, q, false)) == NULL)
			return -1;
	return exec_ok(rp, "COMMIT");
}

/*
 * For the DBA, and for the test that the views' security barriers still let each
 * bound in (tests/integration/report.sh): a bound left above a view reads all its
 * history, which only a large database shows as time.
 */
int report_db_explain(struct report *rp, FILE *out)
{
	if (read_definitions(rp) < 0)
		return -1;
	fprintf(out, "-- PSAP %s, baseline %s to %s, current %s to %s (end excluded)\n", rp->psap, rp->base0, rp->base1,
		rp->cur0, rp->cur1);
	for (int q = 0; q < RQ_N; q++) {
		PGresult *r = run(rp, q, true);
		if (r == NULL)
			return -1;
		fprintf(out, "-- query %d: %s\n", q, query_names[q]);
		for (int i = 0; i < PQntuples(r); i++)
			fprintf(out, "%s\n", PQgetvalue(r, i, 0));
		PQclear(r);
	}
	return exec_ok(rp, "COMMIT");
}

void report_db_close(struct report *rp)
{
	for (int q = 0; q < RQ_N; q++) {
		PQclear(rp->res[q]);
		rp->res[q] = NULL;
	}
	PQfinish(rp->db);
	rp->db = NULL;
}
