/*
 * The page around the charts: one HTML file with its style inline and no
 * outside requests (no fonts, scripts or stylesheets fetched), and the cells
 * every section writes. A count the public edition may not show is decided
 * here only (rp_count, rp_rate), so no section can leak one by its own wording.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "stats.h"

static const char style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1a1a1a;"
	"max-width:760px;margin:24px auto;padding:0 16px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 4px;border-top:1px solid #ccc;"
	"padding-top:12px}p.meta{color:#555;margin:0 0 12px}p.reading{margin:4px 0 8px;font-weight:600}"
	"svg.chart{display:block;max-width:100%;height:auto;font-size:11px}"
	"svg .grid{stroke:#e3e3e3}svg .zero{stroke:#333}svg .tick{fill:#444}svg .axis{fill:#222;font-weight:600}"
	"svg .line{fill:none;stroke-width:2}svg .band{fill:#fdf1d6}svg .ref{stroke:#8a5a00;stroke-dasharray:5 4}"
	"svg .note{fill:#8a5a00}svg .ci{stroke:#0072B2;stroke-width:2}svg .value{fill:#333}svg .legend{fill:#222}"
	"table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{padding:2px 8px;border-bottom:1px solid #eee}"
	"th{text-align:left}td.n,td.r{text-align:right;font-variant-numeric:tabular-nums}td.hidden{color:#777}"
	"details{margin:4px 0 12px}summary{cursor:pointer;color:#0b5cad}"
	"p.nodata{color:#555;font-style:italic}"
	"@media print{body{max-width:none;margin:0;font-size:11pt}section{break-inside:avoid-page}"
	"summary{display:none}details::details-content{content-visibility:visible;display:block}"
	"h2{break-after:avoid}}";

double rp_raw(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NAN;
	return strtod(PQgetvalue(r, row, col), NULL);
}

bool rp_hidden(const struct report *rp, double n)
{
	return isfinite(n) && pmhc_cell_hidden((long)n, rp->floor);
}

double rp_count(const struct report *rp, const PGresult *r, int row, int col)
{
	double v = rp_raw(r, row, col);
	return rp->public_edition && rp_hidden(rp, v) ? NAN : v;
}

/* A rate is hidden with its numerator or its denominator: either would give the small count away. */
double rp_rate(const struct report *rp, const PGresult *r, int row, int rate, int num, int den)
{
	double v = rp_raw(r, row, rate);
	if (rp->public_edition && (rp_hidden(rp, rp_raw(r, row, num)) || rp_hidden(rp, rp_raw(r, row, den))))
		return NAN;
	return v;
}

/* The reader's own floor, or the published one when the reader's hides nothing. */
long rp_shown_floor(const struct report *rp)
{
	return rp->floor > 0 ? rp->floor : PMHC_REPORT_PUBLIC_FLOOR;
}

const char *rp_words(char *buf, size_t n, const struct report *rp, double v)
{
	if (rp->public_edition && (rp_hidden(rp, v) || !isfinite(v)))
		snprintf(buf, n, "fewer than %ld", rp->floor);
	else if (!isfinite(v))
		snprintf(buf, n, "no");
	else
		snprintf(buf, n, "%.0f", v);
	return buf;
}

void rp_percent(char *buf, size_t n, double v)
{
	if (!isfinite(v))
		snprintf(buf, n, "–");
	else
		snprintf(buf, n, "%.1f%%", v * 100);
}

void rp_td_text(struct pmhc_text *t, const char *s)
{
	pmhc_text_printf(t, "<td>");
	pmhc_text_escape(t, s);
	pmhc_text_printf(t, "</td>");
}

static void td_hidden(struct pmhc_text *t, const struct report *rp, const char *cls)
{
	pmhc_text_printf(t, "<td class=\"%s hidden\" title=\"fewer than %ld: not shown\">&lt;%ld</td>", cls, rp->floor,
			 rp->floor);
}

void rp_td_count(struct pmhc_text *t, const struct report *rp, const PGresult *r, int row, int col)
{
	double v = rp_raw(r, row, col);
	if (!isfinite(v))
		pmhc_text_printf(t, "<td class=\"n hidden\" title=\"suppressed in the view\">–</td>");
	else if (rp->public_edition && rp_hidden(rp, v))
		td_hidden(t, rp, "n");
	else
		pmhc_text_printf(t, "<td class=\"n\" data-v=\"%s\">%s</td>", PQgetvalue(r, row, col),
				 PQgetvalue(r, row, col));
}

/* The view's own rounded value in data-v, so a test can compare it with the view's text. */
void rp_td_rate(struct pmhc_text *t, const struct report *rp, const PGresult *r, int row, int rate, int num, int den)
{
	double v = rp_rate(rp, r, row, rate, num, den);
	char buf[32];
	if (!isfinite(v) && !PQgetisnull(r, row, rate))
		td_hidden(t, rp, "r");
	else if (!isfinite(v))
		pmhc_text_printf(t, "<td class=\"r\">–</td>");
	else {
		rp_percent(buf, sizeof buf, v);
		pmhc_text_printf(t, "<td class=\"r\" data-v=\"%s\">%s</td>", PQgetvalue(r, row, rate), buf);
	}
}

