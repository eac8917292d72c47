#!/usr/bin/env bash
# Least privilege: a DBA's role makes the schema and the roles with pmhcd
# --migrate (with-servers.sh did, as the superuser of the throw-away cluster);
# the daemon runs as a plain LOGIN role in pmhc_writer, owns nothing, creates
# nothing, and refuses to start on a schema that is missing, behind or ahead,
# with exit status 76 (77 when its role may not read the versions).
source "$(dirname "$0")/lib.sh"

write_config
start_daemon

# The daemon's own session, as PostgreSQL sees it.
expect_eq "pmhcd connects as pmhcd_daemon" \
  "$(sql "SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity WHERE application_name = 'pmhcd'")" pmhcd_daemon
expect_eq "its role is no superuser and may create no database, role or replication" \
  "$(sql "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls
          FROM pg_roles WHERE rolname = 'pmhcd_daemon'")" f
expect_eq "its role is a member of pmhc_writer and nothing else" \
  "$(sql "SELECT string_agg(g.rolname, ',') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
          WHERE m.member = 'pmhcd_daemon'::regrole")" pmhc_writer
expect_eq "neither it nor pmhc_writer owns anything" \
  "$(sql "WITH r(oid) AS (SELECT unnest(ARRAY['pmhcd_daemon'::regrole, 'pmhc_writer'::regrole])::oid)
          SELECT (SELECT count(*) FROM pg_class WHERE relowner IN (SELECT oid FROM r))
               + (SELECT count(*) FROM pg_namespace WHERE nspowner IN (SELECT oid FROM r))
               + (SELECT count(*) FROM pg_proc WHERE proowner IN (SELECT oid FROM r))
               + (SELECT count(*) FROM pg_type WHERE typowner IN (SELECT oid FROM r))
               + (SELECT count(*) FROM pg_database WHERE datdba IN (SELECT oid FROM r))")" 0
expect_eq "the daemon may not create in schema pmhc nor in the database" \
  "$(sql "SELECT has_schema_privilege('pmhcd_daemon', 'pmhc', 'CREATE')
              OR has_database_privilege('pmhcd_daemon', current_database(), 'CREATE')")" f
expect_eq "schema pmhc and everything in it belong to pmhc_owner" \
  "$(sql "SELECT string_agg(DISTINCT pg_get_userbyid(o), ',') FROM (
            SELECT nspowner FROM pg_namespace WHERE nspname = 'pmhc'
            UNION ALL SELECT relowner FROM pg_class WHERE relnamespace = 'pmhc'::regnamespace
            UNION ALL SELECT proowner FROM pg_proc WHERE pronamespace = 'pmhc'::regnamespace) AS x(o)")" pmhc_owner
expect_eq "the five group roles exist and none may log in" \
  "$(sql "SELECT string_agg(rolname || '=' || rolcanlogin, ',' ORDER BY rolname) FROM pg_roles
          WHERE rolname IN ('pmhc_owner', 'pmhc_writer', 'pmhc_analyst', 'pmhc_admin', 'pmhc_case_reviewer')")" \
  "pmhc_admin=false,pmhc_analyst=false,pmhc_case_reviewer=false,pmhc_owner=false,pmhc_writer=false"
gen_calls 3 ROLE | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
until_stored 3 60
ok "the daemon's role stores calls"
stop_daemon

# refused_start WANT_STATUS LOG_PATTERN WHAT: pmhcd must exit WANT_STATUS at start, saying LOG_PATTERN.
refused_start() {
  : > "$PMHC_TEST_DIR/refused.log"
  local rc=0
  timeout 60 "$PMHCD" --config "$PMHC_TEST_DIR/pmhcd.conf" >"$PMHC_TEST_DIR/refused.log" 2>&1 || rc=$?
  [ "$rc" -eq "$1" ] || { cat "$PMHC_TEST_DIR/refused.log" >&2; fail "$3: exit status $rc, want $1"; }
  grep -q "$2" "$PMHC_TEST_DIR/refused.log" || { cat "$PMHC_TEST_DIR/refused.log" >&2; fail "$3: no '$2' logged"; }
  ok "$3: exit $1 and '$2'"
}

