#include "store.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "clock.h"
#include "digest.h"
#include "enums.h"
#include "log.h"
#include "migrations.h"
#include "pgtext.h"
#include "pick.h"
#include "rules.h"
#include "utf8.h"

/* Any one round trip longer than this means the server is gone or stuck. */
#define IO_TIMEOUT_MS 30000
/* Serializes migrations between instances starting at once; any constant will do. */
#define MIGRATION_LOCK 0x706d6863
/*
 * A start that finds PostgreSQL down retries from a quarter second, so a server
 * restarting alongside pmhcd is caught at once, and never waits more than 5 s
 * between tries, so it connects soon after the server comes back.
 */
#define CONNECT_BACKOFF_FIRST_MS 250
#define CONNECT_BACKOFF_CAP_MS 5000

struct pmhc_store {
	PGconn *conn;
	char *conninfo;
	bool prepared;
	bool lost;
	bool staged;		/* the COPY staging table exists on this connection */
	bool oom;		/* a batch failed for want of memory, not for its data */
	bool unformatted;	/* a COPY was ended for a value pmhcd could not convert */
	unsigned long stage_merges;	/* merges since the connection began */
	unsigned long generation;	/* counts connections: a reconnect mid-batch shows */
	char last_error[512];
	char last_sqlstate[6];	/* of the last statement that failed */
	struct pmhc_sbuf scratch;
	/* The COPY path's working space, kept between batches. */
	struct pmhc_sbuf line;
	struct pmhc_pick_item *pick_items;
	size_t *pick_keep, *pick_decide, pick_cap;
};

/* PostgreSQL's words as one log field: its control characters and quotes become spaces. */
static void one_line(char *text)
{
	for (unsigned char *q = (unsigned char *)text; *q; q++)
		if (*q < 0x20 || *q == 0x7f || *q == '"')
			*q = ' ';
}

/*
 * libpq's message as one log field, without its trailing newline. Its own
 * quotes (a socket path, a host name) would otherwise end the field early.
 */
static const char *pq_error(PGconn *conn)
{
	static _Thread_local char buf[512];
	snprintf(buf, sizeof buf, "%s", conn ? PQerrorMessage(conn) : "out of memory");
	size_t n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	pmhc_utf8_drop_cut(buf);
	one_line(buf);
	return buf;
}

#define LOCK_TIMEOUT "10s"

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
	char line[512];
	snprintf(line, sizeof line, "%s", text ? text : "");
	pmhc_utf8_drop_cut(line);
	one_line(line);
	/* NOTICE is chatter such as "already exists, skipping"; INFO is what someone asked to see. */
	sev = sev ? sev : "NOTICE";
	enum pmhc_log_level level = strcmp(sev, "WARNING") == 0 ? PMHC_LOG_WARN
				    : strcmp(sev, "INFO") == 0	 ? PMHC_LOG_INFO
								 : PMHC_LOG_DEBUG;
	pmhc_log_at(level, __FILE__, __LINE__, "msg=\"PostgreSQL: %s\" severity=%s sqlstate=%s", line, sev,
		    state ? state : "-");
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
	const char *kw[] = { "application_name", "connect_timeout", "keepalives_idle", "keepalives_interval",
			     "keepalives_count", "tcp_user_timeout", "dbname", NULL };
	const char *val[] = { "pmhcd", "10", "15", "5", "3", "30000", conninfo, NULL };
	PGconn *conn = PQconnectdbParams(kw, val, 1);
	if (conn != NULL)
		PQsetNoticeReceiver(conn, notice_to_log, NULL);
	return conn;
}

/*
 * A DBA's lock (an ALTER TABLE, a plain CREATE INDEX, a LOCK TABLE left open)
 * would hold the writer without a word for as long as it lasts. After
 * LOCK_TIMEOUT the wait fails instead: logged with its SQLSTATE (55P03) and
 * retried like any trouble of the server's. Only when nobody chose a
 * lock_timeout (the conninfo's options, PGOPTIONS, or a setting of the role or
 * database win), and only for batches: the migrations at start wait as long
 * as they must, behind another instance's or a report's lock.
 */
static void limit_lock_waits(PGconn *conn)
{
	PGresult *r = PQexec(conn, "SHOW lock_timeout");
	bool unset = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") == 0;
	PQclear(r);
	if (!unset)
		return;
	r = PQexec(conn, "SET lock_timeout = '" LOCK_TIMEOUT "'");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		pmhc_warn("msg=\"lock_timeout not set; a lock on pmhcd's tables will hold the writer silently\" "
			  "error=\"%s\"", pq_error(conn));
	PQclear(r);
}

