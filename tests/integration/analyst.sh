#!/usr/bin/env bash
# Analysts see aggregates only: the attacks of issue 17, played as an analyst
# (with-servers.sh's pmhc_reader, a LOGIN member of pmhc_analyst), each refused.
source "$(dirname "$0")/lib.sh"

# refused WHAT SQL: the analyst's SQL must fail with "permission denied".
refused() {
  local err
  if err=$(analyst_sql "$2" 2>&1); then fail "$1: the analyst could run: $2"; fi
  grep -q 'permission denied' <<<"$err" || fail "$1: refused for another reason: $err"
  ok "$1: refused"
}

write_config
start_daemon
# One PSAP, one day (UTC, the default time zone): beat A 30 MH calls at 04:00,
# beat B 15 at 05:00, beat C 2 at 06:00. Two people call again and again.
# (Times as %.0f: the %d of mawk stops at 2^31.)
awk 'BEGIN {
  n = 0
  split("A 30 4,B 15 5,C 2 6", groups, ",")
  for (g = 1; g <= 3; g++) {
    split(groups[g], f, " ")
    for (i = 0; i < f[2]; i++) {
      t = 1763856000000 + f[3] * 3600000 + i * 60000
      printf "{\"type\":\"call\",\"call_id\":\"ANL-%04d\",\"psap_id\":\"ANL\",\"revision\":1,\"received_at_ms\":%.0f,\"source\":\"SOURCE_911\",\"nature_code\":\"EDP\",\"subject_key\":\"P-%d\",\"location\":{\"beat\":\"%s\",\"district\":\"D1\"},\"screening\":{\"weapon_involved\":\"ANSWER_NO\"}}\n", n++, t, n % 2, f[1]
    }
  }
}' | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
until_stored 47 60
stop_daemon

# 1. Vary the repeat window inside a rolled-back transaction and read each
#    call's repeat flag: the definitions are an administrator's, and the
#    per-call drill-down a case reviewer's.
refused "editing the repeat window, even in a transaction rolled back" \
  "BEGIN; UPDATE pmhc.definitions SET value = '1' WHERE psap_id = '*' AND key = 'repeat_window_days'; ROLLBACK"
refused "a PSAP's own repeat window" \
  "INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('ANL', 'repeat_window_days', '1')"
refused "reading each call's repeat_encounter" "SELECT call_id, repeat_encounter FROM pmhc.mh_call_outcomes"
# 2. Exact times, beats and call_id chain calls into histories; unit positions show scenes.
refused "reading unit positions" "SELECT lat, lon FROM pmhc.unit_status"
expect_eq "no column an analyst may read holds a call, a person, an exact time or a position" \
  "$(analyst_sql "SELECT coalesce(string_agg(DISTINCT table_name || '.' || column_name, ','), 'none')
                   FROM information_schema.column_privileges
                  WHERE table_schema = 'pmhc' AND grantee IN ('pmhc_analyst', 'PUBLIC')
                    AND column_name IN ('call_id', 'subject_hash', 'received_at', 'received_local', 'closed_at',
                                        'lat', 'lon', 'unit_id', 'narrative', 'call_taker_hash')")" none

# 3. Small-cell suppression: on out of the box, not to be turned off.
expect_eq "suppression is on out of the box, at 11" \
  "$(analyst_sql "SELECT small_cell_threshold FROM pmhc.effective_definitions WHERE psap_id = '*'")" 11
refused "turning suppression off" \
  "UPDATE pmhc.definitions SET value = '0' WHERE psap_id = '*' AND key = 'small_cell_threshold'"
