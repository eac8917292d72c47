/*
 * The SQL of the migration machinery itself (store_migrate.c): what must exist
 * before a numbered migration of sql/ can be applied or recorded, and the
 * hand-over of every object to pmhc_owner. The schema itself is only in sql/.
 */
#ifndef PMHC_MIGRATE_SQL_H
#define PMHC_MIGRATE_SQL_H

/* Takes an integer key: the lock that serializes instances starting at once. */
#define SQL_MIGRATION_LOCK "SELECT pg_catalog.pg_advisory_lock(%d)"
#define SQL_MIGRATION_UNLOCK "SELECT pg_catalog.pg_advisory_unlock(%d)"

/*
 * Every migration runs with this, whatever it or an earlier one set: a
 * function or operator a user planted in public must never be picked by the
 * DBA's role (CVE-2018-1058). pg_temp last, so no temporary object shadows one.
 */
#define SQL_PIN_SEARCH_PATH_LOCAL "SET LOCAL search_path = pg_catalog, pg_temp"

/*
 * The roles, cluster-wide, so each is created only when missing (another
 * database on the server may have made it already). The DBA's role must be a
 * member of pmhc_owner to create in its schema and to hand objects to it.
 */
#define SQL_MIGRATE_ROLES                                                                                                                  \
	"DO $$ DECLARE r text; BEGIN"                                                                                                      \
	" FOREACH r IN ARRAY ARRAY['pmhc_owner', 'pmhc_writer', 'pmhc_analyst', 'pmhc_admin', 'pmhc_case_reviewer']"                       \
	" LOOP"                                                                                                                            \
	"  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN"                                    \
	"   EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);"                                                                       \
	"  END IF;"                                                                                                                        \
	" END LOOP;"                                                                                                                       \
	" IF NOT pg_catalog.pg_has_role(CURRENT_USER, 'pmhc_owner', 'MEMBER') THEN"                                                        \
	"  GRANT pmhc_owner TO CURRENT_USER;"                                                                                              \
	" END IF;"                                                                                                                         \
	"END $$;"                                                                                                                          \
	"COMMENT ON ROLE pmhc_owner IS 'pmhcd: owns schema pmhc and everything in it; NOLOGIN, used only by pmhcd --migrate.';"            \
	"COMMENT ON ROLE pmhc_writer IS 'pmhcd: the daemon''s writes to schema pmhc; grant it to the daemon''s LOGIN role.';"              \
	"COMMENT ON ROLE pmhc_analyst IS 'pmhcd: reads the aggregate outcome views and the definitions; nothing per call or per person.';" \
	"COMMENT ON ROLE pmhc_admin IS 'pmhcd: edits pmhc.definitions (every change kept in its history).';"                               \
	"COMMENT ON ROLE pmhc_case_reviewer IS 'pmhcd: reads the per-call drill-down (mh_call_outcomes) and unit_status.';"

#define SQL_MIGRATE_SCHEMA                                                                                             \
	"CREATE SCHEMA IF NOT EXISTS pmhc AUTHORIZATION pmhc_owner;"                                                   \
	"CREATE TABLE IF NOT EXISTS pmhc.schema_migrations ("                                                          \
	" version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"                                      \
	" applied_at timestamptz NOT NULL DEFAULT pg_catalog.now());"                                                  \
	"COMMENT ON TABLE pmhc.schema_migrations IS "                                                                  \
	"'Which numbered migrations of sql/ pmhcd --migrate has applied, and a hash of each as applied.';"             \
	"COMMENT ON COLUMN pmhc.schema_migrations.version IS 'The migration''s number (NNN of sql/NNN_*.sql).';"       \
	"COMMENT ON COLUMN pmhc.schema_migrations.name IS 'The migration''s file name.';"                              \
	"COMMENT ON COLUMN pmhc.schema_migrations.sha256 IS "                                                          \
	"'SHA-256 of the migration as applied; pmhcd warns if its own copy differs.';"                                 \
	"COMMENT ON COLUMN pmhc.schema_migrations.applied_at IS 'When it was applied.'"

