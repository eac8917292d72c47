/*
 * Charts as inline SVG, pure: values in, SVG text out, no I/O. The report
 * (tools/pmhc-report) draws every chart with these, so scales, ticks and marks
 * are unit-tested here and the report only chooses what to draw.
 *
 * Every data mark carries class "mark" (one element per value shown: a bar, a
 * point, a heat-map cell, an interval), so a test can count what was drawn.
 * A value that is NaN is not drawn: a suppressed or missing figure leaves a gap.
 */
#ifndef PMHC_CHART_H
#define PMHC_CHART_H

#include <stdbool.h>
#include <stddef.h>

/* A growable text buffer. Starts zeroed; on allocation failure oom is set and writes stop. */
struct pmhc_text {
	char *s;
	size_t len, cap;
	bool oom;
};

void pmhc_text_printf(struct pmhc_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, " and ' escaped for HTML and SVG text and attributes. */
void pmhc_text_escape(struct pmhc_text *t, const char *s);
void pmhc_text_free(struct pmhc_text *t);

/* Ticks at round steps (1, 2 or 5 times a power of ten) covering [lo, hi]. */
struct pmhc_ticks {
	double lo, hi, step;
	int n; /* ticks from lo to hi inclusive */
};

/* Ticks for [lo, hi] with about `target` intervals; lo == hi widens to [lo, lo + 1]. */
void pmhc_nice_ticks(double lo, double hi, int target, struct pmhc_ticks *out);

/* v mapped linearly from [d0, d1] to [r0, r1]; d0 == d1 maps to r0. */
double pmhc_scale(double v, double d0, double d1, double r0, double r1);

/* What every chart has: an id (for the page and the tests), a title, axis labels with their units. */
struct pmhc_frame {
	const char *id, *title, *x_label, *y_label;
	bool percent; /* values are fractions: ticks and labels read as per cent */
};

struct pmhc_series {
	const char *name;
	const double *v; /* one per x category; NaN: not drawn */
};

/*
 * Lines over n x categories (months). Categories [band0, band1) are shaded as
 * the baseline period (band0 == band1: none); ref, when not NaN, is drawn as a
 * dashed line and labelled ref_label. Marks: one point per value drawn.
 */
void pmhc_chart_lines(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *x, size_t n,
		      const struct pmhc_series *s, size_t ns, size_t band0, size_t band1, double ref,
		      const char *ref_label);

/* Columns, stacked when ns > 1, over n x categories. Marks: one rect per value above 0. */
void pmhc_chart_columns(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *x, size_t n,
			const struct pmhc_series *s, size_t ns);

/* Horizontal bars, one per label, in the order given (rank them first). Marks: one rect per value drawn. */
void pmhc_chart_hbars(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *labels, const double *v,
		      size_t n);

/* A heat map of nr x nc cells, v row-major. Marks: one rect per cell, NaN ones hatched as hidden. */
void pmhc_chart_heat(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *rows, size_t nr,
		     const char *const *cols, size_t nc, const double *v);

/* Estimates with intervals around a zero line, one row per label. Marks: one per row with a finite estimate. */
void pmhc_chart_intervals(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *labels, const double *est,
			  const double *lo, const double *hi, size_t n);

/* The colour of the i-th series (a palette readable by the colour-blind). */
const char *pmhc_chart_colour(size_t i);

#endif
