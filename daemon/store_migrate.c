/*
 * The migrations at start: the embedded sql/NNN_*.sql not yet recorded in
 * pmhc.schema_migrations, each in a transaction of its own, under an advisory
 * lock so that instances starting at once apply each only once.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "digest.h"
#include "log.h"
#include "migrations.h"
#include "store_int.h"
#include "store_sql.h"

/*
 * Serializes migrations between instances starting at once; any constant will
 * do ("pmhc" in ASCII, which no other user of advisory locks is likely to pick).
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

/* Applies m and records it, in one transaction; 0, or -1 with nothing of it left behind. */
static int apply(PGconn *c, const struct pmhc_migration *m, const char *version, const char *hash)
{
	if (exec_ok(c, SQL_BEGIN, "BEGIN") != 0)
		return -1;
	if (exec_ok(c, m->sql, m->name) != 0) {
		exec_ok(c, SQL_ROLLBACK, "ROLLBACK");
		return -1;
	}
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

int pmhc_store_migrate(struct pmhc_store *s)
{
	PGconn *c = s->conn;
	char lock[LOCK_SQL_LEN];
	snprintf(lock, sizeof lock, SQL_MIGRATION_LOCK, MIGRATION_LOCK);
	if (exec_ok(c, lock, "taking the migration lock") != 0)
		return -1;
	int rc = -1;
	if (exec_ok(c, SQL_SCHEMA_MIGRATIONS, "creating pmhc.schema_migrations") == 0)
		rc = apply_pending(c);
	snprintf(lock, sizeof lock, SQL_MIGRATION_UNLOCK, MIGRATION_LOCK);
	exec_ok(c, lock, "releasing the migration lock");
	return rc;
}
