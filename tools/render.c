/*
 * render — see render.h. Text goes out through a "pen" that knows the column, so that
 * every line, the first and second included, wraps at word boundaries instead of being
 * cut by the terminal; colour codes take no column.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "render.h"
#include "utf8.h"

/* "HH:MM:SS  ": continuation lines start under the call id. */
#define INDENT 10

#define SGR_BOLD "1"
#define SGR_RED "31"
#define SGR_GREEN "32"
#define SGR_YELLOW "33"
#define SGR_REVERSE "7"

struct pen {
	FILE *out;
	int width;
	int col;
	int fresh; /* nothing written on this line after the indent */
	int color;
	const char *sgr; /* the style in force, NULL for none */
};

/*
 * A copy of S that is safe to print: valid UTF-8 with no control characters. Line
 * breaks and tabs become spaces (they only separate words), other controls '?',
 * invalid bytes U+FFFD. NULL when memory runs out.
 */
static char *clean_text(const char *s)
{
	const uint8_t *p = (const uint8_t *)(s ? s : "");
	size_t n = strlen((const char *)p);
	char *out = malloc(3 * n + 1), *o = out;
	uint32_t cp;

	if (!out)
		return NULL;
	while (n > 0) {
		size_t len = pmhc_utf8_decode(p, n, &cp);

		if (len == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			len = 1;
		} else if (cp == '\t' || cp == '\n' || cp == '\r') {
			*o++ = ' ';
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			*o++ = '?';
		} else {
			memcpy(o, p, len);
			o += len;
		}
		p += len;
		n -= len;
	}
	*o = '\0';
	return out;
}

/* Columns of one code point: wcwidth's answer, 1 where it has none (C locale). */
static int cp_width(uint32_t cp)
{
	int w = wcwidth((wchar_t)cp);

	return w < 0 ? 1 : w;
}

/* Columns of LEN bytes of cleaned (valid UTF-8) text. */
static int text_width(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	uint32_t cp;
	int w = 0;

	while (len > 0) {
		size_t n = pmhc_utf8_decode(p, len, &cp);

		if (n == 0)
			n = 1, cp = '?';
		w += cp_width(cp);
		p += n;
		len -= n;
	}
	return w;
}

static void style_on(struct pen *p, const char *sgr)
{
	p->sgr = sgr;
	if (p->color && sgr)
		fprintf(p->out, "\033[%sm", sgr);
}

static void style_off(struct pen *p)
{
	if (p->color && p->sgr)
		fputs("\033[0m", p->out);
	p->sgr = NULL;
}

/* The style is dropped for the newline and the indent, so neither shows coloured. */
static void pen_newline(struct pen *p)
{
	const char *sgr = p->sgr;

	style_off(p);
	fprintf(p->out, "\n%*s", INDENT, "");
	p->col = INDENT;
	p->fresh = 1;
	style_on(p, sgr);
}

static void spaces(struct pen *p, int n)
{
	fprintf(p->out, "%*s", n, "");
	p->col += n;
}

/* Writes one word that may be wider than a whole line: then it is broken anywhere. */
static void put_word_text(struct pen *p, const char *w, size_t len)
{
	const uint8_t *s = (const uint8_t *)w;
	uint32_t cp;

	while (len > 0) {
		size_t n = pmhc_utf8_decode(s, len, &cp);
		int cw;

		if (n == 0)
			n = 1, cp = '?';
		cw = cp_width(cp);
		if (p->col + cw > p->width && p->col > INDENT)
			pen_newline(p);
		fwrite(s, 1, n, p->out);
		p->col += cw;
		p->fresh = 0;
		s += n;
		len -= n;
	}
}

/*
 * Writes TEXT (raw, from the wire or ours) in style SGR, SEP spaces after what is
 * already on the line, wrapping between its words. A phrase that would fit on a line of
 * its own goes there whole rather than being split.
 */
