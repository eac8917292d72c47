/*
 * The store's connection: connecting with retries, reconnecting mid-run, what
 * a refusal of the server's means, and the public entry points, which send a
 * batch down the COPY path (store_copy.c) or the statement path (store_stmt.c).
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "store_int.h"
#include "store_sql.h"
#include "transport_check.h"
#include "utf8.h"

/*
 * A start that finds PostgreSQL down retries from a quarter second, so a server
 * restarting alongside pmhcd is caught at once, and never waits more than 5 s
 * between tries, so it connects soon after the server comes back.
 */
#define CONNECT_BACKOFF_FIRST_MS 250
#define CONNECT_BACKOFF_CAP_MS 5000

/*
 * libpq's settings for every connection (connect_once). A server that does not
 * answer a connect within 10 s is as good as down for a writer: the retries
 * take over. One that goes silent on an open connection is dropped after 30 s:
 * 15 s idle, then 3 keepalives 5 s apart, and the TCP user timeout gives
 * unacknowledged data the same 30 s.
 */
#define CONNECT_TIMEOUT_S "10"
#define KEEPALIVES_IDLE_S "15"
#define KEEPALIVES_INTERVAL_S "5"
#define KEEPALIVES_COUNT "3"
#define TCP_USER_TIMEOUT_MS "30000"

/* Room for what store_server_refused() adds: " (SQLSTATE 57014, not the rows' fault)". */
#define REFUSED_SUFFIX_LEN 64

/* The server's double quotes become single ones: the text goes inside a quoted log field. */
void store_one_line(char *text)
{
	for (unsigned char *q = (unsigned char *)text; *q; q++)
		if (*q < 0x20 || *q == 0x7f)
			*q = ' ';
		else if (*q == '"')
			*q = '\'';
}

/*
 * libpq's message as one log field: its first line only. After a failed
 * statement the lines below it are the server's DETAIL and CONTEXT, which
 * can quote a row; for a failed connection they are hints.
 */
const char *store_pq_error(PGconn *conn)
{
	static _Thread_local char buf[STORE_ERROR_LEN];
	/* No connection: libpq ran out of memory, or connect_once dropped it (and said why). */
	snprintf(buf, sizeof buf, "%s",
		 conn ? PQerrorMessage(conn) : "no connection: out of memory, or search_path could not be pinned");
	buf[strcspn(buf, "\n")] = '\0';
	pmhc_utf8_drop_cut(buf);
	store_one_line(buf);
	return buf;
}

/*
 * libpq would print a server's notice raw on stderr, in no format the log
 * readers know; it becomes a log line like any other, at its own severity.
 */
static void notice_to_log(void *arg, const PGresult *r)
{
	(void)arg;
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *text = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	char line[STORE_ERROR_LEN];
	snprintf(line, sizeof line, "%s", text ? text : "");
	pmhc_utf8_drop_cut(line);
	store_one_line(line);
	/* NOTICE is chatter such as "already exists, skipping"; INFO is what someone asked to see. */
	sev = sev ? sev : "NOTICE";
	enum pmhc_log_level level = strcmp(sev, "WARNING") == 0 ? PMHC_LOG_WARN
				    : strcmp(sev, "INFO") == 0  ? PMHC_LOG_INFO
								: PMHC_LOG_DEBUG;
	pmhc_log_at(level, __FILE__, __LINE__, "msg=\"PostgreSQL: %s\" severity=%s sqlstate=%s", line, sev,
		    state ? state : "-");
}

/*
 * search_path is pg_catalog, then pg_temp, on every connection, set after the
 * connection is made: a SET then outlasts whatever chose another path before
 * it (an options= in the conninfo, PGOPTIONS, ALTER ROLE/DATABASE ... SET),
 * where an options= of ours would have thrown away the user's own options
 * (lock_timeout, say). Nothing a user may create in public, or in any schema,
 * is then found by an unqualified name: the CVE-2018-1058 pattern, a
 * public.to_timestamp(numeric) or a public operator = that fits our argument
 * types better than pg_catalog's, runs as the daemon's role. Functions and
 * operators are never looked up in pg_temp; tables there only after pg_catalog.
 */
static int pin_search_path(PGconn *conn)
{
	PGresult *r = PQexec(conn, SQL_PIN_SEARCH_PATH);
	int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
	if (rc != 0)
		pmhc_error("msg=\"pinning search_path failed; dropping the connection\" error=\"%s\"",
			   store_pq_error(conn));
	PQclear(r);
	return rc;
}

