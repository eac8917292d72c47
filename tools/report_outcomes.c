/*
 * The four key outcomes: per month against the baseline, the baseline period
 * against the current one (with a two-proportion test), and repeat encounters.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "stats.h"

/* Columns of RQ_MONTHS and RQ_PERIODS (report_db.c). */
enum {
	M_MONTH,
	M_MH,
	M_WITH,
	M_CONN,
	M_CONN_R,
	M_ARR,
	M_ARR_R,
	M_FORCE,
	M_FORCE_R,
	M_HOLD,
	M_HOLD_R,
	M_REP,
	M_SUBJ,
	M_IN_BASE
};
enum { P_PERIOD, P_MH, P_WITH, P_CONN, P_ARR, P_FORCE, P_HOLD, P_REP, P_DAYS };

struct measure {
	const char *id, *name, *reading;
	int x, n; /* RQ_PERIODS columns: events and their denominator */
};

static const struct measure measures[] = {
	{ "connected", "Connected to services", "connected to services", P_CONN, P_WITH },
	{ "arrest", "Arrest", "ending in arrest", P_ARR, P_WITH },
	{ "force", "Use of force", "with force used", P_FORCE, P_WITH },
	{ "hold", "Involuntary hold", "ending in an involuntary hold", P_HOLD, P_WITH },
	{ "repeat", "Repeat encounter", "that were repeat encounters (share of all MH calls)", P_REP, P_MH },
};

/* The months of the chart: labels, and where the baseline band starts and ends. */
struct months {
	const char **x;
	size_t n, band0, band1;
};

static void months_of(const PGresult *r, struct months *m)
{
	m->n = (size_t)PQntuples(r);
	m->x = calloc(m->n ? m->n : 1, sizeof *m->x);
	m->band0 = m->band1 = 0;
	bool seen = false;
	for (size_t i = 0; m->x && i < m->n; i++) {
		m->x[i] = PQgetvalue(r, (int)i, M_MONTH);
		if (PQgetvalue(r, (int)i, M_IN_BASE)[0] == 't') {
			if (!seen)
				m->band0 = i;
			m->band1 = i + 1;
			seen = true;
		}
	}
}

/* A period's count, NaN when the public edition may not show it. */
static double period(const struct report *rp, int p, int col)
{
	return rp_count(rp, rp->res[RQ_PERIODS], p, col);
}

static double period_rate(const struct report *rp, int p, int x, int n)
{
	double a = period(rp, p, x), b = period(rp, p, n);
	return isfinite(a) && isfinite(b) && b > 0 ? a / b : NAN;
}