# Behind: a migration this pmhcd has is not recorded. The daemon applies nothing.
# (Its record is put back afterwards: a migration is not made to run twice.)
last=$(sql "SELECT max(version) FROM pmhc.schema_migrations")
sql "CREATE TABLE public.kept AS SELECT * FROM pmhc.schema_migrations WHERE version = $last;
     DELETE FROM pmhc.schema_migrations WHERE version = $last"
refused_start 76 "the schema is behind this pmhcd; not starting.*missing_migration=$last.*pmhcd --migrate" \
  "a schema one migration behind"
expect_eq "the daemon recorded nothing" "$(sql "SELECT count(*) FROM pmhc.schema_migrations WHERE version = $last")" 0
sql "INSERT INTO pmhc.schema_migrations SELECT * FROM public.kept"
"$PMHCD" --migrate --conninfo "$PMHC_PG_DBA_CONNINFO" 2>"$PMHC_TEST_DIR/migrate.log" || fail "pmhcd --migrate failed"
grep -q 'applied_now=0' "$PMHC_TEST_DIR/migrate.log" || fail "pmhcd --migrate applied something again"
ok "pmhcd --migrate on an up-to-date schema applies nothing"

# Ahead: a newer pmhcd migrated it. Neither the daemon nor an old --migrate touches it.
sql "INSERT INTO pmhc.schema_migrations (version, name, sha256) VALUES (999, '999_future.sql', 'x')"
refused_start 76 "the schema is ahead of this pmhcd; not starting.*unknown_migration=999" "a schema ahead"
rc=0
"$PMHCD" --migrate --conninfo "$PMHC_PG_DBA_CONNINFO" 2>"$PMHC_TEST_DIR/migrate.log" || rc=$?
expect_eq "pmhcd --migrate on a schema ahead exits 76" "$rc" 76
sql "DELETE FROM pmhc.schema_migrations WHERE version = 999"

# No schema at all: a database nobody migrated.
sql "CREATE DATABASE fresh"
sed -i 's|conninfo = "\([^"]*\)"|conninfo = "\1 dbname=fresh"|' "$PMHC_TEST_DIR/pmhcd.conf"
refused_start 76 "no schema yet: a DBA runs pmhcd --migrate" "a database without the schema"
expect_eq "the daemon created nothing there" \
  "$(psql "$PMHC_PG_DBA_CONNINFO dbname=fresh" -XAtq -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'pmhc'")" 0

# A DBA need not be a superuser: CREATEROLE and CREATE on the database suffice.
sql "CREATE ROLE dba LOGIN CREATEROLE; GRANT CREATE ON DATABASE fresh TO dba"
"$PMHCD" --migrate --conninfo "$PMHC_PG_DBA_CONNINFO dbname=fresh user=dba" 2>"$PMHC_TEST_DIR/migrate.log" ||
  { cat "$PMHC_TEST_DIR/migrate.log" >&2; fail "pmhcd --migrate as a DBA role that is no superuser failed"; }
expect_eq "what a non-superuser DBA made belongs to pmhc_owner too" \
  "$(psql "$PMHC_PG_DBA_CONNINFO dbname=fresh" -XAtq -c "SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',')
       FROM pg_class WHERE relnamespace = 'pmhc'::regnamespace")" pmhc_owner
# start_daemon waits for a "partitions assigned" line: not the first run's.
mv "$PMHC_TEST_DIR/pmhcd.log" "$PMHC_TEST_DIR/pmhcd.log.1"
start_daemon
ok "the daemon starts on the database the DBA migrated"
stop_daemon

# A LOGIN role outside pmhc_writer may not read the versions: exit 77, with the GRANT to make.
sql "CREATE ROLE stranger LOGIN"
sed -i 's|conninfo = "\([^"]*\)"|conninfo = "\1 user=stranger"|' "$PMHC_TEST_DIR/pmhcd.conf"
refused_start 77 "GRANT pmhc_writer TO it" "a role that is not in pmhc_writer"

echo "roles: $checks checks passed"
