/*
 * pmhc-report — the coordinator's progress report: one self-contained HTML file
 * of inline SVG charts, read from the analyst views (never the raw tables), so
 * that it runs as a LOGIN member of pmhc_analyst.
 *
 *   report.c           arguments, the run, the PDF through headless Chromium
 *   report_db.c        the connection and every query, in one read-only snapshot
 *   report_page.c      the page: style, sections, tables, cells (and the public edition's suppression)
 *   report_outcomes.c  the four outcomes by month, baseline against current, repeat encounters
 *   report_calls.c     volume, place, hour and weekday, response mix, capacity, referrals, diversions
 *
 * Charts and statistics are pure and live in libpmhc (chart.h, stats.h).
 */
#ifndef PMHC_REPORT_H
#define PMHC_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "chart.h"

#define PROG "pmhc-report"
/*
 * The smallest count the public edition shows: the floor migration 011
 * enforces on small_cell_threshold, kept here too for a database whose
 * definitions predate it.
 */
#define PMHC_REPORT_PUBLIC_FLOOR 11

enum rq {
	RQ_MONTHS,   /* outcomes_by_month */
	RQ_PERIODS,  /* mh_call_outcomes over the baseline and current periods */
	RQ_VOLUME,   /* mh_calls_by_month */
	RQ_PLACE,    /* mh_calls_by_place, current period */
	RQ_HOURDOW,  /* mh_calls_by_hour_weekday */
	RQ_MIX,      /* mh_call_outcomes: response per month */
	RQ_RVD,      /* recommended_vs_disposition, current period */
	RQ_REFER,    /* referrals_service_unavailable, current period */
	RQ_CAPACITY, /* fallbacks_by_hour_beat by hour, current period */
	RQ_DIVERT,   /* diversions_911_to_988 */
	RQ_N
};

struct report {
	/* Options. */
	const char *conninfo, *psap, *out;
	bool public_edition, pdf, letter;
	bool explain; /* print each query's plan instead of writing a report */
	/* Periods as local dates YYYY-MM-DD, end excluded: from the options, else the PSAP's definitions. */
	char base0[11], base1[11], cur0[11], cur1[11];
	char time_zone[64];
	long floor; /* counts 0 < n < floor are hidden; 0: nothing hidden */
	/* Results, owned. */
	PGconn *db;
	PGresult *res[RQ_N];
	char generated[32]; /* the date the report was made */
};

/* report_db.c */
int report_db_open(struct report *rp);
int report_db_fetch(struct report *rp);
int report_db_explain(struct report *rp, FILE *out);
void report_db_close(struct report *rp);

/* report_page.c: the HTML of the whole report into t (details open: for print). */
void report_page(struct pmhc_text *t, const struct report *rp, bool details_open);

/* report_page.c: cells, values and section pieces the sections share. */
double rp_raw(const PGresult *r, int row, int col);
bool rp_hidden(const struct report *rp, double n);
double rp_count(const struct report *rp, const PGresult *r, int row, int col);
double rp_rate(const struct report *rp, const PGresult *r, int row, int rate, int num, int den);
void rp_td_text(struct pmhc_text *t, const char *s);
void rp_td_count(struct pmhc_text *t, const struct report *rp, const PGresult *r, int row, int col);
void rp_td_rate(struct pmhc_text *t, const struct report *rp, const PGresult *r, int row, int rate, int num, int den);
void rp_td_class(struct pmhc_text *t, const char *cls, const char *s);
/* How rp_table_rows shows one column of a result. */
struct rp_col {
	char kind;    /* 't' text, 'm' text in class m, 'n' a count, 'r' a rate */
	int col;      /* the result's column */
	int num, den; /* a rate's numerator and denominator columns: hidden with either */
};
/* One <tr> for each of the first n rows of r (all when n < 0), its cells as cols says. */
void rp_table_rows(struct pmhc_text *t, const struct report *rp, const PGresult *r, int n, const struct rp_col *cols,
		   int ncols);
void rp_section(struct pmhc_text *t, const char *id, const char *title);
void rp_reading(struct pmhc_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rp_no_data(struct pmhc_text *t, const char *why);
/* No rows in r: says why and closes the section; true then, for the caller to return. */
bool rp_empty(struct pmhc_text *t, const PGresult *r, const char *why);
void rp_table_open(struct pmhc_text *t, bool open, const char *caption, const char *const *head, int n);
void rp_table_close(struct pmhc_text *t);
void rp_percent(char *buf, size_t n, double v);
/* The threshold a reading names for what is withheld: the reader's, else the public floor. */
long rp_shown_floor(const struct report *rp);
/* A count for a reading: the number, or "fewer than FLOOR" where the public edition hides it. */
const char *rp_words(char *buf, size_t n, const struct report *rp, double v);

/* report_outcomes.c */
void report_outcomes(struct pmhc_text *t, const struct report *rp, bool open);
void report_change(struct pmhc_text *t, const struct report *rp, bool open);
void report_repeats(struct pmhc_text *t, const struct report *rp, bool open);

/* report_calls.c */
void report_volume(struct pmhc_text *t, const struct report *rp, bool open);
void report_place(struct pmhc_text *t, const struct report *rp, bool open);
void report_hourdow(struct pmhc_text *t, const struct report *rp, bool open);
void report_mix(struct pmhc_text *t, const struct report *rp, bool open);
void report_rvd(struct pmhc_text *t, const struct report *rp, bool open);
void report_refer(struct pmhc_text *t, const struct report *rp, bool open);
void report_capacity(struct pmhc_text *t, const struct report *rp, bool open);
void report_divert(struct pmhc_text *t, const struct report *rp, bool open);

#endif