struct pmhc_store *pmhc_store_open(const char *conninfo, int timeout_s,
				   const volatile sig_atomic_t *stop)
{
	struct pmhc_store *s = calloc(1, sizeof *s);
	if (s == NULL || (s->conninfo = strdup(conninfo)) == NULL) {
		free(s);
		return NULL;
	}
	int64_t t0 = pmhc_mono_ms();
	long backoff = CONNECT_BACKOFF_FIRST_MS;
	for (int attempt = 1;; attempt++) {
		s->conn = connect_once(conninfo);
		if (PQstatus(s->conn) == CONNECTION_OK)
			break;
		long elapsed = (long)((pmhc_mono_ms() - t0) / 1000);
		if (elapsed >= timeout_s || (stop && *stop)) {
			pmhc_error("msg=\"PostgreSQL unreachable; giving up\" attempts=%d waited_s=%ld error=\"%s\" "
				   "hint=\"check postgres.conninfo and that the server is up\"",
				   attempt, elapsed, pq_error(s->conn));
			PQfinish(s->conn);
			free(s->conninfo);
			free(s);
			return NULL;
		}
		pmhc_warn("msg=\"PostgreSQL unreachable; retrying\" attempt=%d retry_in_ms=%ld error=\"%s\"",
			  attempt, backoff, pq_error(s->conn));
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

static int exec_ok(PGconn *conn, const char *sql, const char *what)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : -1;
	if (rc != 0)
		pmhc_error("msg=\"%s failed\" error=\"%s\"", what, pq_error(conn));
	PQclear(r);
	return rc;
}


int pmhc_store_migrate(struct pmhc_store *s)
{
	PGconn *c = s->conn;
	char lock[96];
	snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%d)", MIGRATION_LOCK);
	if (exec_ok(c, lock, "taking the migration lock") != 0)
		return -1;
	int rc = -1;
	if (exec_ok(c,
		    "CREATE SCHEMA IF NOT EXISTS pmhc;"
		    "CREATE TABLE IF NOT EXISTS pmhc.schema_migrations ("
		    " version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
		    " applied_at timestamptz NOT NULL DEFAULT now());"
		    "COMMENT ON TABLE pmhc.schema_migrations IS "
		    "'Which numbered migrations of sql/ pmhcd has applied, and a hash of each as applied.';"
		    "COMMENT ON COLUMN pmhc.schema_migrations.version IS 'The migration''s number (NNN of sql/NNN_*.sql).';"
		    "COMMENT ON COLUMN pmhc.schema_migrations.name IS 'The migration''s file name.';"
		    "COMMENT ON COLUMN pmhc.schema_migrations.sha256 IS 'SHA-256 of the migration as applied; pmhcd warns if its own copy differs.';"
		    "COMMENT ON COLUMN pmhc.schema_migrations.applied_at IS 'When it was applied.'",
		    "creating pmhc.schema_migrations") != 0)
		goto out;

	size_t applied = 0;
	for (size_t i = 0; i < pmhc_n_migrations; i++) {
		const struct pmhc_migration *m = &pmhc_migrations[i];
		char version[16], hash[65];
		snprintf(version, sizeof version, "%d", m->version);
		pmhc_sha256_hex(m->sql, strlen(m->sql), hash);
		const char *p1[] = { version };
		PGresult *r = PQexecParams(c, "SELECT sha256 FROM pmhc.schema_migrations WHERE version = $1",
					   1, NULL, p1, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			pmhc_error("msg=\"reading pmhc.schema_migrations failed\" error=\"%s\"", pq_error(c));
			PQclear(r);
			goto out;
		}
		if (PQntuples(r) == 1) {
			if (strcmp(PQgetvalue(r, 0, 0), hash) != 0)
				pmhc_warn("msg=\"an applied migration differs from the one built in; it is not re-run\" "
					  "migration=%s hint=\"never edit an applied migration: add a new one\"", m->name);
			PQclear(r);
			continue;
		}
		PQclear(r);

		if (exec_ok(c, "BEGIN", "BEGIN") != 0)
			goto out;
		if (exec_ok(c, m->sql, m->name) != 0) {
			exec_ok(c, "ROLLBACK", "ROLLBACK");
			goto out;
		}
		const char *p3[] = { version, m->name, hash };
		r = PQexecParams(c, "INSERT INTO pmhc.schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
				 3, NULL, p3, NULL, NULL, 0);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok || exec_ok(c, "COMMIT", "COMMIT") != 0) {
			pmhc_error("msg=\"recording migration failed\" migration=%s error=\"%s\"", m->name, pq_error(c));
			if (PQtransactionStatus(c) != PQTRANS_IDLE)
				exec_ok(c, "ROLLBACK", "ROLLBACK");
			goto out;
		}
		pmhc_info("msg=\"migration applied\" migration=%s", m->name);
		applied++;
	}
	pmhc_info("msg=\"schema up to date\" migrations=%zu applied_now=%zu", pmhc_n_migrations, applied);
	rc = 0;
out:
	snprintf(lock, sizeof lock, "SELECT pg_advisory_unlock(%d)", MIGRATION_LOCK);
	exec_ok(c, lock, "releasing the migration lock");
	return rc;
}

/* ---- scratch text for one row's parameters ---- */

static size_t sb_flags(struct pmhc_sbuf *b, pmhc_flagset flags)
{
	char *names[PMHC_FLAG_COUNT];
	size_t n = 0;
	for (int f = 0; f < PMHC_FLAG_COUNT; f++)
		if (flags & PMHC_BIT(f))
			names[n++] = (char *)pmhc_flag_name((enum pmhc_flag)f);
	return pmhc_sb_array(b, names, n);
}

/* ---- the write ---- */

#define CALL_NPARAMS 29
#define NO_PARAM ((size_t)-1)

/* The columns written, in the order of their values. */
#define CALLS_COLUMNS \
	"psap_id, call_id, revision, received_at, source, nature_code, nature_code_mapped, nature_text," \
	" premise_flags, flags, mental_health_call, rule_id, response, dispatch_code, unit_ids, fallback_used," \
	" rules_version, decided_at, beat, district, lat, lon, subject_hash, narrative, backfilled," \
	" source_partition, source_offset"

#define DECISIONS_COLUMNS \
	"psap_id, call_id, revision, decided_at, rules_version, nature_code_mapped, flags, mental_health_call," \
	" rule_id, response, dispatch_code, unit_ids, fallback_used, reasons, summary, backfilled"

#define DISPOSITIONS_COLUMNS \
	"psap_id, call_id, closed_at, code, unit_ids, arrest, use_of_force, connected_to_services," \
	" service_unavailable, service_name, backfilled, source_partition, source_offset"

/* What a newer version of a row replaces, and when: the merge statements' rules. */
#define CALLS_UPDATE \
	" revision = EXCLUDED.revision, received_at = EXCLUDED.received_at, source = EXCLUDED.source," \
	" nature_code = EXCLUDED.nature_code, nature_code_mapped = EXCLUDED.nature_code_mapped," \
	" nature_text = EXCLUDED.nature_text, premise_flags = EXCLUDED.premise_flags, flags = EXCLUDED.flags," \
	" mental_health_call = EXCLUDED.mental_health_call, rule_id = EXCLUDED.rule_id," \
	" response = EXCLUDED.response, dispatch_code = EXCLUDED.dispatch_code, unit_ids = EXCLUDED.unit_ids," \
	" fallback_used = EXCLUDED.fallback_used, rules_version = EXCLUDED.rules_version," \
	" decided_at = EXCLUDED.decided_at, beat = EXCLUDED.beat, district = EXCLUDED.district," \
	" lat = EXCLUDED.lat, lon = EXCLUDED.lon, subject_hash = EXCLUDED.subject_hash," \
	" narrative = EXCLUDED.narrative, backfilled = EXCLUDED.backfilled," \
	" source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset" \
	" WHERE EXCLUDED.revision = 0 OR EXCLUDED.revision > t.revision"

