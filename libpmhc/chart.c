#include "chart.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One size for every chart, so the page reads as a set; viewBox lets them shrink on paper. */
#define W 720.0
#define H 260.0
#define ML 64.0
#define MR 16.0
#define MT 28.0
#define MB 56.0

void pmhc_text_printf(struct pmhc_text *t, const char *fmt, ...)
{
	if (t->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = t->cap - t->len;
		int n = vsnprintf(t->s ? t->s + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap : 4096;
		while (cap - t->len <= (size_t)n)
			cap *= 2;
		char *s = realloc(t->s, cap);
		if (s == NULL) {
			t->oom = true;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
}

void pmhc_text_escape(struct pmhc_text *t, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '&': pmhc_text_printf(t, "&amp;"); break;
		case '<': pmhc_text_printf(t, "&lt;"); break;
		case '>': pmhc_text_printf(t, "&gt;"); break;
		case '"': pmhc_text_printf(t, "&quot;"); break;
		case '\'': pmhc_text_printf(t, "&#39;"); break;
		default: pmhc_text_printf(t, "%c", *s);
		}
	}
}

void pmhc_text_free(struct pmhc_text *t)
{
	free(t->s);
	memset(t, 0, sizeof *t);
}

void pmhc_nice_ticks(double lo, double hi, int target, struct pmhc_ticks *out)
{
	if (!isfinite(lo) || !isfinite(hi))
		lo = 0, hi = 1;
	if (hi < lo) {
		double x = lo;
		lo = hi, hi = x;
	}
	if (hi == lo)
		hi = lo + 1;
	if (target < 1)
		target = 1;
	double raw = (hi - lo) / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
	double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
	out->step = step;
	/* The small epsilon keeps a bound that is already a multiple from moving out a step by rounding. */
	out->lo = floor(lo / step + 1e-9) * step;
	out->hi = ceil(hi / step - 1e-9) * step;
	out->n = (int)lround((out->hi - out->lo) / step) + 1;
}

double pmhc_scale(double v, double d0, double d1, double r0, double r1)
{
	if (d1 == d0)
		return r0;
	return r0 + (v - d0) / (d1 - d0) * (r1 - r0);
}

const char *pmhc_chart_colour(size_t i)
{
	/* Okabe and Ito's palette: told apart with every common colour-vision deficiency. */
	static const char *const c[] = { "#0072B2", "#D55E00", "#009E73", "#CC79A7",
					 "#E69F00", "#56B4E9", "#000000", "#F0E442" };
	return c[i % (sizeof c / sizeof c[0])];
}

static void fmt_value(char *buf, size_t n, double v, bool percent, double step)
{
	if (percent)
		snprintf(buf, n, step >= 0.01 || step == 0 ? "%.0f%%" : "%.1f%%", v * 100);
	else
		snprintf(buf, n, "%.10g", v);
}

static void open_svg(struct pmhc_text *t, const struct pmhc_frame *f, double w, double h)
{
	pmhc_text_printf(t, "\n<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"");
	pmhc_text_escape(t, f->id);
	pmhc_text_printf(t, "\" class=\"chart\" role=\"img\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\">",
			 w, h, w, h);
	pmhc_text_printf(t, "<title>");
	pmhc_text_escape(t, f->title);
	pmhc_text_printf(t, "</title>");
}

static void text_at(struct pmhc_text *t, double x, double y, const char *anchor, const char *cls, const char *s)
{
	pmhc_text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
	pmhc_text_escape(t, s);
	pmhc_text_printf(t, "</text>");
}

/* The y axis: grid lines, tick labels and the axis label with its unit. */
static void y_axis(struct pmhc_text *t, const struct pmhc_frame *f, const struct pmhc_ticks *k, double x0, double x1,
		   double y0, double y1)
{
	char buf[32];
	for (int i = 0; i < k->n; i++) {
		double v = k->lo + i * k->step, y = pmhc_scale(v, k->lo, k->hi, y0, y1);
		pmhc_text_printf(t, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x0, x1, y,
				 y);
		fmt_value(buf, sizeof buf, v, f->percent, k->step);
		text_at(t, x0 - 6, y + 4, "end", "tick", buf);
	}
	pmhc_text_printf(t, "<text class=\"axis\" transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\">",
			 (y0 + y1) / 2);
	pmhc_text_escape(t, f->y_label);
	pmhc_text_printf(t, "</text>");
}

/* Category labels under the plot, thinned to about twelve, and the x axis label. */
static void x_axis(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *x, size_t n, double x0,
		   double x1, double y)
{
	size_t every = n > 12 ? (n + 11) / 12 : 1;
	double bw = (x1 - x0) / (double)(n ? n : 1);
	for (size_t i = 0; i < n; i += every)
		text_at(t, x0 + (i + 0.5) * bw, y + 16, "middle", "tick", x[i]);
	text_at(t, (x0 + x1) / 2, y + 40, "middle", "axis", f->x_label);
}

static void legend(struct pmhc_text *t, const struct pmhc_series *s, size_t ns, double x, double y)
{
	for (size_t i = 0; i < ns; i++) {
		pmhc_text_printf(t,
				 "<rect class=\"key\" x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>",
				 x, y - 9, pmhc_chart_colour(i));
		text_at(t, x + 14, y, "start", "legend", s[i].name);
		x += 24 + 7.0 * (double)strlen(s[i].name);
	}
}

static double max_of(const struct pmhc_series *s, size_t ns, size_t n, bool stacked)
{
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		double sum = 0;
		for (size_t j = 0; j < ns; j++) {
			double v = s[j].v[i];
			if (!isfinite(v))
				continue;
			sum = stacked ? sum + v : v;
			if (sum > m)
				m = sum;
		}
	}
	return m;
}

static void mark_title(struct pmhc_text *t, const char *what, const char *x, double v, bool percent)
{
	char buf[32];
	fmt_value(buf, sizeof buf, v, percent, 0.001);
	pmhc_text_printf(t, "<title>");
	pmhc_text_escape(t, what);
	pmhc_text_printf(t, ", ");
	pmhc_text_escape(t, x);
	pmhc_text_printf(t, ": %s</title>", buf);
}

void pmhc_chart_lines(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *x, size_t n,
		      const struct pmhc_series *s, size_t ns, size_t band0, size_t band1, double ref,
		      const char *ref_label)
{
	double x0 = ML, x1 = W - MR, y0 = H - MB, y1 = MT, bw = (x1 - x0) / (double)(n ? n : 1);
	double top = max_of(s, ns, n, false);
	if (isfinite(ref) && ref > top)
		top = ref;
	struct pmhc_ticks k;
	pmhc_nice_ticks(0, top, 5, &k);
	open_svg(t, f, W, H);
	if (band1 > band0 && band1 <= n) {
		pmhc_text_printf(t, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
				 x0 + band0 * bw, y1, (band1 - band0) * bw, y0 - y1);
		text_at(t, x0 + band0 * bw + 4, y1 + 12, "start", "note", "baseline");
	}
	y_axis(t, f, &k, x0, x1, y0, y1);
	x_axis(t, f, x, n, x0, x1, y0);
	if (isfinite(ref)) {
		double y = pmhc_scale(ref, k.lo, k.hi, y0, y1);
		pmhc_text_printf(t, "<line class=\"ref\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x0, x1, y,
				 y);
		text_at(t, x1, y - 4, "end", "note", ref_label ? ref_label : "");
	}
	for (size_t j = 0; j < ns; j++) {
		/* A path broken where a value is missing, so a gap is never drawn across. */
		pmhc_text_printf(t, "<path class=\"line\" stroke=\"%s\" d=\"", pmhc_chart_colour(j));
		bool pen = false;
		for (size_t i = 0; i < n; i++) {
			double v = s[j].v[i];
			if (!isfinite(v)) {
				pen = false;
				continue;
			}
			pmhc_text_printf(t, "%c%.1f %.1f", pen ? 'L' : 'M', x0 + (i + 0.5) * bw,
					 pmhc_scale(v, k.lo, k.hi, y0, y1));
			pen = true;
		}
		pmhc_text_printf(t, "\"/>");
		for (size_t i = 0; i < n; i++) {
			double v = s[j].v[i];
			if (!isfinite(v))
				continue;
			pmhc_text_printf(t, "<circle class=\"mark\" r=\"2.5\" fill=\"%s\" cx=\"%.1f\" cy=\"%.1f\">",
					 pmhc_chart_colour(j), x0 + (i + 0.5) * bw, pmhc_scale(v, k.lo, k.hi, y0, y1));
			mark_title(t, s[j].name, x[i], v, f->percent);
			pmhc_text_printf(t, "</circle>");
		}
	}
	if (ns > 1)
		legend(t, s, ns, x0, 14);
	pmhc_text_printf(t, "</svg>\n");
}

void pmhc_chart_columns(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *x, size_t n,
			const struct pmhc_series *s, size_t ns)
{
	double x0 = ML, x1 = W - MR, y0 = H - MB, y1 = MT, bw = (x1 - x0) / (double)(n ? n : 1);
	struct pmhc_ticks k;
	pmhc_nice_ticks(0, max_of(s, ns, n, true), 5, &k);
	open_svg(t, f, W, H);
	y_axis(t, f, &k, x0, x1, y0, y1);
	x_axis(t, f, x, n, x0, x1, y0);
	double gap = bw > 6 ? bw * 0.15 : 0;
	for (size_t i = 0; i < n; i++) {
		double base = 0;
		for (size_t j = 0; j < ns; j++) {
			double v = s[j].v[i];
			if (!isfinite(v) || v <= 0)
				continue;
			double ya = pmhc_scale(base + v, k.lo, k.hi, y0, y1), yb = pmhc_scale(base, k.lo, k.hi, y0, y1);
			pmhc_text_printf(t,
					 "<rect class=\"mark\" fill=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					 "height=\"%.1f\">",
					 pmhc_chart_colour(j), x0 + i * bw + gap / 2, ya, bw - gap, yb - ya);
			mark_title(t, s[j].name, x[i], v, f->percent);
			pmhc_text_printf(t, "</rect>");
			base += v;
		}
	}
	if (ns > 1)
		legend(t, s, ns, x0, 14);
	pmhc_text_printf(t, "</svg>\n");
}

void pmhc_chart_hbars(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *labels, const double *v,
		      size_t n)
{
	double lw = 160, row = 20, x0 = lw, x1 = W - MR - 48, y1 = MT, y0 = MT + row * (double)(n ? n : 1);
	double h = y0 + MB, top = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]) && v[i] > top)
			top = v[i];
	struct pmhc_ticks k;
	pmhc_nice_ticks(0, top, 5, &k);
	open_svg(t, f, W, h);
	char buf[32];
	for (int i = 0; i < k.n; i++) {
		double xv = pmhc_scale(k.lo + i * k.step, k.lo, k.hi, x0, x1);
		pmhc_text_printf(t, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", xv, xv,
				 y1, y0);
		fmt_value(buf, sizeof buf, k.lo + i * k.step, f->percent, k.step);
		text_at(t, xv, y0 + 16, "middle", "tick", buf);
	}
	text_at(t, (x0 + x1) / 2, y0 + 40, "middle", "axis", f->x_label);
	text_at(t, 4, MT - 10, "start", "axis", f->y_label);
	for (size_t i = 0; i < n; i++) {
		double y = y1 + row * (double)i;
		text_at(t, x0 - 6, y + 14, "end", "tick", labels[i]);
		if (!isfinite(v[i])) {
			text_at(t, x0 + 4, y + 14, "start", "note", "hidden (small count)");
			continue;
		}
		double xe = pmhc_scale(v[i], k.lo, k.hi, x0, x1);
		pmhc_text_printf(t,
				 "<rect class=\"mark\" fill=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\">",
				 pmhc_chart_colour(0), x0, y + 3, xe - x0);
		mark_title(t, f->title, labels[i], v[i], f->percent);
		pmhc_text_printf(t, "</rect>");
		fmt_value(buf, sizeof buf, v[i], f->percent, 0.001);
		text_at(t, xe + 4, y + 14, "start", "value", buf);
	}
	pmhc_text_printf(t, "</svg>\n");
}

