#!/usr/bin/env bash
# The search_path hijack (CVE-2018-1058): a user who may create in public plants
# functions and operators that fit the daemon's and the migrations' argument
# types better than pg_catalog's (to_timestamp(numeric), bigint / numeric,
# numeric / bigint) or look like them (to_timestamp(float8), text = text), each
# recording that it ran. Then a DBA migrates a database, pmhcd stores calls,
# dispositions and unit statuses in it, an analyst reads the views and an
# administrator edits a definition: none of the planted code ever runs, and
# nothing in schema pmhc depends on it.
source "$(dirname "$0")/lib.sh"

sql "CREATE DATABASE hijacked"
db="$PMHC_PG_DBA_CONNINFO dbname=hijacked"
as_dba() { psql "$db" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
as_mallory() { psql "$db user=mallory" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
# What of the planted code ran, as whom: "none" when nothing did.
ran() {
  as_dba "SELECT coalesce(string_agg(DISTINCT what || ' as ' || by_role, ', '), 'none') FROM public.hijack_log"
}

# mallory: a plain LOGIN role, allowed to create in public (PostgreSQL 15 no
# longer lets everyone; many databases still do).
as_dba "CREATE ROLE mallory LOGIN; GRANT CREATE ON SCHEMA public TO mallory"
as_mallory "
CREATE TABLE public.hijack_log (what text NOT NULL, by_role name NOT NULL DEFAULT current_user);
GRANT INSERT ON public.hijack_log TO PUBLIC;
CREATE FUNCTION public.to_timestamp(numeric) RETURNS timestamptz LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO public.hijack_log (what) VALUES ('to_timestamp(numeric)');
  RETURN pg_catalog.to_timestamp(\$1::pg_catalog.float8);
END \$\$;
CREATE FUNCTION public.to_timestamp(double precision) RETURNS timestamptz LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO public.hijack_log (what) VALUES ('to_timestamp(float8)');
  RETURN pg_catalog.to_timestamp(\$1);
END \$\$;
CREATE FUNCTION public.div_bn(bigint, numeric) RETURNS numeric LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO public.hijack_log (what) VALUES ('bigint / numeric');
  RETURN \$1::pg_catalog.numeric OPERATOR(pg_catalog./) \$2;
END \$\$;
CREATE OPERATOR public./ (LEFTARG = bigint, RIGHTARG = numeric, FUNCTION = public.div_bn);
CREATE FUNCTION public.div_nb(numeric, bigint) RETURNS numeric LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO public.hijack_log (what) VALUES ('numeric / bigint');
  RETURN \$1 OPERATOR(pg_catalog./) \$2::pg_catalog.numeric;
END \$\$;
CREATE OPERATOR public./ (LEFTARG = numeric, RIGHTARG = bigint, FUNCTION = public.div_nb);
CREATE FUNCTION public.eq_tt(text, text) RETURNS boolean LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO public.hijack_log (what) VALUES ('text = text');
  RETURN \$1 OPERATOR(pg_catalog.=) \$2;
END \$\$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.eq_tt);"

# The plants work: a session with the default search_path runs them.
as_mallory "SELECT to_timestamp(1763870400000::bigint / 1000.0), round(1.0 / 3::bigint, 2)" >/dev/null
expect_eq "the planted code runs where search_path lets it" \
  "$(as_dba "SELECT string_agg(DISTINCT what, ',' ORDER BY what) FROM public.hijack_log")" \
  "bigint / numeric,numeric / bigint,to_timestamp(numeric)"
as_dba "TRUNCATE public.hijack_log"

# The DBA migrates the database; the daemon (pmhcd_daemon, in pmhc_writer) stores into it.
"$PMHCD" --migrate --conninfo "$db" 2>"$PMHC_TEST_DIR/migrate.log" ||
  { cat "$PMHC_TEST_DIR/migrate.log" >&2; fail "pmhcd --migrate failed"; }
expect_eq "no planted code ran in the migrations" "$(ran)" none
expect_eq "no view, default or check depends on a planted function or operator" \
  "$(as_dba "SELECT count(*) FROM pg_depend d
             LEFT JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid
             LEFT JOIN pg_operator o ON d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid
            WHERE coalesce(p.pronamespace, o.oprnamespace) = 'public'::regnamespace
              AND d.classid <> 'pg_operator'::regclass")" 0

write_config
sed -i 's|conninfo = "\([^"]*\)"|conninfo = "\1 dbname=hijacked"|' "$PMHC_TEST_DIR/pmhcd.conf"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-units.jsonl"
start_daemon
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-calls.jsonl" "$DATA/sample-dispositions.jsonl"
ndisp=$(grep -c '"type":"disposition"' "$DATA/sample-dispositions.jsonl")
for _ in $(seq 1 600); do
  [ "$(as_dba "SELECT (SELECT count(*) FROM pmhc.calls) = 18 AND (SELECT count(*) FROM pmhc.dispositions) = $ndisp
                  AND (SELECT count(*) FROM pmhc.unit_status) > 0")" = t ] && break
  sleep 0.1
done
expect_eq "calls, dispositions and unit statuses stored" \
  "$(as_dba "SELECT (SELECT count(*) FROM pmhc.calls) || ' ' || (SELECT count(*) FROM pmhc.dispositions)
                 || ' ' || ((SELECT count(*) FROM pmhc.unit_status) > 0)")" "18 $ndisp true"
expect_eq "times converted by pg_catalog's to_timestamp, to the millisecond" \
  "$(as_dba "SELECT received_at = '2025-11-23 04:00:00+00' FROM pmhc.calls WHERE call_id = '24-000101'")" t
stop_daemon
expect_eq "no planted code ran as the daemon's role" "$(ran)" none

# The writer's own session plants a temporary table where the calls trigger, which
# runs as the schema's owner, keeps its own, with a trigger that would run as that
# owner. The trigger refuses the table, and the planted trigger never runs.
out=$(psql "$PMHC_PG_CONNINFO dbname=hijacked" -XAtq -v ON_ERROR_STOP=1 2>&1 <<'SQL' || true
CREATE TEMP TABLE pmhc_changed_rows (psap_id text, received_at timestamptz, received_local timestamp,
                                     mental_health_call boolean, subject_hash bytea, sign int);
CREATE FUNCTION pg_temp.planted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.hijack_log (what) VALUES ('a trigger on a planted temporary table');
  RETURN NULL;
END $$;
CREATE TRIGGER planted AFTER INSERT ON pg_temp.pmhc_changed_rows FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.planted();
GRANT ALL ON pg_temp.pmhc_changed_rows TO PUBLIC;
UPDATE pmhc.calls SET nature_text = 'planted' WHERE call_id = '24-000101';
SQL
)
case $out in
  *"pg_temp.pmhc_changed_rows was not made by this trigger"*) ok "the calls trigger refuses a temporary table it did not make" ;;
  *) fail "a planted temporary table was not refused: $out" ;;
esac
expect_eq "no planted code ran as the schema's owner" "$(ran)" none
expect_eq "the refused statement changed nothing" \
  "$(as_dba "SELECT count(*) FROM pmhc.calls WHERE nature_text = 'planted'")" 0

# An analyst reads the views, an administrator edits a definition (its trigger checks the value).
psql "$PMHC_PG_ANALYST_CONNINFO dbname=hijacked" -XAtq -v ON_ERROR_STOP=1 \
  -c "SELECT * FROM pmhc.outcomes_by_month" -c "SELECT * FROM pmhc.outcomes_baseline_vs_current" \
  -c "SELECT * FROM pmhc.mh_calls_by_hour_weekday" -c "SELECT * FROM pmhc.screening_fidelity" >/dev/null
sql "DO \$\$ BEGIN CREATE ROLE erin LOGIN IN ROLE pmhc_admin; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
psql "$db user=erin" -XAtq -v ON_ERROR_STOP=1 \
  -c "INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('TPS', 'time_zone', 'America/Toronto')"
expect_eq "no planted code ran for the analyst or the administrator" "$(ran)" none

echo "hijack: $checks checks passed"
