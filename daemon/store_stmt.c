/*
 * The statement path: unit statuses and rejected events, few beside the rest,
 * one prepared statement a row, pipelined. A batch of nothing else takes this
 * path alone; otherwise it runs inside store_copy.c's transaction.
 */
#include <poll.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "store_int.h"
#include "store_sql.h"

/* Any one round trip longer than this means the server is gone or stuck. */
#define IO_TIMEOUT_MS 30000

/* Waits until the socket is ready; false on timeout or error. */
static bool wait_socket(PGconn *conn, bool for_write)
{
	struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN | (for_write ? POLLOUT : 0) };
	int n = poll(&pfd, 1, IO_TIMEOUT_MS);
	return n > 0;
}

/* Pushes queued output; reads input meanwhile so the server never blocks on us. */
static bool flush_all(PGconn *conn)
{
	int r;
	while ((r = PQflush(conn)) == 1) {
		if (!wait_socket(conn, true) || !PQconsumeInput(conn))
			return false;
	}
	return r == 0;
}

/* The next result, waiting for it without blocking forever. NULL at a boundary or on error. */
static PGresult *next_result(PGconn *conn, bool *io_failed)
{
	while (PQisBusy(conn)) {
		if (!wait_socket(conn, false) || !PQconsumeInput(conn)) {
			*io_failed = true;
			return NULL;
		}
	}
	return PQgetResult(conn);
}

bool store_prepare_statements(struct pmhc_store *s)
{
	/* Every statement a batch may send, prepared once per connection. */
	const struct {
		const char *name, *sql;
		const struct store_cols *cols;
	} statements[] = {
		{ SQL_STMT_INSERT_UNIT_STATUS, s->sql->insert_unit_status, &store_unit_cols },
		{ SQL_STMT_INSERT_REJECTED, s->sql->insert_rejected, &store_rejected_cols },
	};
	for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
		int nparams = (int)store_count_cols(statements[i].cols, STORE_IN_TABLE);
		s->statement = statements[i].name;
		PGresult *r = PQprepare(s->conn, statements[i].name, statements[i].sql, nparams, NULL);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		/* A table dropped or renamed is refused here, with its SQLSTATE: kept, for the writer to escalate. */
		if (!ok && PQstatus(s->conn) == CONNECTION_OK)
			store_note_failure(s, r);
		PQclear(r);
		if (!ok) {
			store_lose_connection(s, store_pq_error(s->conn));
			return false;
		}
	}
	return true;
}

/* Queues one prepared statement, its parameters made from row by the columns cols. */
static bool send_prepared(struct pmhc_store *s, const char *stmt, const struct store_cols *cols, const void *row)
{
	size_t off[STORE_MAX_COLS];
	const char *values[STORE_MAX_COLS];
	s->scratch.len = 0;
	size_t n = store_put_row(&s->scratch, cols, STORE_IN_TABLE, row, off, NULL);
	if (s->scratch.oom) {
		s->scratch.oom = false;
		store_lose_connection(s, "out of memory formatting a row");
		return false;
	}
	for (size_t p = 0; p < n; p++)
		values[p] = off[p] == STORE_NO_PARAM ? NULL : s->scratch.p + off[p];
	s->statement = stmt;
	if (!PQsendQueryPrepared(s->conn, stmt, (int)n, values, NULL, NULL, 0) || !flush_all(s->conn)) {
		store_lose_connection(s, store_pq_error(s->conn));
		return false;
	}
	return true;
}

/* Queues every row's statement and the sync that ends them; false with the connection lost. */
static bool send_rows(struct pmhc_store *s, const struct pmhc_store_batch *b)
{
	for (size_t i = 0; i < b->n_rejected; i++)
		if (!send_prepared(s, SQL_STMT_INSERT_REJECTED, &store_rejected_cols, &b->rejected[i]))
			return false;
	for (size_t i = 0; i < b->n_units; i++)
		if (!send_prepared(s, SQL_STMT_INSERT_UNIT_STATUS, &store_unit_cols, &b->units[i]))
			return false;
	if (!PQpipelineSync(s->conn) || !flush_all(s->conn)) {
		store_lose_connection(s, store_pq_error(s->conn));
		return false;
	}
	return true;
}

/*
 * Reads the total statements' results and the sync. 0; -1 with the connection
 * lost; or 1 when the server refused one, its words and SQLSTATE in last_error.
 */
static int read_results(struct pmhc_store *s, const struct pmhc_store_batch *b, size_t total)
{
	PGconn *c = s->conn;
	char first_error[sizeof s->last_error] = "", first_state[sizeof s->last_sqlstate] = "";
	bool io_failed = false;
	for (size_t i = 0; i < total && !io_failed; i++) {
		PGresult *r;
		while ((r = next_result(c, &io_failed)) != NULL) {
			if (PQresultStatus(r) == PGRES_FATAL_ERROR && first_error[0] == '\0') {
				const char *what = i < b->n_rejected ? "rejected event" : "unit status";
				store_terse_error(r, first_error, sizeof first_error - sizeof " (rejected event)");
				size_t n = strlen(first_error);
				snprintf(first_error + n, sizeof first_error - n, " (%s)", what);
				const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
				snprintf(first_state, sizeof first_state, "%s", state ? state : "");
			}
			PQclear(r);
		}
	}
	PGresult *sync = io_failed ? NULL : next_result(c, &io_failed);
	bool synced = sync != NULL && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
	PQclear(sync);
	if (io_failed || !synced) {
		store_lose_connection(s, io_failed ? "no answer from the server" : store_pq_error(c));
		return -1;
	}
	if (first_error[0] == '\0')
		return 0;
	store_one_line(first_error);
	snprintf(s->last_error, sizeof s->last_error, "%s", first_error);
	snprintf(s->last_sqlstate, sizeof s->last_sqlstate, "%s", first_state);
	return 1;
}

/*
 * Unit statuses and rejected events, one prepared statement each, pipelined.
 * Outside store_write_copy()'s transaction they form one implicit transaction
 * of their own, committed at the sync or, after any error, rolled back whole.
 */
int store_write_statements(struct pmhc_store *s, const struct pmhc_store_batch *b)
{
	size_t total = b->n_rejected + b->n_units;
	if (total == 0)
		return 0;
	if (store_ensure_ready(s) != 0)
		return -1;
	PGconn *c = s->conn;
	if (PQsetnonblocking(c, 1) != 0 || !PQenterPipelineMode(c)) {
		store_lose_connection(s, store_pq_error(c));
		return -1;
	}
	if (!send_rows(s, b))
		return -1;
	int rc = read_results(s, b, total);
	if (rc < 0)
		return -1;
	PQexitPipelineMode(c);
	PQsetnonblocking(c, 0);
	return rc == 0 ? 0 : -1;
}
