/*
 * The statement path: unit statuses and rejected events, few beside the rest,
 * one prepared statement a row, pipelined. A batch of nothing else takes this
 * path alone; otherwise it runs inside store_copy.c's transaction.
 */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "enums.h"
#include "store_int.h"
#include "store_sql.h"

/* Any one round trip longer than this means the server is gone or stuck. */
#define IO_TIMEOUT_MS 30000
/* The most parameters a statement takes: a unit status's. */
#define MAX_PARAMS SQL_UNIT_NPARAMS

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
	static const struct {
		const char *name, *sql;
		int nparams;
	} statements[] = {
		{ "pmhc_insert_unit_status", SQL_INSERT_UNIT_STATUS, SQL_UNIT_NPARAMS },
		{ "pmhc_insert_rejected", SQL_INSERT_REJECTED, SQL_REJECT_NPARAMS },
	};
	for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
		PGresult *r = PQprepare(s->conn, statements[i].name, statements[i].sql, statements[i].nparams, NULL);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok) {
			store_lose_connection(s, store_pq_error(s->conn));
			return false;
		}
	}
	return true;
}

/* Queues one prepared statement whose parameters sit in the scratch buffer at off[]. */
static bool send_prepared(struct pmhc_store *s, const char *stmt, int nparams, const size_t *off)
{
	const char *values[MAX_PARAMS];
	if (s->scratch.oom) {
		s->scratch.oom = false;
		store_lose_connection(s, "out of memory formatting a row");
		return false;
	}
	for (int p = 0; p < nparams; p++)
		values[p] = off[p] == STORE_NO_PARAM ? NULL : s->scratch.p + off[p];
	if (!PQsendQueryPrepared(s->conn, stmt, nparams, values, NULL, NULL, 0) || !flush_all(s->conn)) {
		store_lose_connection(s, store_pq_error(s->conn));
		return false;
	}
	return true;
}

static void unit_params(struct pmhc_sbuf *b, const struct pmhc_unit_row *row, size_t off[SQL_UNIT_NPARAMS])
{
	const Pmhc__V1__UnitStatus *u = row->status;
	bool has_pos = !(u->lat == 0 && u->lon == 0);
	off[0] = pmhc_sb_str(b, u->psap_id);
	off[1] = pmhc_sb_str(b, u->unit_id);
	off[2] = pmhc_sb_fmt(b, "%" PRId64, u->at_ms);
	off[3] = pmhc_sb_str(b, pmhc_enum_name(&pmhc__v1__unit_kind__descriptor, (int)u->kind));
	off[4] = pmhc_sb_str(b, pmhc_enum_name(&pmhc__v1__unit_state__descriptor, (int)u->state));
	off[5] = u->beat[0] ? pmhc_sb_str(b, u->beat) : STORE_NO_PARAM;
	off[6] = u->district[0] ? pmhc_sb_str(b, u->district) : STORE_NO_PARAM;
	off[7] = has_pos ? pmhc_sb_fmt(b, "%.17g", u->lat) : STORE_NO_PARAM;
	off[8] = has_pos ? pmhc_sb_fmt(b, "%.17g", u->lon) : STORE_NO_PARAM;
}

static void rejected_params(struct pmhc_sbuf *b, const struct pmhc_rejected_row *r, size_t off[SQL_REJECT_NPARAMS])
{
	off[0] = pmhc_sb_str(b, r->topic);
	off[1] = pmhc_sb_fmt(b, "%" PRId32, r->partition);
	off[2] = pmhc_sb_fmt(b, "%" PRId64, r->offset);
	off[3] = pmhc_sb_str(b, r->reason);
	off[4] = pmhc_sb_fmt(b, "%zu", r->size);
	off[5] = pmhc_sb_hex(b, r->payload_sha256, sizeof r->payload_sha256);
}

/* Queues every row's statement and the sync that ends them; false with the connection lost. */
static bool send_rows(struct pmhc_store *s, const struct pmhc_store_batch *b)
{
	size_t off[MAX_PARAMS];
	for (size_t i = 0; i < b->n_rejected; i++) {
		s->scratch.len = 0;
		rejected_params(&s->scratch, &b->rejected[i], off);
		if (!send_prepared(s, "pmhc_insert_rejected", SQL_REJECT_NPARAMS, off))
			return false;
	}
	for (size_t i = 0; i < b->n_units; i++) {
		s->scratch.len = 0;
		unit_params(&s->scratch, &b->units[i], off);
		if (!send_prepared(s, "pmhc_insert_unit_status", SQL_UNIT_NPARAMS, off))
			return false;
	}
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
				snprintf(first_error, sizeof first_error, "%s (%s)", PQresultErrorMessage(r), what);
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