static void put_phrase(struct pen *p, const char *sgr, const char *text, int sep)
{
	char *clean = clean_text(text);
	const char *s;
	int first = 1;

	if (!clean)
		return;
	s = clean;
	while (*s == ' ')
		s++;
	{
		size_t len = strlen(s);
		int w;

		while (len > 0 && s[len - 1] == ' ')
			len--;
		w = text_width(s, len);
		if (!p->fresh && p->col + sep + w > p->width && INDENT + w <= p->width)
			pen_newline(p);
	}
	while (*s) {
		size_t len = strcspn(s, " ");
		int gap = first ? sep : 1;
		int w = text_width(s, len);

		if (!p->fresh && p->col + gap + w > p->width)
			pen_newline(p);
		else if (!p->fresh)
			spaces(p, gap);
		if (first)
			style_on(p, sgr);
		put_word_text(p, s, len);
		first = 0;
		s += len;
		while (*s == ' ')
			s++;
	}
	style_off(p);
	free(clean);
}

/* Local time of MS: "HH:MM:SS", or with WITH_DATE "YYYY-MM-DD HH:MM". */
static void format_clock(char *buf, size_t size, int64_t ms, int with_date)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	if (ms == 0 || !localtime_r(&t, &tm) ||
	    strftime(buf, size, with_date ? "%Y-%m-%d %H:%M" : "%H:%M:%S", &tm) == 0)
		snprintf(buf, size, "%s", with_date ? "?" : "--:--:--");
}

static int same_local_day(int64_t a_ms, int64_t b_ms)
{
	time_t a = (time_t)(a_ms / 1000), b = (time_t)(b_ms / 1000);
	struct tm ta, tb;

	if (!localtime_r(&a, &ta) || !localtime_r(&b, &tb))
		return 0;
	return ta.tm_year == tb.tm_year && ta.tm_yday == tb.tm_yday;
}

/* The response's colour: how much police presence it sends, hottest in red. */
static const char *response_sgr(int response)
{
	switch (response) {
	case PMHC__V1__RESPONSE__RESPONSE_CIT_WITH_BACKUP:
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT:
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT_WITH_BACKUP: return SGR_BOLD ";" SGR_RED;
	case PMHC__V1__RESPONSE__RESPONSE_CIT:
	case PMHC__V1__RESPONSE__RESPONSE_CO_RESPONDER: return SGR_BOLD ";" SGR_YELLOW;
	case PMHC__V1__RESPONSE__RESPONSE_MOBILE_CRISIS:
	case PMHC__V1__RESPONSE__RESPONSE_CALL_DIVERSION:
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_MOBILE_CRISIS: return SGR_BOLD ";" SGR_GREEN;
	default: return NULL;
	}
}

static void response_name(char *buf, size_t size, int response)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&pmhc__v1__response__descriptor, response);
	static const char prefix[] = "RESPONSE_";

	/* proto3 enums are open: a number this build does not know is shown as such. */
	if (!v)
		snprintf(buf, size, "response %d", response);
	else if (strncmp(v->name, prefix, sizeof(prefix) - 1) == 0)
		snprintf(buf, size, "%s", v->name + sizeof(prefix) - 1);
	else
		snprintf(buf, size, "%s", v->name);
}

/* "LABEL A<SEP>B<SEP>C" into a new string; NULL when memory runs out. */
static char *join(const char *label, char **items, size_t n, const char *sep)
{
	size_t len = strlen(label) + 1, i;
	char *s, *o;

	for (i = 0; i < n; i++)
		len += strlen(items[i] ? items[i] : "") + strlen(sep);
	s = malloc(len);
	if (!s)
		return NULL;
	o = s + sprintf(s, "%s", label);
	for (i = 0; i < n; i++)
		o += sprintf(o, "%s%s", i ? sep : "", items[i] ? items[i] : "");
	return s;
}