#define DECISIONS_UPDATE \
	" decided_at = EXCLUDED.decided_at, rules_version = EXCLUDED.rules_version," \
	" nature_code_mapped = EXCLUDED.nature_code_mapped, flags = EXCLUDED.flags," \
	" mental_health_call = EXCLUDED.mental_health_call, rule_id = EXCLUDED.rule_id," \
	" response = EXCLUDED.response, dispatch_code = EXCLUDED.dispatch_code, unit_ids = EXCLUDED.unit_ids," \
	" fallback_used = EXCLUDED.fallback_used, reasons = EXCLUDED.reasons, summary = EXCLUDED.summary," \
	" backfilled = EXCLUDED.backfilled" \
	" WHERE EXCLUDED.revision = 0"

#define DISPOSITIONS_UPDATE \
	" closed_at = EXCLUDED.closed_at, code = EXCLUDED.code, unit_ids = EXCLUDED.unit_ids," \
	" arrest = EXCLUDED.arrest, use_of_force = EXCLUDED.use_of_force," \
	" connected_to_services = EXCLUDED.connected_to_services," \
	" service_unavailable = EXCLUDED.service_unavailable, service_name = EXCLUDED.service_name," \
	" backfilled = EXCLUDED.backfilled, source_partition = EXCLUDED.source_partition," \
	" source_offset = EXCLUDED.source_offset, stored_at = now()" \
	" WHERE EXCLUDED.closed_at > t.closed_at" \
	"  OR (EXCLUDED.closed_at = t.closed_at AND NOT (EXCLUDED.source_partition = t.source_partition" \
	"      AND EXCLUDED.source_offset < t.source_offset))"

#define REJECT_NPARAMS 6

/* A replayed rejection finds its row already there: the key is its Kafka position. */
static const char reject_sql[] =
	"INSERT INTO pmhc.rejected_events (source_topic, source_partition, source_offset, reason,"
	" size_bytes, payload_sha256) VALUES ($1, $2, $3, $4, $5, decode($6, 'hex'))"
	" ON CONFLICT DO NOTHING";

#define UNIT_NPARAMS 9

/* Each status once, whichever instance or replay brings it first. */
static const char unit_sql[] =
	"INSERT INTO pmhc.unit_status (psap_id, unit_id, at, kind, state, beat, district, lat, lon)"
	" VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), $4, $5, $6, $7, $8, $9)"
	" ON CONFLICT DO NOTHING";

#define DISPOSITION_NPARAMS 13

/* Fills off[] with the offsets of the row's 29 parameters in the scratch buffer. */
static void row_params(struct pmhc_sbuf *b, const struct pmhc_call_row *row, size_t off[CALL_NPARAMS])
{
	const Pmhc__V1__CallEvent *c = row->call;
	const Pmhc__V1__Location *loc = c->location;
	bool has_pos = loc != NULL && !(loc->lat == 0 && loc->lon == 0);

	off[0] = pmhc_sb_str(b, c->psap_id);
	off[1] = pmhc_sb_str(b, c->call_id);
	off[2] = pmhc_sb_fmt(b, "%" PRIu32, c->revision);
	off[3] = pmhc_sb_fmt(b, "%" PRId64, c->received_at_ms);
	off[4] = pmhc_sb_str(b, pmhc_source_name((int)c->source));
	off[5] = pmhc_sb_str(b, c->nature_code);
	off[6] = pmhc_sb_str(b, row->nature_mapped);
	off[7] = pmhc_sb_str(b, c->nature_text);
	off[8] = pmhc_sb_array(b, c->premise_flags, c->n_premise_flags);
	off[9] = sb_flags(b, row->flags);
	off[10] = pmhc_sb_str(b, row->mental_health_call ? "t" : "f");
	off[11] = pmhc_sb_str(b, row->rule_id);
	off[12] = pmhc_sb_str(b, pmhc_response_name(row->response));
	off[13] = pmhc_sb_str(b, row->dispatch_code);
	off[14] = pmhc_sb_array(b, row->unit_ids, row->n_unit_ids);
	off[15] = pmhc_sb_str(b, row->fallback_used ? "t" : "f");
	off[16] = pmhc_sb_str(b, row->rules_version);
	off[17] = pmhc_sb_fmt(b, "%" PRId64, row->decided_at_ms);
	off[18] = loc && loc->beat[0] ? pmhc_sb_str(b, loc->beat) : NO_PARAM;
	off[19] = loc && loc->district[0] ? pmhc_sb_str(b, loc->district) : NO_PARAM;
	off[20] = has_pos ? pmhc_sb_fmt(b, "%.17g", loc->lat) : NO_PARAM;
	off[21] = has_pos ? pmhc_sb_fmt(b, "%.17g", loc->lon) : NO_PARAM;
	off[22] = row->has_subject_hash ? pmhc_sb_hex(b, row->subject_hash, sizeof row->subject_hash) : NO_PARAM;
	off[23] = row->store_narrative ? pmhc_sb_str(b, c->narrative) : NO_PARAM;
	off[24] = pmhc_sb_str(b, row->backfilled ? "t" : "f");
	off[25] = pmhc_sb_fmt(b, "%" PRId32, row->partition);
	off[26] = pmhc_sb_fmt(b, "%" PRId64, row->offset);
	off[27] = pmhc_sb_array(b, row->reasons, row->n_reasons);
	off[28] = pmhc_sb_str(b, row->summary ? row->summary : "");
}

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

static void lose_connection(struct pmhc_store *s, const char *why)
{
	pmhc_error("msg=\"PostgreSQL write failed; will reconnect and retry\" error=\"%s\"", why);
	PQfinish(s->conn);
	s->conn = NULL;
	s->prepared = false;
	s->staged = false;
	s->lost = true;
}

static int ensure_ready(struct pmhc_store *s)
{
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
		if (s->conn != NULL)
			PQfinish(s->conn);
		s->conn = connect_once(s->conninfo);
		s->prepared = false;
		s->staged = false;
		s->generation++;
		if (PQstatus(s->conn) != CONNECTION_OK) {
			lose_connection(s, pq_error(s->conn));
			return -1;
		}
		pmhc_info("msg=\"reconnected to PostgreSQL\"");
	}
	if (!s->prepared) {
		/* Every statement a batch may send, prepared once per connection. */
		static const struct {
			const char *name, *sql;
			int nparams;
		} statements[] = {
			{ "pmhc_insert_unit_status", unit_sql, UNIT_NPARAMS },
			{ "pmhc_insert_rejected", reject_sql, REJECT_NPARAMS },
		};
		limit_lock_waits(s->conn);
		for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
			PGresult *r = PQprepare(s->conn, statements[i].name, statements[i].sql, statements[i].nparams, NULL);
			bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
			if (!ok) {
				lose_connection(s, pq_error(s->conn));
				return -1;
			}
		}
		s->prepared = true;
	}
	s->lost = false;
	return 0;
}