static PGconn *connect_once(const char *conninfo)
{
	/*
	 * expand_dbname lets conninfo be a URI or key=value string. Ours come
	 * before it, so they only fill gaps: libpq lets a later entry win. A
	 * server that vanished without a word (failover, a cut cable) is noticed
	 * by keepalives and the TCP user timeout within about 30 s, not after
	 * the kernel's two hours; over a Unix socket they do not apply.
	 */
	const char *kw[] = { "application_name", "connect_timeout",  "keepalives_idle", "keepalives_interval",
			     "keepalives_count", "tcp_user_timeout", "dbname",          NULL };
	const char *val[] = { "pmhcd",          CONNECT_TIMEOUT_S,   KEEPALIVES_IDLE_S, KEEPALIVES_INTERVAL_S,
			      KEEPALIVES_COUNT, TCP_USER_TIMEOUT_MS, conninfo,          NULL };
	PGconn *conn = PQconnectdbParams(kw, val, 1);
	if (conn != NULL)
		PQsetNoticeReceiver(conn, notice_to_log, NULL);
	if (PQstatus(conn) == CONNECTION_OK && pin_search_path(conn) != 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/*
 * A DBA's lock (an ALTER TABLE, a plain CREATE INDEX, a LOCK TABLE left open)
 * would hold the writer without a word for as long as it lasts. After
 * SQL_LOCK_TIMEOUT the wait fails instead: logged with its SQLSTATE (55P03) and
 * retried like any trouble of the server's. Only when nobody chose a
 * lock_timeout (the conninfo's options, PGOPTIONS, or a setting of the role or
 * database win), and only for batches: the migrations at start wait as long
 * as they must, behind another instance's or a report's lock.
 */
static void limit_lock_waits(PGconn *conn)
{
	PGresult *r = PQexec(conn, SQL_SHOW_LOCK_TIMEOUT);
	bool unset = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") == 0;
	PQclear(r);
	if (!unset)
		return;
	r = PQexec(conn, SQL_SET_LOCK_TIMEOUT);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		pmhc_warn("msg=\"lock_timeout not set; a lock on pmhcd's tables will hold the writer silently\" "
			  "error=\"%s\"",
			  store_pq_error(conn));
	PQclear(r);
}

struct pmhc_store *pmhc_store_open(const char *conninfo, int timeout_s, const volatile sig_atomic_t *stop)
{
	const struct store_statements *sql = store_statements();
	if (sql == NULL) {
		pmhc_error("msg=\"a statement made from the column tables is longer than STORE_SQL_LEN\" "
			   "hint=\"a bug of pmhcd's: raise STORE_SQL_LEN in daemon/store_cols.h\"");
		return NULL;
	}
	struct pmhc_store *s = calloc(1, sizeof *s);
	if (s == NULL || (s->conninfo = strdup(conninfo)) == NULL) {
		free(s);
		return NULL;
	}
	s->sql = sql;
	int64_t t0 = pmhc_mono_ms();
	long backoff = CONNECT_BACKOFF_FIRST_MS;
	for (int attempt = 1;; attempt++) {
		s->conn = connect_once(conninfo);
		if (PQstatus(s->conn) == CONNECTION_OK)
			break;
		long elapsed = (long)((pmhc_mono_ms() - t0) / 1000);
		const char *tls_hint = pmhc_pg_error_hint(store_pq_error(s->conn));
		if (elapsed >= timeout_s || (stop && *stop)) {
			pmhc_error("msg=\"PostgreSQL unreachable; giving up\" attempts=%d waited_s=%ld error=\"%s\" "
				   "hint=\"%s\"",
				   attempt, elapsed, store_pq_error(s->conn),
				   tls_hint ? tls_hint : "check postgres.conninfo and that the server is up");
			PQfinish(s->conn);
			free(s->conninfo);
			free(s);
			return NULL;
		}
		pmhc_warn("msg=\"PostgreSQL unreachable; retrying\" attempt=%d retry_in_ms=%ld error=\"%s\"", attempt,
			  backoff, store_pq_error(s->conn));
		PQfinish(s->conn);
		s->conn = NULL;
		pmhc_sleep_ms(backoff);
		backoff = pmhc_backoff_next(backoff, CONNECT_BACKOFF_CAP_MS);
	}
	pmhc_info("msg=\"connected to PostgreSQL\" server_version=%d", PQserverVersion(s->conn));
	return s;
}

void pmhc_store_close(struct pmhc_store *s)
{
	if (s == NULL)
		return;
	PQfinish(s->conn);
	free(s->conninfo);
	pmhc_sbuf_free(&s->scratch);
	pmhc_sbuf_free(&s->line);
	free(s->pick_items);
	free(s->pick_keep);
	free(s->pick_decide);
	free(s->pick_merge);
	free(s->pick_unseen);
	free(s);
}

bool pmhc_store_connection_lost(const struct pmhc_store *s)
{
	return s->lost;
}

const char *pmhc_store_last_error(const struct pmhc_store *s)
{
	return s->last_error;
}

const char *pmhc_store_last_sqlstate(const struct pmhc_store *s)
{
	return s->last_sqlstate;
}

void pmhc_store_last_statement(const struct pmhc_store *s, char *buf, size_t len)
{
	/* "INSERT INTO pmhc.calls (call_id, ...) SELECT ..." is named "INSERT INTO pmhc.calls". */
	const char *st = s->statement ? s->statement : "-";
	size_t n = strcspn(st, "(\n;");
	while (n > 0 && st[n - 1] == ' ')
		n--;
	snprintf(buf, len, "%.*s", (int)n, st);
	store_one_line(buf);
}

bool pmhc_store_error_persistent(const char *sqlstate)
{
	static const char classes[][3] = { "0A", "28", "3D", "3F", "42" };
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (strncmp(sqlstate, classes[i], 2) == 0)
			return true;
	return false;
}

void store_lose_connection(struct pmhc_store *s, const char *why)
{
	pmhc_error("msg=\"PostgreSQL write failed; will reconnect and retry\" error=\"%s\"", why);
	PQfinish(s->conn);
	s->conn = NULL;
	s->prepared = false;
	s->staged = false;
	s->lost = true;
}

int store_ensure_ready(struct pmhc_store *s)
{
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
		if (s->conn != NULL)
			PQfinish(s->conn);
		s->conn = connect_once(s->conninfo);
		s->prepared = false;
		s->staged = false;
		s->generation++;
		if (PQstatus(s->conn) != CONNECTION_OK) {
			store_lose_connection(s, store_pq_error(s->conn));
			return -1;
		}
		pmhc_info("msg=\"reconnected to PostgreSQL\"");
	}
	if (!s->prepared) {
		limit_lock_waits(s->conn);
		if (!store_apply_deferral(s)) {
			store_lose_connection(s, s->last_error);
			return -1;
		}
		if (!store_prepare_statements(s))
			return -1;
		s->prepared = true;
	}
	s->lost = false;
	return 0;
}

/*
 * The server's primary message and the names of the constraint, column and
 * table it gives, nothing else. Its DETAIL ("Failing row contains (...)")
 * and the CONTEXT of a COPY quote the row, narrative included: they must
 * not reach the log, a DLQ header or pmhc.rejected_events.
 */
void store_terse_error(const PGresult *r, char *buf, size_t len)
{
	static const struct {
		int field;
		const char *label;
	} names[] = {
		{ PG_DIAG_CONSTRAINT_NAME, "constraint" },
		{ PG_DIAG_COLUMN_NAME, "column" },
		{ PG_DIAG_TABLE_NAME, "table" },
	};
	const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	size_t used = (size_t)snprintf(buf, len, "%s", primary ? primary : "unknown error");
	for (size_t i = 0; i < sizeof names / sizeof names[0] && used < len; i++) {
		const char *v = PQresultErrorField(r, names[i].field);
		if (v != NULL)
			used += (size_t)snprintf(buf + used, len - used, " (%s %s)", names[i].label, v);
	}
	pmhc_utf8_drop_cut(buf);
	store_one_line(buf);
}

void store_note_failure(struct pmhc_store *s, const PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	store_terse_error(r, s->last_error, sizeof s->last_error);
	snprintf(s->last_sqlstate, sizeof s->last_sqlstate, "%s", state ? state : "");
}

/*
 * Whether a refusal is the rows' own doing: bad data (class 22), a broken
 * constraint (23), a value too big for an index (54000), a DBA's check in a
 * trigger (P0001, plain RAISE EXCEPTION). Anything else is
 * the server's trouble, not the rows': a deadlock, a lock or statement
 * timeout, a DBA's cancel, a full disk, a primary turned read-only by a
 * failover. Such a batch is kept and tried again as a whole, never taken
 * apart and sent to the DLQ row by row.
 */
bool store_rows_at_fault(const char *sqlstate)
{
	return strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0 || strcmp(sqlstate, "54000") == 0 ||
	       strcmp(sqlstate, "P0001") == 0;
}

/*
 * The server's trouble for certain, whatever the statement: a broken
 * connection (08), a read-only transaction (25), a deadlock or serialization
 * failure (40), resources (53), a lock not granted (55), an operator's cancel
 * or shutdown (57), an I/O error (58). A merge would only meet it again.
 */
bool store_server_trouble(const char *sqlstate)
{
	static const char classes[][3] = { "08", "25", "40", "53", "55", "57", "58" };
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (strncmp(sqlstate, classes[i], 2) == 0)
			return true;
	return false;
}

/* The server refused for a reason of its own: drop the connection (a failover needs a new one) and retry. */
void store_server_refused(struct pmhc_store *s)
{
	char why[sizeof s->last_error + REFUSED_SUFFIX_LEN];
	snprintf(why, sizeof why, "%s (SQLSTATE %s, not the rows' fault)", s->last_error,
		 s->last_sqlstate[0] ? s->last_sqlstate : "unknown");
	store_lose_connection(s, why);
}

/*
 * Any other SQLSTATE (an ASSERT in a trigger, a custom ERRCODE, XX000) may be
 * the rows' doing or not: a write with no rows tells. (A persistent one, a
 * revoked privilege or a dropped table, never is: it is escalated.) Refused too, it is the server's; taken, the rows are
 * split until the one refused is found. The refusal's own words are kept.
 */
static bool rows_may_be_at_fault(struct pmhc_store *s)
{
	char error[sizeof s->last_error], state[sizeof s->last_sqlstate];
	const char *statement = s->statement;
	memcpy(error, s->last_error, sizeof error);
	memcpy(state, s->last_sqlstate, sizeof state);
	bool probe_ok = store_probe(s) == 0;
	memcpy(s->last_error, error, sizeof error);
	memcpy(s->last_sqlstate, state, sizeof state);
	s->statement = statement;
	return probe_ok;
}

static size_t batch_events(const struct pmhc_store_batch *b)
{
	return b->n_calls + b->n_dispositions + b->n_rejected + b->n_units;
}

int store_refused(struct pmhc_store *s, const struct pmhc_store_batch *b)
{
	store_one_line(s->last_error);
	const char *state = s->last_sqlstate;
	if (store_server_trouble(state) || pmhc_store_error_persistent(state) ||
	    (!store_rows_at_fault(state) && !rows_may_be_at_fault(s))) {
		store_server_refused(s);
		return -1;
	}
	/* A single row is the caller's to report: it is looking for the one refused. */
	if (batch_events(b) > 1)
		pmhc_error("msg=\"batch refused by PostgreSQL; nothing of it was written\" events=%zu error=\"%s\"",
			   batch_events(b), s->last_error);
	return -1;
}

PGresult *store_exec_result(struct pmhc_store *s, const char *sql, ExecStatusType want)
{
	s->statement = sql;
	PGresult *r = PQexec(s->conn, sql);
	if (PQresultStatus(r) != want) {
		store_note_failure(s, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

bool store_exec(struct pmhc_store *s, const char *sql)
{
	PGresult *r = store_exec_result(s, sql, PGRES_COMMAND_OK);
	PQclear(r);
	return r != NULL;
}

int pmhc_store_write_batch(struct pmhc_store *s, const struct pmhc_store_batch *b, struct pmhc_store_result *res)
{
	res->applied = res->stale = 0;
	/* What a failure below leaves is this write's alone, not an earlier one's. */
	s->last_error[0] = '\0';
	s->last_sqlstate[0] = '\0';
	s->statement = NULL;
	if (b->n_calls == 0 && b->n_dispositions == 0) {
		int rc = store_write_statements(s, b);
		if (rc != 0 && !s->lost)
			return store_refused(s, b);
		return rc;
	}
	if (store_ensure_ready(s) != 0)
		return -1;
	return store_write_copy(s, b, res);
}
