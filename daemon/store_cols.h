/*
 * The columns the store writes: one table for each kind of row, each column
 * named once, with the type of its text, how SQL converts it, where it goes
 * and how its value is made from a row. The staging tables, the COPY column
 * lists, the statements' parameters and the merges' column lists are
 * generated from these tables (store_cols.c), so that a column is added in
 * one line. Included by daemon/store*.c, and by the unit test that checks the
 * generated SQL without a server.
 */
#ifndef PMHC_STORE_COLS_H
#define PMHC_STORE_COLS_H

#include <stdbool.h>
#include <stddef.h>

#include "pgtext.h"

/* The offset of a value that is SQL NULL, among a row's values in the scratch buffer. */
#define STORE_NO_PARAM ((size_t)-1)

/*
 * A row's value offsets live on the stack: room for the widest row (a call,
 * 33 columns) and a few to come. store_cols.c checks every table fits.
 */
#define STORE_MAX_COLS 40

/* How a column's text becomes the real column's type. */
enum store_as {
	STORE_AS_TEXT,      /* as it is: PostgreSQL's input function reads it */
	STORE_AS_TIMESTAMP, /* milliseconds since the epoch */
	STORE_AS_BYTEA,     /* lowercase hex digits */
};

/* Where a column goes: bits of store_col.in. */
enum {
	STORE_IN_TABLE = 1u << 0, /* the row's own table: pmhc.calls, .dispositions, .unit_status, .rejected_events */
	STORE_IN_DECISIONS = 1u << 1,  /* pmhc.decisions: a call row's decision */
	STORE_TABLE_KEY = 1u << 2,     /* in the own table's conflict key, which a merge never updates */
	STORE_DECISIONS_KEY = 1u << 3, /* in pmhc.decisions' conflict key */
	/*
	 * Only in a direct COPY into its own table: history's first guess, which
	 * migration 014's final pass corrects (live, false until the statement
	 * trigger sets it); never staged or merged over a stored value.
	 */
	STORE_IN_COPY = 1u << 4,
};
/* A staging table holds every column of its kind of row. */
#define STORE_STAGED (STORE_IN_TABLE | STORE_IN_DECISIONS)

struct store_col {
	const char *name; /* in the real table and in staging alike */
	const char *type; /* the SQL type of its text: its type in staging */
	enum store_as as;
	unsigned in; /* STORE_IN_* and STORE_*_KEY */
	/* Appends the value for row to b: its offset, or STORE_NO_PARAM for NULL. */
	size_t (*put)(struct pmhc_sbuf *b, const void *row);
};

struct store_cols {
	const struct store_col *col;
	size_t n;
};

/* struct pmhc_call_row, pmhc_disposition_row, pmhc_unit_row, pmhc_rejected_row (store.h). */
extern const struct store_cols store_call_cols, store_disposition_cols, store_unit_cols, store_rejected_cols;

/* How many of t's columns have a bit of in. */
size_t store_count_cols(const struct store_cols *t, unsigned in);

/*
 * Appends to b the values of t's columns that have a bit of in, in the
 * table's order: off[k] is the k-th one's offset and, unless which is NULL,
 * which[k] its column. The number of columns; b->oom if memory ran out.
 */
size_t store_put_row(struct pmhc_sbuf *b, const struct store_cols *t, unsigned in, const void *row,
		     size_t off[STORE_MAX_COLS], const struct store_col *which[STORE_MAX_COLS]);

/*
 * Each statement's text holds at most this: the longest, the calls' merge, is
 * about 3.6 kB with today's columns; twice that leaves room for columns to
 * come, and the store refuses to start (and the unit test fails) before one
 * is cut.
 */
#define STORE_SQL_LEN 8192

/* The statements generated from the tables (store_sql.h has their templates). */
struct store_statements {
	char stage_calls[STORE_SQL_LEN];
	char copy_calls[STORE_SQL_LEN];
	char copy_decisions[STORE_SQL_LEN];
	char move_calls[STORE_SQL_LEN];
	char stage_dispositions[STORE_SQL_LEN];
	char copy_dispositions[STORE_SQL_LEN];
	char move_dispositions[STORE_SQL_LEN];
	char insert_unit_status[STORE_SQL_LEN];
	char insert_rejected[STORE_SQL_LEN];
};

/* Built at the first call, once for all threads; NULL if a statement did not fit. */
const struct store_statements *store_statements(void);

#endif