static void one_outcome(struct pmhc_text *t, const struct report *rp, const struct months *m, int rate, int num,
			const struct measure *ms)
{
	const PGresult *r = rp->res[RQ_MONTHS];
	double *v = calloc(m->n ? m->n : 1, sizeof *v);
	if (v == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		v[i] = rp_rate(rp, r, (int)i, rate, num, M_WITH);
	double base = period_rate(rp, 0, ms->x, ms->n), cur = period_rate(rp, 1, ms->x, ms->n);
	char a[64], b[64], id[48];
	rp_percent(a, sizeof a, cur);
	rp_percent(b, sizeof b, base);
	pmhc_text_printf(t, "<h3>");
	pmhc_text_escape(t, ms->name);
	pmhc_text_printf(t, "</h3>");
	bool shown = false;
	for (size_t i = 0; i < m->n && !shown; i++)
		shown = isfinite(v[i]);
	if (!isfinite(cur) && !isfinite(base))
		rp_reading(t, "%s: withheld in both periods, where the count or the rest of it is under %ld.", ms->name,
			   rp_shown_floor(rp));
	else
		rp_reading(t, "%s: %s of MH calls with an outcome in the current period, against %s in the baseline.",
			   ms->name, isfinite(cur) ? a : "withheld (too few calls)",
			   isfinite(base) ? b : "withheld (too few calls)");
	if (shown) {
		snprintf(id, sizeof id, "chart-outcome-%s", ms->id);
		struct pmhc_series s = { ms->name, v };
		struct pmhc_frame f = { id, ms->name, "Month (local)", "Share of MH calls (%)", true };
		pmhc_chart_lines(t, &f, m->x, m->n, &s, 1, m->band0, m->band1, base, "baseline rate");
	} else {
		pmhc_text_printf(t,
				 "<p>No month has enough calls to show this rate: counts under "
				 "%ld, and the counts that would let one be worked out, are withheld so that no "
				 "person can be picked out.</p>",
				 rp_shown_floor(rp));
	}
	free(v);
}

void report_outcomes(struct pmhc_text *t, const struct report *rp, bool open)
{
	const PGresult *r = rp->res[RQ_MONTHS];
	rp_section(t, "outcomes", "The four key outcomes by month");
	if (rp_empty(t, r, "No mental-health calls are stored for this PSAP yet."))
		return;
	struct months m;
	months_of(r, &m);
	pmhc_text_printf(t, "<p>The shaded months are the baseline period; the dashed line is its rate over the "
			    "whole period. Repeat encounters are shown under their own heading below.</p>");
	one_outcome(t, rp, &m, M_CONN_R, M_CONN, &measures[0]);
	one_outcome(t, rp, &m, M_ARR_R, M_ARR, &measures[1]);
	one_outcome(t, rp, &m, M_FORCE_R, M_FORCE, &measures[2]);
	static const char *const head[] = {
		"Month",       "MH calls",     "With outcome",      "Connected",         "Connected rate", "Arrests",
		"Arrest rate", "Use of force", "Use-of-force rate", "Involuntary holds", "Hold rate"
	};
	rp_table_open(t, open, "Outcomes per local month (pmhc.outcomes_by_month)", head, 11);
	static const struct rp_col cols[] = {
		{ 't', M_MONTH },
		{ 'n', M_MH },
		{ 'n', M_WITH },
		{ 'n', M_CONN },
		{ 'r', M_CONN_R, M_CONN, M_WITH },
		{ 'n', M_ARR },
		{ 'r', M_ARR_R, M_ARR, M_WITH },
		{ 'n', M_FORCE },
		{ 'r', M_FORCE_R, M_FORCE, M_WITH },
		{ 'n', M_HOLD },
		{ 'r', M_HOLD_R, M_HOLD, M_WITH },
	};
	rp_table_rows(t, rp, r, -1, cols, (int)(sizeof cols / sizeof cols[0]));
	rp_table_close(t);
	free(m.x);
}

struct change {
	struct pmhc_two_prop z;
	bool shown;
};

static void changes(const struct report *rp, struct change *c)
{
	for (size_t i = 0; i < sizeof measures / sizeof measures[0]; i++) {
		const struct measure *ms = &measures[i];
		double x1 = period(rp, 0, ms->x), n1 = period(rp, 0, ms->n);
		double x2 = period(rp, 1, ms->x), n2 = period(rp, 1, ms->n);
		c[i].shown = isfinite(x1) && isfinite(n1) && isfinite(x2) && isfinite(n2) &&
			     pmhc_two_prop_test((long)x1, (long)n1, (long)x2, (long)n2, PMHC_Z95, &c[i].z) == 0;
	}
}

static void change_row(struct pmhc_text *t, const struct report *rp, const struct measure *ms, const struct change *c)
{
	const PGresult *r = rp->res[RQ_PERIODS];
	pmhc_text_printf(t, "<tr data-measure=\"%s\">", ms->id);
	rp_td_text(t, ms->name);
	for (int p = 0; p < 2; p++) {
		rp_td_count(t, rp, r, p, ms->x);
		rp_td_count(t, rp, r, p, ms->n);
		double v = period_rate(rp, p, ms->x, ms->n);
		char pc[32];
		rp_percent(pc, sizeof pc, v);
		if (isfinite(v))
			pmhc_text_printf(t, "<td class=\"r\" data-v=\"%.4f\">%s</td>", v, pc);
		else
			pmhc_text_printf(t, "<td class=\"r\">–</td>");
	}
	if (!c->shown) {
		pmhc_text_printf(t, "<td colspan=\"4\">not tested: a count is missing or hidden</td></tr>\n");
		return;
	}
	char buf[64];
	snprintf(buf, sizeof buf, "%+.1f pp", c->z.diff * 100);
	rp_td_class(t, "r", buf);
	snprintf(buf, sizeof buf, "%+.1f to %+.1f pp", c->z.lo * 100, c->z.hi * 100);
	rp_td_text(t, buf);
	if (c->z.p_value < 0.001)
		snprintf(buf, sizeof buf, "%.1e", c->z.p_value);
	else
		snprintf(buf, sizeof buf, "%.3f", c->z.p_value);
	rp_td_class(t, "r", buf);
	rp_td_text(t, c->z.significant ? "yes" : "no");
	pmhc_text_printf(t, "</tr>\n");
}

void report_change(struct pmhc_text *t, const struct report *rp, bool open)
{
	enum { N = sizeof measures / sizeof measures[0] };
	struct change c[N];
	changes(rp, c);
	rp_section(t, "change", "Baseline against current: the change, and whether it is more than chance");
	const char *labels[N];
	double est[N], lo[N], hi[N];
	int biggest = -1;
	for (int i = 0; i < N; i++) {
		labels[i] = measures[i].name;
		est[i] = c[i].shown ? c[i].z.diff : NAN;
		lo[i] = c[i].shown ? c[i].z.lo : NAN;
		hi[i] = c[i].shown ? c[i].z.hi : NAN;
		if (c[i].shown && c[i].z.significant && (biggest < 0 || fabs(c[i].z.z) > fabs(c[biggest].z.z)))
			biggest = i;
	}
	if (biggest >= 0)
		rp_reading(t,
			   "The clearest change: the share of MH calls %s went from %.1f%% to %.1f%% (%+.1f points, "
			   "95%% interval %+.1f to %+.1f); chance alone would rarely give this (p = %.2g).",
			   measures[biggest].reading, c[biggest].z.p1 * 100, c[biggest].z.p2 * 100,
			   c[biggest].z.diff * 100, c[biggest].z.lo * 100, c[biggest].z.hi * 100, c[biggest].z.p_value);
	else
		rp_reading(t, "No outcome changed by more than chance alone could give (every 95%% interval "
			      "includes no change).");
	pmhc_text_printf(t, "<p>Each dot is the current rate minus the baseline rate; the bar is its 95%% interval. "
			    "A bar that crosses the zero line is a change chance alone could give (a two-proportion "
			    "z-test, as R's prop.test without continuity correction).</p>");
	struct pmhc_frame f = { "chart-change", "Change from the baseline to the current period",
				"Change in percentage points (current minus baseline)", "Outcome", true };
	pmhc_chart_intervals(t, &f, labels, est, lo, hi, N);
	static const char *const head[] = { "Measure",
					    "Baseline calls",
					    "Of (MH calls: days)",
					    "Baseline rate (MH calls: a day)",
					    "Current calls",
					    "Of (MH calls: days)",
					    "Current rate (MH calls: a day)",
					    "Change",
					    "95% interval",
					    "p",
					    "More than chance" };
	rp_table_open(t, open, "Baseline and current periods (pmhc.outcomes_for_months)", head, 11);
	for (int i = 0; i < N; i++)
		change_row(t, rp, &measures[i], &c[i]);
	const PGresult *r = rp->res[RQ_PERIODS];
	pmhc_text_printf(t, "<tr data-measure=\"mh_calls\"><td>MH calls</td>");
	for (int p = 0; p < 2; p++) {
		rp_td_count(t, rp, r, p, P_MH);
		rp_td_count(t, rp, r, p, P_DAYS);
		double perday = period(rp, p, P_MH) / rp_raw(r, p, P_DAYS);
		pmhc_text_printf(t, "<td class=\"r\" title=\"a day\">%.2f</td>", isfinite(perday) ? perday : 0.0);
	}
	pmhc_text_printf(t, "<td colspan=\"4\">a count, not a share: no test</td></tr>\n");
	rp_table_close(t);
}

void report_repeats(struct pmhc_text *t, const struct report *rp, bool open)
{
	const PGresult *r = rp->res[RQ_MONTHS];
	rp_section(t, "repeats", "Repeat encounters");
	if (rp_empty(t, r, "No mental-health calls are stored for this PSAP yet."))
		return;
	struct months m;
	months_of(r, &m);
	size_t n = m.n ? m.n : 1;
	double *calls = calloc(n, sizeof *calls), *subj = calloc(n, sizeof *subj), base = 0;
	size_t in_base = 0;
	for (size_t i = 0; calls && subj && i < m.n; i++) {
		calls[i] = rp_count(rp, r, (int)i, M_REP);
		subj[i] = rp_count(rp, r, (int)i, M_SUBJ);
		if (i >= m.band0 && i < m.band1 && isfinite(calls[i]))
			base += calls[i], in_base++;
	}
	base = in_base ? base / (double)in_base : NAN;
	char a[32], b[32];
	rp_reading(t,
		   "%s MH calls in the current period were repeat encounters, against %s in the baseline "
		   "(a person's call after at least threshold minus one others in the window before it).",
		   rp_words(a, sizeof a, rp, period(rp, 1, P_REP)), rp_words(b, sizeof b, rp, period(rp, 0, P_REP)));
	struct pmhc_series s[2] = { { "Repeat calls", calls }, { "People with a repeat", subj } };
	struct pmhc_frame f = { "chart-repeats", "Repeat encounters per month", "Month (local)",
				"MH calls, people (count)", false };
	if (calls && subj)
		pmhc_chart_lines(t, &f, m.x, m.n, s, 2, m.band0, m.band1, base, "baseline monthly mean");
	static const char *const head[] = { "Month", "MH calls", "Repeat calls", "People with a repeat" };
	rp_table_open(t, open, "Repeat encounters per local month (pmhc.outcomes_by_month)", head, 4);
	rp_table_rows(t, rp, r, -1,
		      (const struct rp_col[]){ { 't', M_MONTH }, { 'n', M_MH }, { 'n', M_REP }, { 'n', M_SUBJ } }, 4);
	rp_table_close(t);
	free(calls);
	free(subj);
	free(m.x);
}