sql "CREATE ROLE erin LOGIN IN ROLE pmhc_admin"
admin() { psql "$PMHC_PG_DBA_CONNINFO user=erin" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
if err=$(admin "UPDATE pmhc.definitions SET value = '3' WHERE psap_id = '*' AND key = 'small_cell_threshold'" 2>&1); then
  fail "an administrator lowered the small-cell threshold below 11"
fi
grep -q 'definitions_small_cell_floor' <<<"$err" || fail "refused for another reason: $err"
ok "not even an administrator lowers it below 11: the CHECK definitions_small_cell_floor refuses"
admin "UPDATE pmhc.definitions SET value = '12' WHERE psap_id = '*' AND key = 'small_cell_threshold'"
admin "UPDATE pmhc.definitions SET value = '11' WHERE psap_id = '*' AND key = 'small_cell_threshold'"
expect_eq "each change kept: who, old, new" \
  "$(analyst_sql "SELECT string_agg(changed_by || ':' || old_value || '>' || new_value, ',' ORDER BY id)
                   FROM pmhc.definitions_history WHERE key = 'small_cell_threshold' AND changed_by = 'erin'")" \
  "erin:11>12,erin:12>11"
refused "writing the history" \
  "DELETE FROM pmhc.definitions_history"
if admin "DELETE FROM pmhc.definitions_history" 2>/dev/null; then fail "an administrator erased the history"; fi
ok "an administrator cannot erase the history"

# 4. Differencing: the month's total (mh_calls_by_month, not suppressed) minus
#    the beats shown must never give a count below 11. Beat C (2 calls) alone
#    hidden would be 47 - 30 - 15 = 2: complementary suppression hides B too.
expect_eq "exact counts (as the DBA): beats A, B, C" \
  "$(sql "SELECT string_agg(beat || '=' || mh_calls, ',' ORDER BY beat) FROM pmhc.mh_calls_by_place WHERE psap_id = 'ANL'")" \
  "A=30,B=15,C=2"
expect_eq "as an analyst: C hidden, and B with it" \
  "$(analyst_sql "SELECT string_agg(beat || '=' || coalesce(mh_calls::text, '-'), ',' ORDER BY beat)
                   FROM pmhc.mh_calls_by_place WHERE psap_id = 'ANL'")" "A=30,B=-,C=-"
expect_eq "month total minus every beat shown: never a count from 1 to 10" \
  "$(analyst_sql "SELECT count(*) FROM (
                    SELECT m.mh_calls - coalesce(sum(p.mh_calls), 0) AS hidden
                      FROM pmhc.mh_calls_by_month m JOIN pmhc.mh_calls_by_place p USING (psap_id, month)
                     GROUP BY m.psap_id, m.month, m.mh_calls) d WHERE hidden BETWEEN 1 AND 10")" 0
expect_eq "as an analyst, hours: 06:00 hidden, and 05:00 with it" \
  "$(analyst_sql "SELECT string_agg(hour || '=' || coalesce(mh_calls::text, '-'), ',' ORDER BY hour)
                   FROM pmhc.mh_calls_by_hour_weekday WHERE psap_id = 'ANL'")" "4=30,5=-,6=-"
expect_eq "a weekday's total (from the days) minus every hour shown: never a count from 1 to 10" \
  "$(analyst_sql "WITH days AS (SELECT psap_id, extract(isodow FROM day)::int AS isodow, sum(mh_calls) AS total
                                 FROM pmhc.mh_calls_by_day GROUP BY 1, 2)
                  SELECT count(*) FROM (
                    SELECT d.total - coalesce(sum(h.mh_calls), 0) AS hidden
                      FROM days d JOIN pmhc.mh_calls_by_hour_weekday h USING (psap_id, isodow)
                     GROUP BY d.psap_id, d.isodow, d.total) x WHERE hidden BETWEEN 1 AND 10")" 0

# 5. Every view an analyst reads is a security barrier.
expect_eq "every view granted to pmhc_analyst is a security_barrier view" \
  "$(sql "SELECT coalesce(string_agg(c.relname, ','), 'all') FROM pg_class c
          WHERE c.relnamespace = 'pmhc'::regnamespace AND c.relkind = 'v'
            AND has_table_privilege('pmhc_analyst', c.oid, 'SELECT')
            AND NOT coalesce('security_barrier=true' = ANY (c.reloptions), false)")" all

echo "analyst: $checks checks passed"
