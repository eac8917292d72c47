/*
 * The schema's versions. pmhcd --migrate, run by a DBA's role, creates the
 * roles and schema pmhc and applies the embedded sql/NNN_*.sql not yet
 * recorded in pmhc.schema_migrations, each in a transaction of its own, under
 * an advisory lock so that two runs at once apply each only once; everything
 * it makes is handed to the NOLOGIN role pmhc_owner. The daemon only reads
 * which versions are recorded and refuses to start on any other schema than
 * its own: it owns nothing and may create nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <libpq-fe.h>

#include "digest.h"
#include "log.h"
#include "migrate_sql.h"
#include "migrations.h"
#include "store_int.h"
#include "store_sql.h"

/*
 * Serializes migrations between runs at once; any constant will do ("pmhc"
 * in ASCII, which no other user of advisory locks is likely to pick).
 */
#define MIGRATION_LOCK 0x706d6863
/* Room for SQL_MIGRATION_LOCK with any int in it. */
#define LOCK_SQL_LEN 96
/* A migration's number as text: any int fits. */
#define VERSION_LEN 16

/* One statement whose result has no rows; a failure is logged as what failed. */
static int exec_ok(PGconn *conn, const char *sql, const char *what)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : -1;
	if (rc != 0)
		pmhc_error("msg=\"%s failed\" error=\"%s\"", what, store_pq_error(conn));
	PQclear(r);
	return rc;
}

/* Whether migration m is recorded (1), not yet (0), or the table could not be read (-1). */
static int recorded(PGconn *c, const struct pmhc_migration *m, const char *version, const char *hash)
{
	const char *p1[] = { version };
	PGresult *r = PQexecParams(c, SQL_MIGRATION_HASH, 1, NULL, p1, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pmhc_error("msg=\"reading pmhc.schema_migrations failed\" error=\"%s\"", store_pq_error(c));
		PQclear(r);
		return -1;
	}
	int found = PQntuples(r) == 1;
	if (found && strcmp(PQgetvalue(r, 0, 0), hash) != 0)
		pmhc_warn("msg=\"an applied migration differs from the one built in; it is not re-run\" "
			  "migration=%s hint=\"never edit an applied migration: add a new one\"",
			  m->name);
	PQclear(r);
	return found;
}