/* Queues one prepared statement whose parameters sit in the scratch buffer at off[]. */
static bool send_prepared(struct pmhc_store *s, const char *stmt, int nparams, const size_t *off)
{
	const char *values[CALL_NPARAMS];
	if (s->scratch.oom) {
		s->scratch.oom = false;
		lose_connection(s, "out of memory formatting a row");
		return false;
	}
	for (int p = 0; p < nparams; p++)
		values[p] = off[p] == NO_PARAM ? NULL : s->scratch.p + off[p];
	if (!PQsendQueryPrepared(s->conn, stmt, nparams, values, NULL, NULL, 0) || !flush_all(s->conn)) {
		lose_connection(s, pq_error(s->conn));
		return false;
	}
	return true;
}

static void disposition_params(struct pmhc_sbuf *b, const struct pmhc_disposition_row *row,
			       size_t off[DISPOSITION_NPARAMS])
{
	const Pmhc__V1__Disposition *d = row->disp;
	off[0] = pmhc_sb_str(b, d->psap_id);
	off[1] = pmhc_sb_str(b, d->call_id);
	off[2] = pmhc_sb_fmt(b, "%" PRId64, d->closed_at_ms);
	off[3] = pmhc_sb_str(b, pmhc_enum_name(&pmhc__v1__disposition_code__descriptor, (int)d->code));
	off[4] = pmhc_sb_array(b, d->unit_ids, d->n_unit_ids);
	off[5] = pmhc_sb_str(b, d->arrest ? "t" : "f");
	off[6] = pmhc_sb_str(b, d->use_of_force ? "t" : "f");
	off[7] = pmhc_sb_str(b, d->connected_to_services ? "t" : "f");
	off[8] = pmhc_sb_str(b, d->service_unavailable ? "t" : "f");
	off[9] = pmhc_sb_str(b, d->service_name);
	off[10] = pmhc_sb_str(b, row->backfilled ? "t" : "f");
	off[11] = pmhc_sb_fmt(b, "%" PRId32, row->partition);
	off[12] = pmhc_sb_fmt(b, "%" PRId64, row->offset);
}

static void unit_params(struct pmhc_sbuf *b, const struct pmhc_unit_row *row, size_t off[UNIT_NPARAMS])
{
	const Pmhc__V1__UnitStatus *u = row->status;
	bool has_pos = !(u->lat == 0 && u->lon == 0);
	off[0] = pmhc_sb_str(b, u->psap_id);
	off[1] = pmhc_sb_str(b, u->unit_id);
	off[2] = pmhc_sb_fmt(b, "%" PRId64, u->at_ms);
	off[3] = pmhc_sb_str(b, pmhc_enum_name(&pmhc__v1__unit_kind__descriptor, (int)u->kind));
	off[4] = pmhc_sb_str(b, pmhc_enum_name(&pmhc__v1__unit_state__descriptor, (int)u->state));
	off[5] = u->beat[0] ? pmhc_sb_str(b, u->beat) : NO_PARAM;
	off[6] = u->district[0] ? pmhc_sb_str(b, u->district) : NO_PARAM;
	off[7] = has_pos ? pmhc_sb_fmt(b, "%.17g", u->lat) : NO_PARAM;
	off[8] = has_pos ? pmhc_sb_fmt(b, "%.17g", u->lon) : NO_PARAM;
}

static void rejected_params(struct pmhc_sbuf *b, const struct pmhc_rejected_row *r, size_t off[REJECT_NPARAMS])
{
	off[0] = pmhc_sb_str(b, r->topic);
	off[1] = pmhc_sb_fmt(b, "%" PRId32, r->partition);
	off[2] = pmhc_sb_fmt(b, "%" PRId64, r->offset);
	off[3] = pmhc_sb_str(b, r->reason);
	off[4] = pmhc_sb_fmt(b, "%zu", r->size);
	off[5] = pmhc_sb_hex(b, r->payload_sha256, sizeof r->payload_sha256);
}

static int write_statements(struct pmhc_store *s, const struct pmhc_store_batch *b);

/*
 * Calls and dispositions, live or backfill, go in by COPY: per row, a
 * statement of its own costs PostgreSQL several times the CPU (each execution
 * starts an executor and re-reads every CHECK constraint), and on a shared
 * machine that CPU is taken from the live path. They are merged into the
 * tables through staging tables whose columns are the rows' parameters, made
 * by the same row_params(), by statements that apply the replacement rules.
 * History is most likely new to the tables: pick.c decides in memory, by the
 * same rules, which of its rows reach them, and those are COPYed straight into
 * pmhc.calls, pmhc.decisions and pmhc.dispositions. A unique violation means
 * the batch meets stored rows after all (a re-read, a resumed run, a live
 * daemon): that part is rolled back to its savepoint and merged.
 */
/*
 * The staging tables keep their rows past COMMIT: ON COMMIT DELETE ROWS
 * truncated both at every commit, about a tenth of the server's CPU per
 * stored call on the live path (perf). Each merge deletes what it staged
 * instead, in its own transaction; a TRUNCATE now and then, and after any
 * large batch, gives back the pages that deleted rows leave behind, which
 * every merge would otherwise scan.
 */
#define STAGE_TRUNCATE_EVERY 64
#define STAGE_TRUNCATE_ROWS 2000