void pmhc_watch_render(FILE *out, const struct pmhc_watch_block *b, int width, int color, int utf8)
{
	const Pmhc__V1__Recommendation *rec = b->rec;
	struct pen p = {
		.out = out,
		.width = width < PMHC_WATCH_MIN_WIDTH ? PMHC_WATCH_MIN_WIDTH : width,
		.col = 0,
		.fresh = 1,
		.color = color,
	};
	char buf[160], *s;
	size_t idlen;

	/* Line 1: when, which call, where, what to send. */
	format_clock(buf, sizeof(buf), rec->decided_at_ms, 0);
	put_phrase(&p, NULL, buf, 0);
	idlen = strlen(rec->psap_id) + strlen(rec->call_id) + 2;
	s = malloc(idlen);
	if (s) {
		snprintf(s, idlen, "%s%s%s", rec->psap_id, *rec->psap_id ? "/" : "", rec->call_id);
		put_phrase(&p, SGR_BOLD, s, 2);
		free(s);
	}
	snprintf(buf, sizeof(buf), "rev %" PRIu32, rec->revision);
	put_phrase(&p, NULL, buf, 2);
	if (!b->beat) {
		put_phrase(&p, NULL, "beat ?", 2);
	} else if (!*b->beat) {
		put_phrase(&p, NULL, "no beat", 2);
	} else {
		s = malloc(strlen(b->beat) + sizeof("beat "));
		if (s) {
			sprintf(s, "beat %s", b->beat);
			put_phrase(&p, NULL, s, 2);
			free(s);
		}
	}
	response_name(buf, sizeof(buf), rec->response);
	put_phrase(&p, response_sgr(rec->response), buf, 2);
	if (rec->dispatch_code && *rec->dispatch_code)
		put_phrase(&p, NULL, rec->dispatch_code, 2);

	/* Line 2: is it current, who goes, what was flagged. */
	pen_newline(&p);
	if (b->mark == PMHC_WATCH_MARK_SUPERSEDES) {
		snprintf(buf, sizeof(buf), "(supersedes rev %" PRIu32 ")", b->mark_revision);
		put_phrase(&p, SGR_BOLD, buf, 2);
	} else if (b->mark == PMHC_WATCH_MARK_STALE) {
		snprintf(buf, sizeof(buf), "STALE %s superseded by rev %" PRIu32, utf8 ? "\u2014" : "--",
			 b->mark_revision);
		put_phrase(&p, SGR_BOLD ";" SGR_REVERSE, buf, 2);
	}
	if (rec->n_unit_ids > 0) {
		s = join("units: ", rec->unit_ids, rec->n_unit_ids, ", ");
		if (s)
			put_phrase(&p, NULL, s, 2);
		free(s);
	} else {
		/* pmhcd picks no unit for STANDARD: the CAD's own rules send patrol. A call
		 * diversion needs none: the call stays with a crisis counselor. */
		put_phrase(&p, NULL,
			   rec->response == PMHC__V1__RESPONSE__RESPONSE_STANDARD         ? "CAD assigns patrol"
			   : rec->response == PMHC__V1__RESPONSE__RESPONSE_CALL_DIVERSION ? "on the phone, no unit"
											  : "no units",
			   2);
	}
	if (rec->n_flags > 0) {
		s = join("flags: ", rec->flags, rec->n_flags, " ");
		if (s)
			put_phrase(&p, NULL, s, 2);
		free(s);
	} else {
		put_phrase(&p, NULL, "no flags", 2);
	}
	/* Only worth a dispatcher's attention when the call is not new. */
	if (b->received_at_ms > 0 && rec->decided_at_ms - b->received_at_ms >= 60000) {
		char when[64];

		format_clock(when, sizeof(when), b->received_at_ms,
			     !same_local_day(b->received_at_ms, rec->decided_at_ms));
		snprintf(buf, sizeof(buf), "received %s", when);
		put_phrase(&p, NULL, buf, 2);
	}

	/* Line 3 and on: pmhcd's sentence for the dispatcher. */
	pen_newline(&p);
	put_phrase(&p, NULL, rec->summary && *rec->summary ? rec->summary : "(no summary)", 0);
	fputc('\n', out);
}