/* White to deep blue, by the share of the largest value. */
static void heat_fill(char *buf, size_t n, double share)
{
	if (share < 0)
		share = 0;
	if (share > 1)
		share = 1;
	int r = (int)lround(247 + (8 - 247) * share), g = (int)lround(251 + (48 - 251) * share),
	    b = (int)lround(255 + (107 - 255) * share);
	snprintf(buf, n, "#%02x%02x%02x", r, g, b);
}

void pmhc_chart_heat(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *rows, size_t nr,
		     const char *const *cols, size_t nc, const double *v)
{
	double lw = 150, row = 22, x0 = lw, x1 = W - MR, y1 = MT, y0 = MT + row * (double)nr;
	double cw = (x1 - x0) / (double)(nc ? nc : 1), top = 0;
	for (size_t i = 0; i < nr * nc; i++)
		if (isfinite(v[i]) && v[i] > top)
			top = v[i];
	size_t longest_col = 0;
	for (size_t c = 0; c < nc; c++)
		longest_col = strlen(cols[c]) > longest_col ? strlen(cols[c]) : longest_col;
	open_svg(t, f, W, y0 + MB + (double)longest_col * 4.0);
	pmhc_text_printf(t,
			 "<defs><pattern id=\"%s-hide\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
			 "<path d=\"M0 6L6 0\" stroke=\"#999\"/></pattern></defs>",
			 f->id);
	char fill[96];
	for (size_t r = 0; r < nr; r++) {
		text_at(t, x0 - 6, y1 + row * (double)r + 15, "end", "tick", rows[r]);
		for (size_t c = 0; c < nc; c++) {
			double val = v[r * nc + c];
			if (isfinite(val))
				heat_fill(fill, sizeof fill, top > 0 ? val / top : 0);
			else
				snprintf(fill, sizeof fill, "url(#%s-hide)", f->id);
			pmhc_text_printf(t,
					 "<rect class=\"mark\" fill=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					 "height=\"%.1f\">",
					 fill, x0 + cw * (double)c, y1 + row * (double)r, cw - 1, row - 1);
			pmhc_text_printf(t, "<title>");
			pmhc_text_escape(t, rows[r]);
			pmhc_text_printf(t, ", ");
			pmhc_text_escape(t, cols[c]);
			if (isfinite(val))
				pmhc_text_printf(t, ": %.10g</title></rect>", val);
			else
				pmhc_text_printf(t, ": hidden (small count)</title></rect>");
		}
	}
	/* Long column names (disposition codes) are slanted so that neighbours do not overlap. */
	size_t every = nc > 12 ? (nc + 11) / 12 : 1, longest = 0;
	for (size_t c = 0; c < nc; c++)
		longest = strlen(cols[c]) > longest ? strlen(cols[c]) : longest;
	bool slant = (double)longest * 6.5 > cw * (double)every;
	for (size_t c = 0; c < nc; c += every) {
		double cx = x0 + cw * ((double)c + 0.5);
		if (!slant) {
			text_at(t, cx, y0 + 16, "middle", "tick", cols[c]);
			continue;
		}
		pmhc_text_printf(
			t, "<text class=\"tick\" text-anchor=\"end\" transform=\"translate(%.1f %.1f) rotate(-35)\">",
			cx, y0 + 10);
		pmhc_text_escape(t, cols[c]);
		pmhc_text_printf(t, "</text>");
	}
	double below = slant ? 16 + (double)longest * 4.0 : 40;
	text_at(t, (x0 + x1) / 2, y0 + below, "middle", "axis", f->x_label);
	text_at(t, 4, MT - 10, "start", "axis", f->y_label);
	pmhc_text_printf(t, "</svg>\n");
}

