/*
 * PostgreSQL's text forms, built in a growing buffer: COPY text fields, array
 * literals, bytea hex and timestamps. Pure: no libpq, no I/O, so the escaping
 * every stored byte passes through is unit-tested on its own.
 */
#ifndef PMHC_PGTEXT_H
#define PMHC_PGTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
 * A growing buffer; zeroed is empty, pmhc_sbuf_free() frees. A failed
 * allocation sets oom and turns every later put into a no-op, so a caller
 * checks oom once, after a whole row, not after each put.
 */
struct pmhc_sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void pmhc_sbuf_free(struct pmhc_sbuf *b);
void pmhc_sb_grow_put(struct pmhc_sbuf *b, const char *s, size_t n);

/* Appends n bytes, keeping room for a terminator. Every byte of a backfill passes here: the common case is inline. */
static inline void pmhc_sb_put(struct pmhc_sbuf *b, const char *s, size_t n)
{
	if (b->oom || b->len + n + 1 > b->cap) {
		pmhc_sb_grow_put(b, s, n);
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/*
 * Each appends one NUL-terminated value and returns the offset where it
 * starts: a row's values live in one buffer, found by their offsets.
 */
size_t pmhc_sb_str(struct pmhc_sbuf *b, const char *s);
size_t pmhc_sb_fmt(struct pmhc_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A PostgreSQL array literal: {"a","b"}, each element quoted, " and \ escaped. */
size_t pmhc_sb_array(struct pmhc_sbuf *b, char *const *items, size_t n);
/* Lowercase hex digits of n bytes. */
size_t pmhc_sb_hex(struct pmhc_sbuf *b, const unsigned char *bytes, size_t n);

/*
 * One field of a COPY text row (no terminator), after a tab unless first:
 * backslash, tab, newline and CR escaped; NULL (v == NULL) as \N.
 */
void pmhc_copy_field(struct pmhc_sbuf *out, const char *v, bool first);

/*
 * Milliseconds since the epoch, as decimal text, to a timestamptz literal in
 * UTC ("2025-11-23 04:00:00.000+00"). False for text that is not a whole
 * number, a year outside 1..9999, or an out buffer too small.
 */
bool pmhc_pg_timestamp(const char *ms, char *out, size_t out_len);
/* Hex digits to bytea's input form "\x…"; false if out is too small. */
bool pmhc_pg_bytea(const char *hex, char *out, size_t out_len);

#endif