/*
 * Everything in schema pmhc to pmhc_owner, whoever created it: the DBA's role
 * now, the daemon's own role in installs from before pmhcd --migrate. Indexes,
 * a table's row type and the sequences a table owns (serial, identity) follow
 * their table: PostgreSQL refuses to move those on their own.
 */
#define SQL_MIGRATE_HAND_OVER                                                                                          \
	"DO $$ DECLARE r record; owner oid := 'pmhc_owner'::pg_catalog.regrole; BEGIN"                                 \
	" IF (SELECT nspowner FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) 'pmhc')"               \
	"    OPERATOR(pg_catalog.<>) owner THEN"                                                                       \
	"  ALTER SCHEMA pmhc OWNER TO pmhc_owner;"                                                                     \
	" END IF;"                                                                                                     \
	" FOR r IN SELECT c.oid::pg_catalog.regclass AS o, c.relkind FROM pg_catalog.pg_class c"                       \
	"   WHERE c.relnamespace OPERATOR(pg_catalog.=) 'pmhc'::pg_catalog.regnamespace"                               \
	"     AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,S,f}'::pg_catalog.\"char\"[])"                       \
	"     AND c.relowner OPERATOR(pg_catalog.<>) owner"                                                            \
	"     AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d"                                                      \
	"      WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"                      \
	"        AND d.objid OPERATOR(pg_catalog.=) c.oid"                                                             \
	"        AND d.deptype OPERATOR(pg_catalog.=) ANY ('{a,i}'::pg_catalog.\"char\"[])) LOOP"                      \
	"  EXECUTE pg_catalog.format('ALTER %s %s OWNER TO pmhc_owner', CASE r.relkind WHEN 'v' THEN 'VIEW'"           \
	"   WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'"                  \
	"   ELSE 'TABLE' END, r.o);"                                                                                   \
	" END LOOP;"                                                                                                   \
	" FOR r IN SELECT p.oid::pg_catalog.regprocedure AS o, p.prokind FROM pg_catalog.pg_proc p"                    \
	"   WHERE p.pronamespace OPERATOR(pg_catalog.=) 'pmhc'::pg_catalog.regnamespace"                               \
	"     AND p.proowner OPERATOR(pg_catalog.<>) owner LOOP"                                                       \
	"  EXECUTE pg_catalog.format('ALTER %s %s OWNER TO pmhc_owner', CASE r.prokind WHEN 'p' THEN 'PROCEDURE'"      \
	"   WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.o);"                                                      \
	" END LOOP;"                                                                                                   \
	" FOR r IN SELECT t.oid::pg_catalog.regtype AS o, t.typtype FROM pg_catalog.pg_type t"                         \
	"   WHERE t.typnamespace OPERATOR(pg_catalog.=) 'pmhc'::pg_catalog.regnamespace"                               \
	"     AND t.typtype OPERATOR(pg_catalog.=) ANY ('{d,e,r}'::pg_catalog.\"char\"[])"                             \
	"     AND t.typowner OPERATOR(pg_catalog.<>) owner LOOP"                                                       \
	"  EXECUTE pg_catalog.format('ALTER %s %s OWNER TO pmhc_owner',"                                               \
	"   CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.o);"                                              \
	" END LOOP;"                                                                                                   \
	"END $$"

#define SQL_MIGRATION_HASH "SELECT sha256 FROM pmhc.schema_migrations WHERE version OPERATOR(pg_catalog.=) $1"
#define SQL_MIGRATION_RECORD "INSERT INTO pmhc.schema_migrations (version, name, sha256) VALUES ($1, $2, $3)"

/* What the daemon reads at start: which migrations the database has. */
#define SQL_MIGRATION_VERSIONS "SELECT version FROM pmhc.schema_migrations ORDER BY version"

#endif
