/*
 * Where the calls come from and what happened to them: volume by month, place,
 * hour and weekday, the response mix, recommended against what went, referrals
 * that found the service unavailable, capacity, and 911 to 988 diversions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* How many beats the ranked chart shows; the table under it has them all. */
#define TOP_PLACES 15

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct values of a column, sorted; they point into r. */
static const char **distinct(const PGresult *r, int col, size_t *n)
{
	size_t rows = (size_t)PQntuples(r), k = 0;
	const char **v = calloc(rows ? rows : 1, sizeof *v);
	if (v == NULL) {
		*n = 0;
		return NULL;
	}
	for (size_t i = 0; i < rows; i++)
		v[i] = PQgetvalue(r, (int)i, col);
	qsort(v, rows, sizeof *v, cmp_str);
	for (size_t i = 0; i < rows; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	*n = k;
	return v;
}

static size_t index_of(const char **v, size_t n, const char *s)
{
	const char **p = bsearch(&s, v, n, sizeof *v, cmp_str);
	return p ? (size_t)(p - v) : n;
}

void report_volume(struct pmhc_text *t, const struct report *rp, bool open)
{
	const PGresult *r = rp->res[RQ_VOLUME];
	rp_section(t, "volume", "Mental-health calls by month");
	if (rp_empty(t, r, "No calls are stored for this PSAP yet."))
		return;
	size_t n = (size_t)PQntuples(r);
	const char **x = calloc(n, sizeof *x);
	double *v = calloc(n, sizeof *v), all = 0, mh = 0;
	int top = 0;
	for (size_t i = 0; x && v && i < n; i++) {
		x[i] = PQgetvalue(r, (int)i, 0);
		v[i] = rp_count(rp, r, (int)i, 2);
		all += rp_raw(r, (int)i, 1);
		mh += rp_raw(r, (int)i, 2);
		if (rp_raw(r, (int)i, 2) > rp_raw(r, top, 2))
			top = (int)i;
	}
	rp_reading(t, "%.1f%% of all calls were mental-health calls; the busiest month was %s.",
		   all > 0 ? 100 * mh / all : 0.0, PQgetvalue(r, top, 0));
	struct pmhc_series s = { "MH calls", v };
	struct pmhc_frame f = { "chart-volume", "Mental-health calls by month", "Month (local)", "MH calls (count)",
				false };
	if (x && v)
		pmhc_chart_columns(t, &f, x, n, &s, 1);
	static const char *const head[] = { "Month", "All calls", "MH calls", "MH share" };
	rp_table_open(t, open, "Calls per local month (pmhc.mh_calls_by_month)", head, 4);
	rp_table_rows(t, rp, r, (int)n, (const struct rp_col[]){ { 't', 0 }, { 'n', 1 }, { 'n', 2 }, { 'r', 3, 2, 1 } },
		      4);
	rp_table_close(t);
	free(x);
	free(v);
}

static void place_label(char *buf, size_t n, const PGresult *r, int i)
{
	const char *d = PQgetvalue(r, i, 0), *b = PQgetvalue(r, i, 1);
	snprintf(buf, n, "%s / %s", *d ? d : "(no district)", *b ? b : "(no beat)");
}

void report_place(struct pmhc_text *t, const struct report *rp, bool open)
{
	const PGresult *r = rp->res[RQ_PLACE];
	rp_section(t, "place", "Mental-health calls by district and beat, current period");
	if (rp_empty(t, r, "No mental-health calls in the current period."))
		return;
	size_t n = (size_t)PQntuples(r), k = n < TOP_PLACES ? n : TOP_PLACES;
	char(*lab)[80] = calloc(k, sizeof *lab);
	const char **l = calloc(k, sizeof *l);
	double *v = calloc(k, sizeof *v);
	for (size_t i = 0; lab && l && v && i < k; i++) {
		place_label(lab[i], sizeof lab[i], r, (int)i);
		l[i] = lab[i];
		v[i] = rp_count(rp, r, (int)i, 2);
	}
	if (lab && l && v) {
		rp_reading(t,
			   "%s had the most mental-health calls in the current period; the %zu busiest of %zu "
			   "district and beat pairs are shown.",
			   l[0], k, n);
		struct pmhc_frame f = { "chart-place", "Busiest beats, current period", "MH calls (count)",
					"District / beat", false };
		pmhc_chart_hbars(t, &f, l, v, k);
	}
	static const char *const head[] = { "District", "Beat", "MH calls", "Months hidden as small cells" };
	rp_table_open(t, open, "MH calls per district and beat over the current period (pmhc.mh_calls_by_place)", head,
		      4);
	rp_table_rows(t, rp, r, (int)n, (const struct rp_col[]){ { 't', 0 }, { 't', 1 }, { 'n', 2 }, { 'm', 3 } }, 4);
	rp_table_close(t);
	free(lab);
	free(l);
	free(v);
}

void report_hourdow(struct pmhc_text *t, const struct report *rp, bool open)
{
	static const char *const days[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const hours[24] = { "0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "10", "11",
					       "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23" };
	const PGresult *r = rp->res[RQ_HOURDOW];
	rp_section(t, "hourdow", "Mental-health calls by hour and weekday");
	if (rp_empty(t, r, "No mental-health calls are stored for this PSAP yet."))
		return;
	double v[7 * 24] = { 0 };
	int top = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		int d = atoi(PQgetvalue(r, i, 0)), h = atoi(PQgetvalue(r, i, 2));
		if (d >= 1 && d <= 7 && h >= 0 && h < 24)
			v[(d - 1) * 24 + h] = rp_count(rp, r, i, 3);
		if (rp_raw(r, i, 3) > rp_raw(r, top, 3))
			top = i;
	}
	rp_reading(t, "The busiest hour of the week is %s at %s:00 (local time), over all the history stored.",
		   PQgetvalue(r, top, 1), PQgetvalue(r, top, 2));
	struct pmhc_frame f = { "chart-hourdow", "MH calls by local hour and weekday", "Hour of day (local)", "Weekday",
				false };
	pmhc_chart_heat(t, &f, days, 7, hours, 24, v);
	static const char *const head[] = { "Weekday", "Hour", "MH calls" };
	rp_table_open(t, open, "MH calls per weekday and hour (pmhc.mh_calls_by_hour_weekday)", head, 3);
	rp_table_rows(t, rp, r, -1, (const struct rp_col[]){ { 't', 1 }, { 't', 2 }, { 'n', 3 } }, 3);
	rp_table_close(t);
}

/* A grid of counts over two text columns of r, as NaN-for-hidden values, rows x cols. */
static double *grid(const struct report *rp, const PGresult *r, int rc, int cc, int vc, const char **rows, size_t nr,
		    const char **cols, size_t nc)
{
	double *v = calloc(nr * nc > 0 ? nr * nc : 1, sizeof *v);
	for (int i = 0; v && i < PQntuples(r); i++) {
		size_t a = index_of(rows, nr, PQgetvalue(r, i, rc)), b = index_of(cols, nc, PQgetvalue(r, i, cc));
		if (a < nr && b < nc)
			v[a * nc + b] = rp_count(rp, r, i, vc);
	}
	return v;
}

void report_mix(struct pmhc_text *t, const struct report *rp, bool open)
{
	const PGresult *r = rp->res[RQ_MIX];
	rp_section(t, "mix", "The response mix over time");
	if (rp_empty(t, r, "No mental-health calls are stored for this PSAP yet."))
		return;
	size_t nm, nr;
	const char **months = distinct(r, 0, &nm), **resp = distinct(r, 1, &nr);
	double *g = months && resp ? grid(rp, r, 1, 0, 2, resp, nr, months, nm) : NULL;
	struct pmhc_series *s = calloc(nr ? nr : 1, sizeof *s);
	if (g && s) {
		for (size_t j = 0; j < nr; j++)
			s[j] = (struct pmhc_series){ resp[j], g + j * nm };
		rp_reading(t,
			   "Each column is one month's MH calls, split by the response pmhcd recommended (%zu "
			   "response%s over %zu months).",
			   nr, nr == 1 ? "" : "s", nm);
		struct pmhc_frame f = { "chart-mix", "Recommended response per month", "Month (local)",
					"MH calls (count)", false };
		pmhc_chart_columns(t, &f, months, nm, s, nr);
	}
	static const char *const head[] = { "Month", "Response", "MH calls" };
	rp_table_open(t, open, "MH calls per local month and recommended response (pmhc.response_mix_by_month)", head,
		      3);
	rp_table_rows(t, rp, r, -1, (const struct rp_col[]){ { 't', 0 }, { 't', 1 }, { 'n', 2 } }, 3);
	rp_table_close(t);
	free(s);
	free(g);
	free(months);
	free(resp);
}

/* A sum of the shown cells of a column; *hidden says whether any was withheld. */
struct shown_sum {
	double sum;
	bool hidden;
};

static void add_shown(struct shown_sum *s, double v)
{
	if (isfinite(v))
		s->sum += v;
	else
		s->hidden = true;
}

/* A sum for a reading: the number (or the public edition's words), or "a number withheld". */
static const char *sum_words(char *buf, size_t n, const struct report *rp, const struct shown_sum *s)
{
	if (!s->hidden)
		return rp_words(buf, n, rp, s->sum);
	snprintf(buf, n, "a number withheld");
	return buf;
}

/* What the rows the table shows add up to, said in words where cells are withheld. */
static void rvd_reading(struct pmhc_text *t, const struct report *rp, const PGresult *r)
{
	struct shown_sum all = { 0 }, with = { 0 }, went = { 0 };
	for (int i = 0; i < PQntuples(r); i++) {
		add_shown(&all, rp_raw(r, i, 2));
		/* Of the rows whose calls are shown: a withheld row's parts are withheld with it. */
		if (isfinite(rp_raw(r, i, 2)))
			add_shown(&with, rp_raw(r, i, 3)), add_shown(&went, rp_raw(r, i, 4));
	}
	char a[32], b[32], c[32];
	if (!all.hidden) {
		rp_reading(t,
			   "Of %s live MH calls in the current period, %s had units recommended, and for %s every "
			   "recommended unit went.",
			   rp_words(a, sizeof a, rp, all.sum), sum_words(b, sizeof b, rp, &with),
			   sum_words(c, sizeof c, rp, &went));
		return;
	}
	rp_reading(t,
		   "Of the %s live MH calls in the current period that the table shows, %s had units recommended, and "
		   "for %s every recommended unit went. The other cells are withheld: each is under %ld calls, or "
		   "would let one be worked out.",
		   rp_words(a, sizeof a, rp, all.sum), sum_words(b, sizeof b, rp, &with),
		   sum_words(c, sizeof c, rp, &went), rp_shown_floor(rp));
}

void report_rvd(struct pmhc_text *t, const struct report *rp, bool open)
{
	const PGresult *r = rp->res[RQ_RVD];
	rp_section(t, "rvd", "Recommended response against what happened, current period");
	if (rp_empty(t, r,
		     "No live mental-health calls in the current period: backfilled history has recommendations "
		     "but no units chosen, so it is not compared here."))
		return;
	bool any = false;
	for (int i = 0; i < PQntuples(r) && !any; i++)
		any = isfinite(rp_count(rp, r, i, 2));
	size_t nr, nd;
	const char **resp = distinct(r, 0, &nr), **disp = distinct(r, 1, &nd);
	double *g = resp && disp ? grid(rp, r, 0, 1, 2, resp, nr, disp, nd) : NULL;
	if (any) {
		rvd_reading(t, rp, r);
	} else {
		rp_reading(t,
			   "Every count of the current period is withheld: each is under %ld live MH calls, or would "
			   "let one be worked out, so no chart is drawn.",
			   rp_shown_floor(rp));
	}
	struct pmhc_frame f = { "chart-rvd", "Live MH calls in the current period: recommended response by disposition",
				"Disposition code", "Recommended response", false };
	if (g && any)
		pmhc_chart_heat(t, &f, resp, nr, disp, nd, g);
	static const char *const head[] = { "Response",  "Disposition", "Calls", "With units", "All recommended went",
					    "Some went", "None went" };
	rp_table_open(t, open, "Live MH calls, current period: the sum of its months (pmhc.recommended_vs_disposition)",
		      head, 7);
	rp_table_rows(t, rp, r, -1,
		      (const struct rp_col[]){
			      { 't', 0 }, { 't', 1 }, { 'n', 2 }, { 'n', 3 }, { 'n', 4 }, { 'n', 5 }, { 'n', 6 } },
		      7);
	rp_table_close(t);
	free(g);
	free(resp);
	free(disp);
}

void report_refer(struct pmhc_text *t, const struct report *rp, bool open)
{
	const PGresult *r = rp->res[RQ_REFER];
	rp_section(t, "refer", "Referrals that found the service unavailable, current period");
	if (rp_empty(t, r, "No referral found its service unavailable in the current period."))
		return;
	size_t n = (size_t)PQntuples(r);
	const char **l = calloc(n, sizeof *l);
	double *v = calloc(n, sizeof *v);
	for (size_t i = 0; l && v && i < n; i++)
		l[i] = PQgetvalue(r, (int)i, 0), v[i] = rp_count(rp, r, (int)i, 1);
	rp_reading(t, "%s was the service most often unavailable when a referral was wanted.", PQgetvalue(r, 0, 0));
	struct pmhc_frame f = { "chart-refer", "Service unavailable, by service", "MH calls (count)", "Service",
				false };
	if (l && v)
		pmhc_chart_hbars(t, &f, l, v, n);
	static const char *const head[] = { "Service", "MH calls" };
	rp_table_open(t, open, "Current period (pmhc.referrals_service_unavailable)", head, 2);
	rp_table_rows(t, rp, r, (int)n, (const struct rp_col[]){ { 't', 0 }, { 'n', 1 } }, 2);
	rp_table_close(t);
	free(l);
	free(v);
}

void report_capacity(struct pmhc_text *t, const struct report *rp, bool open)
{
	static const char *const hours[24] = { "0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "10", "11",
					       "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23" };
	const PGresult *r = rp->res[RQ_CAPACITY];
	rp_section(t, "capacity", "Capacity: how often the needed kind of unit was not free, by hour, current period");
	if (rp_empty(t, r,
		     "No live mental-health calls in the current period: capacity is measured on live decisions only."))
		return;
	double v[24];
	int top = -1;
	bool withheld = false;
	for (int h = 0; h < 24; h++)
		v[h] = NAN;
	for (int i = 0; i < PQntuples(r); i++) {
		int h = atoi(PQgetvalue(r, i, 0));
		double rate = rp_rate(rp, r, i, 3, 2, 1);
		if (h >= 0 && h < 24)
			v[h] = rate;
		if (!isfinite(rate))
			withheld = true;
		else if (top < 0 || rate > rp_rate(rp, r, top, 3, 2, 1))
			top = i;
	}
	if (top < 0) {
		rp_reading(t,
			   "Every hour's fallback rate in the current period is withheld: its counts are under %ld, or "
			   "would let one be worked out, so no chart is drawn.",
			   rp_shown_floor(rp));
	} else {
		char pc[32];
		rp_percent(pc, sizeof pc, rp_rate(rp, r, top, 3, 2, 1));
		rp_reading(t,
			   "The needed kind of unit was most often not free at %s:00, for %s of live MH calls there.",
			   PQgetvalue(r, top, 0), pc);
		if (withheld)
			rp_reading(t,
				   "Hours whose counts are under %ld, or would let one be worked out, are withheld and "
				   "left out of the chart.",
				   rp_shown_floor(rp));
		struct pmhc_series s = { "Fallback rate", v };
		struct pmhc_frame f = { "chart-capacity", "Fallbacks by local hour, current period",
					"Hour of day (local)", "Live MH calls needing a fallback (%)", true };
		pmhc_chart_columns(t, &f, hours, 24, &s, 1);
	}
	static const char *const head[] = { "Hour", "Live MH calls", "Fallbacks", "Fallback rate" };
	rp_table_open(t, open, "Summed over beats and the period's months (pmhc.fallbacks_by_hour_beat)", head, 4);
	rp_table_rows(t, rp, r, -1, (const struct rp_col[]){ { 't', 0 }, { 'n', 1 }, { 'n', 2 }, { 'r', 3, 2, 1 } }, 4);
	rp_table_close(t);
}

void report_divert(struct pmhc_text *t, const struct report *rp, bool open)
{
	const PGresult *r = rp->res[RQ_DIVERT];
	rp_section(t, "divert", "911 calls diverted to 988");
	if (rp_empty(t, r, "No mental-health calls came in on 911."))
		return;
	size_t n = (size_t)PQntuples(r);
	const char **x = calloc(n, sizeof *x);
	double *v = calloc(n, sizeof *v), calls = 0, moved = 0;
	for (size_t i = 0; x && v && i < n; i++) {
		x[i] = PQgetvalue(r, (int)i, 0);
		v[i] = rp_rate(rp, r, (int)i, 3, 2, 1);
		calls += rp_raw(r, (int)i, 1), moved += rp_raw(r, (int)i, 2);
	}
	rp_reading(t, "Over all months, %.1f%% of MH calls that came in on 911 were transferred to 988.",
		   calls > 0 ? 100 * moved / calls : 0.0);
	struct pmhc_series s = { "Diversion rate", v };
	struct pmhc_frame f = { "chart-divert", "911 MH calls transferred to 988, by month", "Month (local)",
				"Share of 911 MH calls (%)", true };
	if (x && v)
		pmhc_chart_lines(t, &f, x, n, &s, 1, 0, 0, NAN, NULL);
	static const char *const head[] = { "Month", "911 MH calls", "Transferred to 988", "Diversion rate" };
	rp_table_open(t, open, "Per local month (pmhc.diversions_911_to_988)", head, 4);
	rp_table_rows(t, rp, r, (int)n, (const struct rp_col[]){ { 't', 0 }, { 'n', 1 }, { 'n', 2 }, { 'r', 3, 2, 1 } },
		      4);
	rp_table_close(t);
	free(x);
	free(v);
}