/* The statements of one transaction in order; 0, or -1 with the transaction rolled back. */
static int in_transaction(PGconn *c, const char *const *sql, const char *const *what, size_t n)
{
	if (exec_ok(c, SQL_BEGIN, "BEGIN") != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (exec_ok(c, sql[i], what[i]) != 0) {
			exec_ok(c, SQL_ROLLBACK, "ROLLBACK");
			return -1;
		}
	return 0;
}

/* Applies m, hands what it made to pmhc_owner and records it, in one transaction. */
static int apply(PGconn *c, const struct pmhc_migration *m, const char *version, const char *hash)
{
	const char *sql[] = { SQL_PIN_SEARCH_PATH_LOCAL, m->sql, SQL_MIGRATE_HAND_OVER };
	const char *what[] = { "pinning search_path", m->name, "handing the schema to pmhc_owner" };
	if (in_transaction(c, sql, what, sizeof sql / sizeof sql[0]) != 0)
		return -1;
	const char *p3[] = { version, m->name, hash };
	PGresult *r = PQexecParams(c, SQL_MIGRATION_RECORD, 3, NULL, p3, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok || exec_ok(c, SQL_COMMIT, "COMMIT") != 0) {
		pmhc_error("msg=\"recording migration failed\" migration=%s error=\"%s\"", m->name, store_pq_error(c));
		if (PQtransactionStatus(c) != PQTRANS_IDLE)
			exec_ok(c, SQL_ROLLBACK, "ROLLBACK");
		return -1;
	}
	pmhc_info("msg=\"migration applied\" migration=%s", m->name);
	return 0;
}

/* The migrations not yet recorded, in order; 0, or -1 at the first that fails. */
static int apply_pending(PGconn *c)
{
	size_t applied = 0;
	for (size_t i = 0; i < pmhc_n_migrations; i++) {
		const struct pmhc_migration *m = &pmhc_migrations[i];
		char version[VERSION_LEN], hash[PMHC_SHA256_HEX_LEN + 1];
		snprintf(version, sizeof version, "%d", m->version);
		pmhc_sha256_hex(m->sql, strlen(m->sql), hash);
		int done = recorded(c, m, version, hash);
		if (done < 0)
			return -1;
		if (done)
			continue;
		if (apply(c, m, version, hash) != 0)
			return -1;
		applied++;
	}
	pmhc_info("msg=\"schema up to date\" migrations=%zu applied_now=%zu", pmhc_n_migrations, applied);
	return 0;
}

/* The roles, the schema and its record of migrations, all owned by pmhc_owner. */
static int bootstrap(PGconn *c)
{
	const char *sql[] = { SQL_PIN_SEARCH_PATH_LOCAL, SQL_MIGRATE_ROLES, SQL_MIGRATE_SCHEMA, SQL_MIGRATE_HAND_OVER };
	const char *what[] = { "pinning search_path", "creating the pmhc_* roles (the role needs CREATEROLE)",
			       "creating schema pmhc", "handing the schema to pmhc_owner" };
	if (in_transaction(c, sql, what, sizeof sql / sizeof sql[0]) != 0)
		return -1;
	return exec_ok(c, SQL_COMMIT, "COMMIT");
}

/* Which recorded version is not built in (ahead), or built-in one not recorded (behind). */
struct versions {
	int missing;  /* the first built-in migration not recorded, or 0 */
	int unknown;  /* the first recorded version not built in, or 0 */
	int recorded; /* the highest recorded, or 0 */
};

/* The recorded versions of pmhc.schema_migrations against the built-in ones; -1 and *r unread on failure. */
static int compare_versions(PGconn *c, struct versions *v, PGresult **r)
{
	*r = PQexec(c, SQL_MIGRATION_VERSIONS);
	if (PQresultStatus(*r) != PGRES_TUPLES_OK)
		return -1;
	*v = (struct versions){ 0 };
	int n = PQntuples(*r);
	size_t want = 0;
	for (int i = 0; i < n; i++) {
		int got = atoi(PQgetvalue(*r, i, 0));
		v->recorded = got;
		while (want < pmhc_n_migrations && pmhc_migrations[want].version < got) {
			if (v->missing == 0)
				v->missing = pmhc_migrations[want].version;
			want++;
		}
		if (want < pmhc_n_migrations && pmhc_migrations[want].version == got)
			want++;
		else if (v->unknown == 0)
			v->unknown = got;
	}
	if (want < pmhc_n_migrations && v->missing == 0)
		v->missing = pmhc_migrations[want].version;
	return 0;
}

/* The daemon's start: EX_OK on its own schema, else why not, logged with what to do. */
int pmhc_store_check_schema(struct pmhc_store *s)
{
	struct versions v;
	PGresult *r;
	int built = pmhc_n_migrations ? pmhc_migrations[pmhc_n_migrations - 1].version : 0;
	if (compare_versions(s->conn, &v, &r) != 0) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		bool absent = state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0);
		bool denied = state && strcmp(state, "42501") == 0;
		pmhc_error(
			"msg=\"cannot read pmhc.schema_migrations; not starting\" error=\"%s\" sqlstate=%s hint=\"%s\"",
			store_pq_error(s->conn), state ? state : "-",
			absent   ? "no schema yet: a DBA runs pmhcd --migrate --config FILE first"
			: denied ? "the daemon's role must be a member of pmhc_writer: GRANT pmhc_writer TO it"
				 : "check that PostgreSQL is up and postgres.conninfo names the right database");
		PQclear(r);
		return absent ? EX_PROTOCOL : denied ? EX_NOPERM : EX_UNAVAILABLE;
	}
	PQclear(r);
	if (v.unknown != 0) {
		pmhc_error(
			"msg=\"the schema is ahead of this pmhcd; not starting\" schema_version=%d "
			"pmhcd_schema_version=%d unknown_migration=%d hint=\"run the pmhcd that migrated it, or a newer one\"",
			v.recorded, built, v.unknown);
		return EX_PROTOCOL;
	}
	if (v.missing != 0) {
		pmhc_error("msg=\"the schema is behind this pmhcd; not starting\" schema_version=%d "
			   "pmhcd_schema_version=%d missing_migration=%d "
			   "hint=\"a DBA runs pmhcd --migrate --config FILE (the DBA's conninfo with --conninfo)\"",
			   v.recorded, built, v.missing);
		return EX_PROTOCOL;
	}
	pmhc_info("msg=\"schema is this pmhcd's\" schema_version=%d", v.recorded);
	return EX_OK;
}

int pmhc_store_migrate(struct pmhc_store *s)
{
	PGconn *c = s->conn;
	char lock[LOCK_SQL_LEN];
	snprintf(lock, sizeof lock, SQL_MIGRATION_LOCK, MIGRATION_LOCK);
	if (exec_ok(c, lock, "taking the migration lock") != 0)
		return EX_UNAVAILABLE;
	int rc = EX_UNAVAILABLE;
	if (bootstrap(c) == 0) {
		struct versions v = { 0 };
		PGresult *r;
		if (compare_versions(c, &v, &r) != 0)
			pmhc_error("msg=\"reading pmhc.schema_migrations failed\" error=\"%s\"", store_pq_error(c));
		else if (v.unknown != 0)
			pmhc_error("msg=\"the schema is ahead of this pmhcd; nothing applied\" schema_version=%d "
				   "unknown_migration=%d hint=\"migrate with the pmhcd that made it, or a newer one\"",
				   v.recorded, v.unknown);
		else
			rc = apply_pending(c) == 0 ? EX_OK : EX_UNAVAILABLE;
		if (rc == EX_UNAVAILABLE && v.unknown != 0)
			rc = EX_PROTOCOL;
		PQclear(r);
	}
	snprintf(lock, sizeof lock, SQL_MIGRATION_UNLOCK, MIGRATION_LOCK);
	exec_ok(c, lock, "releasing the migration lock");
	return rc;
}
