#include "pgtext.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void pmhc_sbuf_free(struct pmhc_sbuf *b)
{
	free(b->p);
	*b = (struct pmhc_sbuf){ 0 };
}

void pmhc_sb_grow_put(struct pmhc_sbuf *b, const char *s, size_t n)
{
	if (b->oom || n > SIZE_MAX / 2 - b->len - 1) {
		b->oom = true;
		return;
	}
	size_t cap = (b->len + n + 1) * 2;
	char *p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = cap;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Terminates the value begun at mark; returns mark. */
static size_t end_value(struct pmhc_sbuf *b, size_t mark)
{
	pmhc_sb_put(b, "", 1);
	return mark;
}

size_t pmhc_sb_str(struct pmhc_sbuf *b, const char *s)
{
	size_t m = b->len;
	pmhc_sb_put(b, s, strlen(s));
	return end_value(b, m);
}

size_t pmhc_sb_fmt(struct pmhc_sbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	size_t m = b->len;
	if (n < 0 || (size_t)n >= sizeof tmp)
		b->oom = true; /* a number never needs more: treat it like a failed allocation */
	else
		pmhc_sb_put(b, tmp, (size_t)n);
	return end_value(b, m);
}

size_t pmhc_sb_array(struct pmhc_sbuf *b, char *const *items, size_t n)
{
	size_t m = b->len;
	pmhc_sb_put(b, "{", 1);
	for (size_t i = 0; i < n; i++) {
		pmhc_sb_put(b, i ? ",\"" : "\"", i ? 2 : 1);
		for (const char *p = items[i]; *p;) {
			size_t run = strcspn(p, "\"\\");
			pmhc_sb_put(b, p, run);
			p += run;
			if (*p != '\0') {
				char esc[2] = { '\\', *p++ };
				pmhc_sb_put(b, esc, 2);
			}
		}
		pmhc_sb_put(b, "\"", 1);
	}
	pmhc_sb_put(b, "}", 1);
	return end_value(b, m);
}

size_t pmhc_sb_hex(struct pmhc_sbuf *b, const unsigned char *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t m = b->len;
	for (size_t i = 0; i < n; i++) {
		char two[2] = { digits[bytes[i] >> 4], digits[bytes[i] & 15] };
		pmhc_sb_put(b, two, 2);
	}
	return end_value(b, m);
}

void pmhc_copy_field(struct pmhc_sbuf *out, const char *v, bool first)
{
	if (!first)
		pmhc_sb_put(out, "\t", 1);
	if (v == NULL) {
		pmhc_sb_put(out, "\\N", 2);
		return;
	}
	for (const char *p = v; *p;) {
		size_t run = strcspn(p, "\\\t\n\r");
		pmhc_sb_put(out, p, run);
		p += run;
		if (*p != '\0') {
			char esc[2] = { '\\', *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : '\\' };
			pmhc_sb_put(out, esc, 2);
			p++;
		}
	}
}

bool pmhc_pg_timestamp(const char *v, char *out, size_t out_len)
{
	char *end;
	errno = 0;
	long long ms = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || errno == ERANGE)
		return false;
	long long sec = ms / 1000, milli = ms % 1000;
	if (milli < 0) {
		milli += 1000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return false;
	int n = snprintf(out, out_len, "%04d-%02d-%02d %02d:%02d:%02d.%03lld+00", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
	return n > 0 && (size_t)n < out_len;
}

bool pmhc_pg_bytea(const char *hex, char *out, size_t out_len)
{
	int n = snprintf(out, out_len, "\\x%s", hex);
	return n > 0 && (size_t)n < out_len;
}