void pmhc_chart_intervals(struct pmhc_text *t, const struct pmhc_frame *f, const char *const *labels, const double *est,
			  const double *lo, const double *hi, size_t n)
{
	double lw = 180, row = 26, x0 = lw, x1 = W - MR - 16, y1 = MT, y0 = MT + row * (double)(n ? n : 1);
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		double e[3] = { est[i], lo[i], hi[i] };
		for (int j = 0; j < 3; j++)
			if (isfinite(e[j]) && fabs(e[j]) > m)
				m = fabs(e[j]);
	}
	/* Symmetric about zero, so "no change" sits in the middle and both directions read alike. */
	struct pmhc_ticks k;
	pmhc_nice_ticks(-m, m, 6, &k);
	double d = fmax(fabs(k.lo), fabs(k.hi));
	open_svg(t, f, W, y0 + MB);
	char buf[32];
	for (double v = -d; v <= d + k.step / 2; v += k.step) {
		double xv = pmhc_scale(v, -d, d, x0, x1);
		pmhc_text_printf(t, "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
				 fabs(v) < k.step / 2 ? "zero" : "grid", xv, xv, y1, y0);
		fmt_value(buf, sizeof buf, fabs(v) < k.step / 2 ? 0 : v, f->percent, k.step);
		text_at(t, xv, y0 + 16, "middle", "tick", buf);
	}
	text_at(t, (x0 + x1) / 2, y0 + 40, "middle", "axis", f->x_label);
	text_at(t, 4, MT - 10, "start", "axis", f->y_label);
	for (size_t i = 0; i < n; i++) {
		double y = y1 + row * ((double)i + 0.5);
		text_at(t, x0 - 8, y + 4, "end", "tick", labels[i]);
		if (!isfinite(est[i])) {
			text_at(t, x0 + 4, y + 4, "start", "note", "not shown");
			continue;
		}
		pmhc_text_printf(t, "<g class=\"mark\">");
		if (isfinite(lo[i]) && isfinite(hi[i]))
			pmhc_text_printf(t, "<line class=\"ci\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
					 pmhc_scale(lo[i], -d, d, x0, x1), pmhc_scale(hi[i], -d, d, x0, x1), y, y);
		pmhc_text_printf(t, "<circle r=\"4\" fill=\"%s\" cx=\"%.1f\" cy=\"%.1f\"/>", pmhc_chart_colour(0),
				 pmhc_scale(est[i], -d, d, x0, x1), y);
		mark_title(t, f->title, labels[i], est[i], f->percent);
		pmhc_text_printf(t, "</g>");
	}
	pmhc_text_printf(t, "</svg>\n");
}