static const char stage_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS pmhc_stage_calls ("
	" p1 text, p2 text, p3 bigint, p4 bigint, p5 text, p6 text, p7 text, p8 text, p9 text[], p10 text[],"
	" p11 boolean, p12 text, p13 text, p14 text, p15 text[], p16 boolean, p17 text, p18 bigint, p19 text,"
	" p20 text, p21 double precision, p22 double precision, p23 text, p24 text, p25 boolean, p26 integer,"
	" p27 bigint, p28 text[], p29 text)";

static const char stage_disp_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS pmhc_stage_dispositions ("
	" p1 text, p2 text, p3 bigint, p4 text, p5 text[], p6 boolean, p7 boolean, p8 boolean, p9 boolean,"
	" p10 text, p11 boolean, p12 integer, p13 bigint)";

/* The replacement rule, applied first within the batch, then against what is stored. */
static const char move_disp_sql[] =
	"INSERT INTO pmhc.dispositions AS t (" DISPOSITIONS_COLUMNS ")"
	" SELECT DISTINCT ON (p1, p2) p1, p2, to_timestamp(p3 / 1000.0), p4, p5, p6, p7, p8, p9, p10, p11, p12, p13"
	"   FROM pmhc_stage_dispositions ORDER BY p1, p2, p3 DESC, p12, p13 DESC"
	" ON CONFLICT (psap_id, call_id) DO UPDATE SET"
	DISPOSITIONS_UPDATE;

static const char move_sql[] =
	"WITH ordered AS ("
	"  SELECT s.*, max(p3) OVER (PARTITION BY p1, p2 ORDER BY p26, p27"
	"                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_max"
	"    FROM pmhc_stage_calls s"
	"), fresh AS ("
	"  SELECT o.* FROM ordered o"
	"   WHERE p3 = 0 OR (p3 > coalesce(earlier_max, -1) AND NOT EXISTS ("
	"         SELECT 1 FROM pmhc.calls c WHERE c.psap_id = o.p1 AND c.call_id = o.p2 AND c.revision >= o.p3))"
	"), latest AS ("
	"  SELECT DISTINCT ON (p1, p2) * FROM fresh ORDER BY p1, p2, p3 DESC, p26, p27 DESC"
	"), up AS ("
	"  INSERT INTO pmhc.calls AS t (" CALLS_COLUMNS ")"
	"  SELECT p1, p2, p3, to_timestamp(p4 / 1000.0), p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15, p16, p17,"
	"   to_timestamp(p18 / 1000.0), p19, p20, p21, p22, decode(p23, 'hex'), p24, p25, p26, p27 FROM latest"
	"  ON CONFLICT (psap_id, call_id) DO UPDATE SET"
	CALLS_UPDATE
	"  RETURNING 1"
	"), dec AS ("
	"  INSERT INTO pmhc.decisions AS d (" DECISIONS_COLUMNS ")"
	"  SELECT DISTINCT ON (p1, p2, p3) p1, p2, p3, to_timestamp(p18 / 1000.0), p17, p7, p10, p11, p12, p13, p14,"
	"   p15, p16, p28, p29, p25 FROM fresh ORDER BY p1, p2, p3, p26, p27 DESC"
	"  ON CONFLICT (psap_id, call_id, revision) DO UPDATE SET"
	DECISIONS_UPDATE
	"  RETURNING 1"
	") SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM dec)";

/*
 * How a COPY column is made from a row's parameters: as the text the staging
 * tables take, or converted to what the real column's input function reads.
 */
enum copy_as { AS_TEXT, AS_TIMESTAMP, AS_BYTEA };
struct copy_col {
	unsigned char param;	/* index into the row's parameters */
	unsigned char as;	/* enum copy_as */
};

/* CALLS_COLUMNS from row_params()' first 27 parameters. */
static const struct copy_col calls_cols[] = {
	{ 0, AS_TEXT }, { 1, AS_TEXT }, { 2, AS_TEXT }, { 3, AS_TIMESTAMP }, { 4, AS_TEXT }, { 5, AS_TEXT },
	{ 6, AS_TEXT }, { 7, AS_TEXT }, { 8, AS_TEXT }, { 9, AS_TEXT }, { 10, AS_TEXT }, { 11, AS_TEXT },
	{ 12, AS_TEXT }, { 13, AS_TEXT }, { 14, AS_TEXT }, { 15, AS_TEXT }, { 16, AS_TEXT },
	{ 17, AS_TIMESTAMP }, { 18, AS_TEXT }, { 19, AS_TEXT }, { 20, AS_TEXT }, { 21, AS_TEXT },
	{ 22, AS_BYTEA }, { 23, AS_TEXT }, { 24, AS_TEXT }, { 25, AS_TEXT }, { 26, AS_TEXT },
};

/* DECISIONS_COLUMNS from row_params(), as move_sql's decisions take them. */
static const struct copy_col decisions_cols[] = {
	{ 0, AS_TEXT }, { 1, AS_TEXT }, { 2, AS_TEXT }, { 17, AS_TIMESTAMP }, { 16, AS_TEXT }, { 6, AS_TEXT },
	{ 9, AS_TEXT }, { 10, AS_TEXT }, { 11, AS_TEXT }, { 12, AS_TEXT }, { 13, AS_TEXT }, { 14, AS_TEXT },
	{ 15, AS_TEXT }, { 27, AS_TEXT }, { 28, AS_TEXT }, { 24, AS_TEXT },
};

/* DISPOSITIONS_COLUMNS from disposition_params(). */
static const struct copy_col dispositions_cols[] = {
	{ 0, AS_TEXT }, { 1, AS_TEXT }, { 2, AS_TIMESTAMP }, { 3, AS_TEXT }, { 4, AS_TEXT }, { 5, AS_TEXT },
	{ 6, AS_TEXT }, { 7, AS_TEXT }, { 8, AS_TEXT }, { 9, AS_TEXT }, { 10, AS_TEXT }, { 11, AS_TEXT },
	{ 12, AS_TEXT },
};

#define STAGE_COLS(n) (n), NULL	/* staging: every parameter as text, in order */
#define COLS(map) (sizeof(map) / sizeof((map)[0])), (map)

/* Keeps PostgreSQL's words and SQLSTATE for a statement it refused. */
static void note_failure(struct pmhc_store *s, const PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	snprintf(s->last_error, sizeof s->last_error, "%s", PQresultErrorMessage(r));
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
static bool rows_at_fault(const char *sqlstate)
{
	return strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0 ||
	       strcmp(sqlstate, "54000") == 0 || strcmp(sqlstate, "P0001") == 0;
}

/*
 * The server's trouble for certain, whatever the statement: a broken
 * connection (08), a read-only transaction (25), a deadlock or serialization
 * failure (40), resources (53), a lock not granted (55), an operator's cancel
 * or shutdown (57), an I/O error (58). A merge would only meet it again.
 */
static bool server_trouble(const char *sqlstate)
{
	static const char classes[][3] = { "08", "25", "40", "53", "55", "57", "58" };
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (strncmp(sqlstate, classes[i], 2) == 0)
			return true;
	return false;
}

/* The server refused for a reason of its own: drop the connection (a failover needs a new one) and retry. */
static void server_refused(struct pmhc_store *s)
{
	char why[sizeof s->last_error + 64];
	snprintf(why, sizeof why, "%s (SQLSTATE %s, not the rows' fault)", s->last_error,
		 s->last_sqlstate[0] ? s->last_sqlstate : "unknown");
	lose_connection(s, why);
}

static PGresult *exec_result(PGconn *c, const char *sql, ExecStatusType want, struct pmhc_store *s)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != want) {
		note_failure(s, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

static bool exec_ok_s(struct pmhc_store *s, const char *sql)
{
	PGresult *r = exec_result(s->conn, sql, PGRES_COMMAND_OK, s);
	PQclear(r);
	return r != NULL;
}

typedef void (*row_formatter)(struct pmhc_sbuf *b, const void *row, size_t *off);

static void call_formatter(struct pmhc_sbuf *b, const void *row, size_t *off)
{
	row_params(b, row, off);
}

static void disposition_formatter(struct pmhc_sbuf *b, const void *row, size_t *off)
{
	disposition_params(b, row, off);
}

/* What copy_rows() copies: some rows (all when pick is NULL), each made into columns. */
struct copy_job {
	const char *sql;
	const void *rows;
	size_t row_size;
	const size_t *pick;
	size_t n;
	row_formatter format;
	size_t ncols;
	const struct copy_col *cols;	/* NULL: the parameters in order, as text */
};

static bool copy_rows(struct pmhc_store *s, const struct copy_job *j)
{
	PGconn *c = s->conn;
	PGresult *r = exec_result(c, j->sql, PGRES_COPY_IN, s);
	if (r == NULL)
		return false;
	PQclear(r);
	struct pmhc_sbuf *line = &s->line;
	size_t off[CALL_NPARAMS];
	char conv[2 * PMHC_SUBJECT_HASH_LEN + 16];	/* the longest: a subject hash, \x and hex */
	bool ok = true;
	for (size_t i = 0; i < j->n && ok; i++) {
		size_t row = j->pick ? j->pick[i] : i;
		s->scratch.len = 0;
		j->format(&s->scratch, (const char *)j->rows + row * j->row_size, off);
		if (s->scratch.oom) {
			s->oom = true;	/* the offsets point nowhere: send nothing of this row */
			ok = false;
			break;
		}
		line->len = 0;
		for (size_t k = 0; k < j->ncols && ok; k++) {
			size_t o = off[j->cols ? j->cols[k].param : k];
			const char *v = o == NO_PARAM ? NULL : s->scratch.p + o;
			if (v != NULL && j->cols && j->cols[k].as != AS_TEXT) {
				/* Unconvertible, the COPY fails and the batch is merged, which converts in SQL. */
				ok = j->cols[k].as == AS_BYTEA ? pmhc_pg_bytea(v, conv, sizeof conv)
							       : pmhc_pg_timestamp(v, conv, sizeof conv);
				v = conv;
			}
			pmhc_copy_field(line, v, k == 0);
		}
		pmhc_sb_put(line, "\n", 1);
		if (line->oom || s->scratch.oom)
			s->oom = true;
		ok = ok && !s->oom && PQputCopyData(c, line->p, (int)line->len) == 1;
	}
	line->oom = s->scratch.oom = false;
	s->unformatted = !ok && !s->oom;
	if (PQputCopyEnd(c, ok ? NULL : "pmhcd could not format a row") != 1)
		return false;
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			note_failure(s, r);
			ok = false;
		}
		PQclear(r);
	}
	return ok;
}

/* Room for pick.c's work on n rows, kept between batches. */
static bool pick_room(struct pmhc_store *s, size_t n)
{
	if (n <= s->pick_cap)
		return true;
	struct pmhc_pick_item *items = realloc(s->pick_items, n * sizeof *items);
	if (items != NULL)
		s->pick_items = items;
	size_t *keep = realloc(s->pick_keep, n * sizeof *keep);
	if (keep != NULL)
		s->pick_keep = keep;
	size_t *decide = realloc(s->pick_decide, n * sizeof *decide);
	if (decide != NULL)
		s->pick_decide = decide;
	if (items == NULL || keep == NULL || decide == NULL) {
		s->oom = true;
		return false;
	}
	s->pick_cap = n;
	return true;
}

/*
 * The direct COPY met stored rows: the merge decides. A row PostgreSQL refuses
 * for its data, or one pmhcd could not put in COPY's text, is tried by the
 * merge too (it converts in SQL, not here) and is refused there again if it
 * truly is bad. Anything else (a bug of ours) is merged as well, and said
 * plainly, since every batch like it takes the slow path.
 */
static void merging(struct pmhc_store *s, bool *merged)
{
	one_line(s->last_error);
	if (strcmp(s->last_sqlstate, "23505") == 0)	/* unique_violation */
		pmhc_debug("msg=\"batch meets stored rows; merged, not copied\" reason=\"%s\"", s->last_error);
	else if (s->unformatted)
		pmhc_debug("msg=\"a value COPY's text cannot carry; merging, which converts in SQL\"");
	else if (rows_at_fault(s->last_sqlstate))
		pmhc_debug("msg=\"COPY refused a row; merging to see whether the merge takes it\" sqlstate=%s "
			   "reason=\"%s\"", s->last_sqlstate, s->last_error);
	else
		pmhc_warn("msg=\"COPY failed; batch merged instead\" sqlstate=%s reason=\"%s\"",
			  s->last_sqlstate[0] ? s->last_sqlstate : "-", s->last_error);
	s->last_error[0] = '\0';
	s->last_sqlstate[0] = '\0';
	s->unformatted = false;
	*merged = true;
}

enum direct { DIRECT_COPIED, DIRECT_MERGE, DIRECT_FAILED };

/*
 * Tries the batch's part straight into the tables under a savepoint. When it
 * does not go in, the savepoint is rolled back and the caller merges instead
 * (*merged set, the reason logged), unless the connection is gone, memory
 * ran out or the server is in trouble (the SQLSTATE kept for the caller).
 */
static enum direct copy_direct(struct pmhc_store *s, const struct copy_job *jobs, size_t n_jobs, bool *merged)
{
	s->last_sqlstate[0] = '\0';
	s->unformatted = false;
	if (exec_ok_s(s, "SAVEPOINT pmhc_direct")) {
		bool ok = true;
		for (size_t i = 0; i < n_jobs && ok; i++)
			ok = copy_rows(s, &jobs[i]);
		if (ok && exec_ok_s(s, "RELEASE SAVEPOINT pmhc_direct"))
			return DIRECT_COPIED;
		if (!ok && PQstatus(s->conn) == CONNECTION_OK)
			exec_ok_s(s, "ROLLBACK TO SAVEPOINT pmhc_direct");
	}
	if (PQstatus(s->conn) != CONNECTION_OK || s->oom || (!s->unformatted && server_trouble(s->last_sqlstate)))
		return DIRECT_FAILED;
	merging(s, merged);
	return DIRECT_MERGE;
}

/* One of the merges prepared with the staging tables; its result, or NULL with last_error set. */
static PGresult *exec_prepared(struct pmhc_store *s, const char *name)
{
	PGresult *r = PQexecPrepared(s->conn, name, 0, NULL, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		note_failure(s, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Empties a staging table inside the batch's transaction (see STAGE_TRUNCATE_EVERY). */
static bool clear_stage(struct pmhc_store *s, const char *table, size_t rows)
{
	char sql[64];
	bool truncate = rows >= STAGE_TRUNCATE_ROWS || ++s->stage_merges % STAGE_TRUNCATE_EVERY == 0;
	snprintf(sql, sizeof sql, "%s %s", truncate ? "TRUNCATE" : "DELETE FROM", table);
	return exec_ok_s(s, sql);
}

/* *applied: the decisions written (a new revision each); the other calls were stale. */
static bool copy_calls(struct pmhc_store *s, const struct pmhc_store_batch *b, size_t *applied, bool *merged)
{
	*merged = false;
	*applied = 0;
	if (b->n_calls == 0)
		return true;
	if (!pick_room(s, b->n_calls))
		return false;
	for (size_t i = 0; i < b->n_calls; i++) {
		const struct pmhc_call_row *r = &b->calls[i];
		s->pick_items[i] = (struct pmhc_pick_item){ r->call->psap_id, r->call->call_id, r->call->revision,
							    r->partition, r->offset, i };
	}
	size_t n_keep, n_decide;
	pmhc_pick_revisions(s->pick_items, b->n_calls, s->pick_keep, &n_keep, s->pick_decide, &n_decide);
	const struct copy_job direct[] = {
		{ "COPY pmhc.calls (" CALLS_COLUMNS ") FROM STDIN", b->calls, sizeof *b->calls, s->pick_keep, n_keep,
		  call_formatter, COLS(calls_cols) },
		{ "COPY pmhc.decisions (" DECISIONS_COLUMNS ") FROM STDIN", b->calls, sizeof *b->calls, s->pick_decide,
		  n_decide, call_formatter, COLS(decisions_cols) },
	};
	enum direct d = b->likely_new ? copy_direct(s, direct, 2, merged) : DIRECT_MERGE;
	*merged = d == DIRECT_MERGE;
	if (d == DIRECT_COPIED)
		*applied = n_decide;
	if (d != DIRECT_MERGE)
		return d == DIRECT_COPIED;
	const struct copy_job stage = { "COPY pmhc_stage_calls FROM STDIN", b->calls, sizeof *b->calls, NULL,
					b->n_calls, call_formatter, STAGE_COLS(CALL_NPARAMS) };
	PGresult *r;
	if (!copy_rows(s, &stage) || (r = exec_prepared(s, "pmhc_move_calls")) == NULL)
		return false;
	*applied = (size_t)strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return clear_stage(s, "pmhc_stage_calls", b->n_calls);
}

static bool copy_dispositions(struct pmhc_store *s, const struct pmhc_store_batch *b, bool *merged)
{
	*merged = false;
	if (b->n_dispositions == 0)
		return true;
	if (!pick_room(s, b->n_dispositions))
		return false;
	for (size_t i = 0; i < b->n_dispositions; i++) {
		const struct pmhc_disposition_row *r = &b->dispositions[i];
		s->pick_items[i] = (struct pmhc_pick_item){ r->disp->psap_id, r->disp->call_id, r->disp->closed_at_ms,
							    r->partition, r->offset, i };
	}
	size_t n_keep;
	pmhc_pick_latest(s->pick_items, b->n_dispositions, s->pick_keep, &n_keep);
	const struct copy_job direct = { "COPY pmhc.dispositions (" DISPOSITIONS_COLUMNS ") FROM STDIN",
					 b->dispositions, sizeof *b->dispositions, s->pick_keep, n_keep,
					 disposition_formatter, COLS(dispositions_cols) };
	enum direct d = b->likely_new ? copy_direct(s, &direct, 1, merged) : DIRECT_MERGE;
	*merged = d == DIRECT_MERGE;
	if (d != DIRECT_MERGE)
		return d == DIRECT_COPIED;
	const struct copy_job stage = { "COPY pmhc_stage_dispositions FROM STDIN", b->dispositions,
					sizeof *b->dispositions, NULL, b->n_dispositions, disposition_formatter,
					STAGE_COLS(DISPOSITION_NPARAMS) };
	PGresult *r;
	if (!copy_rows(s, &stage) || (r = exec_prepared(s, "pmhc_move_dispositions")) == NULL)
		return false;
	PQclear(r);
	return clear_stage(s, "pmhc_stage_dispositions", b->n_dispositions);
}

/* The merges are planned once per connection, not once per batch. */
static bool prepare(struct pmhc_store *s, const char *name, const char *sql)
{
	PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		note_failure(s, r);
	PQclear(r);
	return ok;
}

static size_t batch_events(const struct pmhc_store_batch *b)
{
	return b->n_calls + b->n_dispositions + b->n_rejected + b->n_units;
}

/* Calls and dispositions through COPY, the rest as statements, all in one transaction. */
static int write_copy(struct pmhc_store *s, const struct pmhc_store_batch *b, struct pmhc_store_result *res)
{
	PGconn *c = s->conn;
	unsigned long generation = s->generation;
	/* Where a batch's time goes, for whoever tunes a backfill (log level debug). */
	double calls_ms = 0, disp_ms = 0, rest_ms = 0, commit_ms = 0;
	bool calls_merged = false, disp_merged = false;
#define PATH(n, merged) ((n) == 0 ? "none" : (merged) ? "merge" : "copy")
	int64_t t = pmhc_mono_us();
	s->last_error[0] = '\0';
	s->last_sqlstate[0] = '\0';
	s->oom = false;
	if (!s->staged) {
		if (!exec_ok_s(s, stage_sql) || !exec_ok_s(s, stage_disp_sql) ||
		    !prepare(s, "pmhc_move_calls", move_sql) || !prepare(s, "pmhc_move_dispositions", move_disp_sql))
			goto fail;
		/* The planner's JIT costs more than it saves here; a server without it has nothing to turn off. */
		PQclear(PQexec(c, "SET jit = off"));
		s->staged = true;
	}
	if (!exec_ok_s(s, "BEGIN"))
		goto fail;
	res->applied = 0;
	if (!copy_calls(s, b, &res->applied, &calls_merged))
		goto rollback;
	res->stale = b->n_calls - res->applied;
	calls_ms = pmhc_lap_ms(&t);
	if (!copy_dispositions(s, b, &disp_merged))
		goto rollback;
	disp_ms = pmhc_lap_ms(&t);

	/* Unit statuses and rejections: few beside the rest, sent as statements. */
	struct pmhc_store_batch rest = *b;
	rest.calls = NULL;
	rest.n_calls = 0;
	rest.dispositions = NULL;
	rest.n_dispositions = 0;
	int rest_rc = write_statements(s, &rest);
	if (s->generation != generation || s->conn == NULL) {
		/*
		 * It had to connect again: the transaction above died with the old
		 * connection, and a COMMIT now would claim what was never written.
		 */
		if (s->conn != NULL)
			lose_connection(s, "connection to PostgreSQL lost mid-batch");
		return -1;
	}
	if (rest_rc != 0)
		goto rollback;
	rest_ms = pmhc_lap_ms(&t);
	/* A deferred constraint is checked here: a refused COMMIT is classified like any statement. */
	if (!exec_ok_s(s, "COMMIT"))
		goto rollback;
	commit_ms = pmhc_lap_ms(&t);
	pmhc_debug("msg=\"batch written\" calls=%zu calls_path=%s calls_ms=%.1f dispositions=%zu "
		   "dispositions_path=%s dispositions_ms=%.1f rest_ms=%.1f commit_ms=%.1f",
		   b->n_calls, PATH(b->n_calls, calls_merged), calls_ms, b->n_dispositions,
		   PATH(b->n_dispositions, disp_merged), disp_ms, rest_ms, commit_ms);
#undef PATH
	return 0;

rollback:
	if (PQstatus(c) == CONNECTION_OK) {
		/* A refused COMMIT has already ended the transaction; a ROLLBACK then only draws a warning. */
		if (PQtransactionStatus(c) != PQTRANS_IDLE)
			PQclear(PQexec(c, "ROLLBACK"));
		if (s->oom) {
			/* Not the rows' fault: the whole batch is tried again later. */
			s->oom = false;
			lose_connection(s, "out of memory formatting the batch");
			return -1;
		}
		if (PQstatus(c) == CONNECTION_OK) {
			one_line(s->last_error);
			if (!rows_at_fault(s->last_sqlstate)) {
				server_refused(s);
				return -1;
			}
			/* A single row is the caller's to report: it is looking for the one refused. */
			if (batch_events(b) > 1)
				pmhc_error("msg=\"batch refused by PostgreSQL; nothing of it was written\" events=%zu "
					   "error=\"%s\"", batch_events(b), s->last_error);
			return -1;
		}
	}
fail:
	if (PQstatus(c) == CONNECTION_OK && s->last_error[0] != '\0') {
		one_line(s->last_error);
		server_refused(s);
	} else {
		lose_connection(s, s->last_error[0] ? s->last_error : pq_error(c));
	}
	return -1;
}

/*
 * Unit statuses and rejected events, one prepared statement each, pipelined.
 * Outside write_copy()'s transaction they form one implicit transaction of
 * their own, committed at the sync or, after any error, rolled back whole.
 */
static int write_statements(struct pmhc_store *s, const struct pmhc_store_batch *b)
{
	size_t total = b->n_rejected + b->n_units;
	if (total == 0)
		return 0;
	if (ensure_ready(s) != 0)
		return -1;
	PGconn *c = s->conn;
	if (PQsetnonblocking(c, 1) != 0 || !PQenterPipelineMode(c)) {
		lose_connection(s, pq_error(c));
		return -1;
	}
	size_t off[CALL_NPARAMS];
	for (size_t i = 0; i < b->n_rejected; i++) {
		s->scratch.len = 0;
		rejected_params(&s->scratch, &b->rejected[i], off);
		if (!send_prepared(s, "pmhc_insert_rejected", REJECT_NPARAMS, off))
			return -1;
	}
	for (size_t i = 0; i < b->n_units; i++) {
		s->scratch.len = 0;
		unit_params(&s->scratch, &b->units[i], off);
		if (!send_prepared(s, "pmhc_insert_unit_status", UNIT_NPARAMS, off))
			return -1;
	}
	if (!PQpipelineSync(c) || !flush_all(c)) {
		lose_connection(s, pq_error(c));
		return -1;
	}

	char first_error[512] = "", first_state[6] = "";
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
		lose_connection(s, io_failed ? "no answer from the server" : pq_error(c));
		return -1;
	}
	PQexitPipelineMode(c);
	PQsetnonblocking(c, 0);
	if (first_error[0] != '\0') {
		one_line(first_error);
		snprintf(s->last_error, sizeof s->last_error, "%s", first_error);
		snprintf(s->last_sqlstate, sizeof s->last_sqlstate, "%s", first_state);
		return -1;
	}
	return 0;
}

int pmhc_store_write_batch(struct pmhc_store *s, const struct pmhc_store_batch *b,
			   struct pmhc_store_result *res)
{
	res->applied = res->stale = 0;
	if (b->n_calls == 0 && b->n_dispositions == 0) {
		s->last_error[0] = '\0';
		s->last_sqlstate[0] = '\0';
		int rc = write_statements(s, b);
		if (rc != 0 && !s->lost && !rows_at_fault(s->last_sqlstate)) {
			one_line(s->last_error);
			server_refused(s);
			return -1;
		}
		/* A single row is the caller's to report: it is looking for the one refused. */
		if (rc != 0 && !s->lost && batch_events(b) > 1)
			pmhc_error("msg=\"batch refused by PostgreSQL; nothing of it was written\" events=%zu error=\"%s\"",
				   batch_events(b), s->last_error);
		return rc;
	}
	if (ensure_ready(s) != 0)
		return -1;
	return write_copy(s, b, res);
}
