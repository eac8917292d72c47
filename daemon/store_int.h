/*
 * The store's insides, shared by its files: only daemon/store*.c include this
 * header. Everything else sees store.h alone. Each file has one job:
 *
 *   store.c          the connection, reconnects, what a refusal means, and the
 *                    public entry points, which dispatch to the two paths
 *   store_migrate.c  the migrations at start
 *   store_copy.c     calls, decisions and dispositions by COPY, and the merges
 *   store_stmt.c     unit statuses and rejections as pipelined statements
 *   store_cols.c     the columns of each kind of row, and the SQL made from them
 *   store_derived.c  the derived values of pmhc.calls: deferred by backfill, its final pass
 *   store_sql.h      the SQL text
 */
#ifndef PMHC_STORE_INT_H
#define PMHC_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "pgtext.h"
#include "pick.h"
#include "store_cols.h"
#include "store.h"

/* PostgreSQL's words for a refused statement: its message and a constraint's detail fit. */
#define STORE_ERROR_LEN 512
/* A SQLSTATE: five characters and a NUL. */
#define STORE_SQLSTATE_LEN 6

struct pmhc_store {
	PGconn *conn;
	char *conninfo;
	const struct store_statements *sql; /* made from the column tables */
	bool prepared;
	bool lost;
	bool staged;                /* the COPY staging table exists on this connection */
	bool deferred;              /* backfill: writes leave the derived values to the final pass */
	bool oom;                   /* a batch failed for want of memory, not for its data */
	bool unformatted;           /* a COPY was ended for a value pmhcd could not convert */
	unsigned long stage_merges; /* merges since the connection began */
	unsigned long generation;   /* counts connections: a reconnect mid-batch shows */
	char last_error[STORE_ERROR_LEN];
	char last_sqlstate[STORE_SQLSTATE_LEN]; /* of the last statement that failed */
	const char *statement;                  /* the last statement sent: a prepared name or static SQL text */
	struct pmhc_sbuf scratch;
	/* The COPY path's working space, kept between batches. */
	struct pmhc_sbuf line;
	struct pmhc_pick_item *pick_items;
	size_t *pick_keep, *pick_decide, *pick_merge, pick_cap;
	bool *pick_unseen;
};

/* store.c: the connection and what a refusal means. */

/* PostgreSQL's words as one log field: its control characters and quotes become spaces. */
void store_one_line(char *text);
/* libpq's message as one log field, without its trailing newline. */
const char *store_pq_error(PGconn *conn);
/* Drops the connection: the batch is to be tried again on a new one. */
void store_lose_connection(struct pmhc_store *s, const char *why);
/* Connects again if need be and prepares the statements; -1 with the connection lost. */
int store_ensure_ready(struct pmhc_store *s);
/* Keeps PostgreSQL's words and SQLSTATE for a statement it refused. */
/* r's primary message and the constraint, column and table it names: never the row's values. */
void store_terse_error(const PGresult *r, char *buf, size_t len);
void store_note_failure(struct pmhc_store *s, const PGresult *r);
/* Whether a refusal is the rows' own doing (see store.c). */
bool store_rows_at_fault(const char *sqlstate);
/* Whether a refusal is the server's trouble for certain, whatever the statement. */
bool store_server_trouble(const char *sqlstate);
/* The server refused for a reason of its own: drop the connection and retry. */
void store_server_refused(struct pmhc_store *s);
/*
 * A refused batch, the connection still good: the server's trouble drops the
 * connection, a refusal for the rows' data is logged when the batch holds more
 * than one event. Always -1, for the caller to return.
 */
int store_refused(struct pmhc_store *s, const struct pmhc_store_batch *b);
/* One statement's result when it has status want; otherwise NULL with last_error set. */
PGresult *store_exec_result(struct pmhc_store *s, const char *sql, ExecStatusType want);
/* One statement that returns no rows; false with last_error set. */
bool store_exec(struct pmhc_store *s, const char *sql);

/* store_copy.c: calls and dispositions through COPY, the rest as statements, in one transaction. */
int store_write_copy(struct pmhc_store *s, const struct pmhc_store_batch *b, struct pmhc_store_result *res);

/*
 * A write with no rows, rolled back: meets what every row would meet (a table
 * dropped, a privilege revoked, a statement trigger) and no row's data. 0 when
 * the server takes it; -1 with last_error set.
 */
int store_probe(struct pmhc_store *s);

/* store_derived.c: says on a new connection whether its writes defer the derived values; false with last_error set. */
bool store_apply_deferral(struct pmhc_store *s);

/* store_stmt.c: the statements a batch may send, prepared once per connection. */
bool store_prepare_statements(struct pmhc_store *s);
/* Unit statuses and rejected events, pipelined; 0, or -1 (last_error, or the connection lost). */
int store_write_statements(struct pmhc_store *s, const struct pmhc_store_batch *b);

#endif