void rp_td_class(struct pmhc_text *t, const char *cls, const char *s)
{
	pmhc_text_printf(t, "<td class=\"%s\">", cls);
	pmhc_text_escape(t, s);
	pmhc_text_printf(t, "</td>");
}

void rp_table_rows(struct pmhc_text *t, const struct report *rp, const PGresult *r, int n, const struct rp_col *cols,
		   int ncols)
{
	if (n < 0 || n > PQntuples(r))
		n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		pmhc_text_printf(t, "<tr>");
		for (const struct rp_col *c = cols; c < cols + ncols; c++) {
			if (c->kind == 'n')
				rp_td_count(t, rp, r, i, c->col);
			else if (c->kind == 'r')
				rp_td_rate(t, rp, r, i, c->col, c->num, c->den);
			else if (c->kind == 'm')
				rp_td_class(t, "m", PQgetvalue(r, i, c->col));
			else
				rp_td_text(t, PQgetvalue(r, i, c->col));
		}
		pmhc_text_printf(t, "</tr>\n");
	}
}

bool rp_empty(struct pmhc_text *t, const PGresult *r, const char *why)
{
	if (PQntuples(r) > 0)
		return false;
	rp_no_data(t, why);
	pmhc_text_printf(t, "</section>");
	return true;
}

void rp_section(struct pmhc_text *t, const char *id, const char *title)
{
	pmhc_text_printf(t, "\n<section id=\"s-%s\"><h2>", id);
	pmhc_text_escape(t, title);
	pmhc_text_printf(t, "</h2>");
}

void rp_reading(struct pmhc_text *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	pmhc_text_printf(t, "<p class=\"reading\">");
	pmhc_text_escape(t, buf);
	pmhc_text_printf(t, "</p>");
}

void rp_no_data(struct pmhc_text *t, const char *why)
{
	pmhc_text_printf(t, "<p class=\"nodata\">");
	pmhc_text_escape(t, why);
	pmhc_text_printf(t, "</p>");
}

void rp_table_open(struct pmhc_text *t, bool open, const char *caption, const char *const *head, int n)
{
	pmhc_text_printf(t, "<details%s><summary>The table behind the chart</summary><table><caption>",
			 open ? " open" : "");
	pmhc_text_escape(t, caption);
	pmhc_text_printf(t, "</caption><thead><tr>");
	for (int i = 0; i < n; i++) {
		pmhc_text_printf(t, "<th scope=\"col\">");
		pmhc_text_escape(t, head[i]);
		pmhc_text_printf(t, "</th>");
	}
	pmhc_text_printf(t, "</tr></thead><tbody>\n");
}

void rp_table_close(struct pmhc_text *t)
{
	pmhc_text_printf(t, "</tbody></table></details></section>\n");
}

static void header(struct pmhc_text *t, const struct report *rp)
{
	pmhc_text_printf(t, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
			    /* Nothing may be fetched: the file must read the same offline and leak no visit. */
			    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
			    "style-src 'unsafe-inline'; img-src data:\">"
			    "<title>Progress report: ");
	pmhc_text_escape(t, rp->psap);
	pmhc_text_printf(t, "</title><style>%s @page{size:%s;margin:14mm}</style></head><body><header><h1>", style,
			 rp->letter ? "letter" : "A4");
	pmhc_text_printf(t, "Police–mental health collaboration: progress report</h1><p class=\"meta\">PSAP ");
	pmhc_text_escape(t, rp->psap);
	pmhc_text_printf(t, " · baseline %s to %s · current %s to %s (local dates, end excluded) · time zone ",
			 rp->base0, rp->base1, rp->cur0, rp->cur1);
	pmhc_text_escape(t, rp->time_zone);
	pmhc_text_printf(t, " · made %s", rp->generated);
	if (rp->public_edition)
		pmhc_text_printf(t,
				 " · <strong>public edition</strong>: aggregates only; counts from 1 to %ld are "
				 "not shown, nor rates made from them",
				 rp->floor - 1);
	else
		pmhc_text_printf(t, " · <strong>for the workgroup</strong>: not for publication");
	pmhc_text_printf(t, "</p><p>Each chart has a one-line reading above it and the table behind it "
			    "below it. Rates are shares of mental-health (MH) calls with an outcome (a disposition "
			    "other than cancelled or no contact), as the analyst views define them.</p></header>");
}

void report_page(struct pmhc_text *t, const struct report *rp, bool open)
{
	header(t, rp);
	pmhc_text_printf(t, "<main>");
	report_outcomes(t, rp, open);
	report_change(t, rp, open);
	report_volume(t, rp, open);
	report_place(t, rp, open);
	report_hourdow(t, rp, open);
	report_mix(t, rp, open);
	report_rvd(t, rp, open);
	report_refer(t, rp, open);
	report_capacity(t, rp, open);
	report_divert(t, rp, open);
	report_repeats(t, rp, open);
	pmhc_text_printf(t, "</main><footer><p class=\"meta\">Made by pmhc-report from the analyst views of pmhcd. "
			    "docs/report.md says how each chart is made and read.</p></footer></body></html>\n");
}
