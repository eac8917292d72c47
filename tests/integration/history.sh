#!/usr/bin/env bash
# The outcome views against figures computed without them: pmhc-gen-history
# writes a few thousand calls and dispositions for PSAP GEN (America/Toronto)
# and, independently (C library time zones, a plain scan for repeats), what
# the views must show. Both are streamed through the real Kafka protocol and
# pmhcd into PostgreSQL, and the views must agree exactly: months and periods
# cut in local time across DST and the year boundary, repeat encounters across
# period boundaries, replaced dispositions. Then privileges: pmhc_analyst
# reads the views and is refused anything holding a subject hash.
source "$(dirname "$0")/lib.sh"
: "${PMHC_GEN_HISTORY:?}"

"$PMHC_GEN_HISTORY" --calls 4000 --seed 20261123 --tz America/Toronto \
  --jsonl "$PMHC_TEST_DIR/history.jsonl" --expect "$PMHC_TEST_DIR/expected.txt"
calls=$(grep -c '"type":"call"' "$PMHC_TEST_DIR/history.jsonl")
dispositions=$(grep '"type":"disposition"' "$PMHC_TEST_DIR/history.jsonl" | grep -o '"call_id":"[^"]*"' | sort -u | wc -l)

write_config
start_daemon
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/history.jsonl"
wait_sql "SELECT count(*) FROM pmhc.calls" "$calls" 120
wait_sql "SELECT count(*) FROM pmhc.dispositions" "$dispositions" 60
ok "$calls calls and $dispositions dispositions stored"

sql "INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('GEN', 'time_zone', 'America/Toronto')"
if sql "UPDATE pmhc.definitions SET value = 'Mars/Olympus' WHERE psap_id = 'GEN' AND key = 'time_zone'" 2>/dev/null; then
  fail "an unknown time zone was accepted as a definition"
fi
ok "a bad definition is refused"

# The views, printed in the generator's format.
{
  sql "SELECT 'month', month, mh_calls, with_outcome, connected, arrests, use_of_force, involuntary_holds,
              repeat_calls, repeat_subjects
         FROM pmhc.outcomes_by_month WHERE psap_id = 'GEN' ORDER BY month" | tr '|' ' '
  sql "SELECT 'diversion', month, mh_calls_911, transferred_988
         FROM pmhc.diversions_911_to_988 WHERE psap_id = 'GEN' ORDER BY month" | tr '|' ' '
} | sort > "$PMHC_TEST_DIR/got-months.txt"
grep -E '^(month|diversion) ' "$PMHC_TEST_DIR/expected.txt" | sort > "$PMHC_TEST_DIR/want-months.txt"
diff -u "$PMHC_TEST_DIR/want-months.txt" "$PMHC_TEST_DIR/got-months.txt" || fail "monthly outcomes differ"
ok "outcomes and diversions by local month: $(wc -l < "$PMHC_TEST_DIR/want-months.txt") rows exactly as computed"

bvc() { sql "SELECT coalesce($1::text, '-') FROM pmhc.outcomes_baseline_vs_current WHERE psap_id = 'GEN' AND measure = '$2'"; }
for p in baseline current; do
  read -r _ _ mh _ _ _ _ _ rep subj < <(grep "^period $p " "$PMHC_TEST_DIR/expected.txt")
  expect_eq "$p mh_calls" "$(bvc "$p" mh_calls)" "$mh"
  expect_eq "$p repeat_calls" "$(bvc "$p" repeat_calls)" "$rep"
  expect_eq "$p repeat_subjects" "$(bvc "$p" repeat_subjects)" "$subj"
  read -r _ _ _ w conn arr force holds _ _ < <(grep "^period $p " "$PMHC_TEST_DIR/expected.txt")
  for m in "connected_rate $conn" "arrest_rate $arr" "use_of_force_rate $force" "involuntary_hold_rate $holds"; do
    set -- $m
    want=$(awk -v a="$2" -v b="$w" 'BEGIN { printf "%.4f", a / b }')
    expect_eq "$p $1" "$(bvc "$p" "$1")" "$want"
  done
done
read -r _ _ b_mh _ < <(grep "^period baseline " "$PMHC_TEST_DIR/expected.txt")
read -r _ _ c_mh _ < <(grep "^period current " "$PMHC_TEST_DIR/expected.txt")
expect_eq "change is current - baseline" "$(bvc change mh_calls)" "$((c_mh - b_mh))"

sql "SELECT 'hourdow', isodow, hour, mh_calls FROM pmhc.mh_calls_by_hour_weekday WHERE psap_id = 'GEN'" \
  | tr '|' ' ' | sort > "$PMHC_TEST_DIR/got-hours.txt"
grep '^hourdow ' "$PMHC_TEST_DIR/expected.txt" | sort > "$PMHC_TEST_DIR/want-hours.txt"
diff -u "$PMHC_TEST_DIR/want-hours.txt" "$PMHC_TEST_DIR/got-hours.txt" || fail "hour/weekday counts differ"
ok "MH calls by local weekday and hour: $(wc -l < "$PMHC_TEST_DIR/want-hours.txt") cells exactly as computed"

# The time zone matters: read in UTC, the months come out differently.
sql "DELETE FROM pmhc.definitions WHERE psap_id = 'GEN'"
sql "SELECT 'month', month, mh_calls, with_outcome, connected, arrests, use_of_force, involuntary_holds,
            repeat_calls, repeat_subjects FROM pmhc.outcomes_by_month WHERE psap_id = 'GEN'" \
  | tr '|' ' ' | sort > "$PMHC_TEST_DIR/got-utc.txt"
grep '^month ' "$PMHC_TEST_DIR/want-months.txt" > "$PMHC_TEST_DIR/want-local.txt"
if diff -q "$PMHC_TEST_DIR/want-local.txt" "$PMHC_TEST_DIR/got-utc.txt" >/dev/null; then
  fail "months cut in UTC match the local ones: the test does not exercise time zones"
fi
ok "the same history read in UTC gives other months (the edges are exercised)"
sql "INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('GEN', 'time_zone', 'America/Toronto')"

# Small cells: with a threshold, fine-grained counts below it are hidden from
# analysts (the DBA above, like a case reviewer, reads exact counts).
sql "INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('GEN', 'small_cell_threshold', '20')"
expect_eq "small cells suppressed" \
  "$(analyst_sql "SELECT count(*) FILTER (WHERE mh_calls IS NULL) > 0 AND count(*) FILTER (WHERE mh_calls < 20) = 0
            FROM pmhc.mh_calls_by_hour_weekday WHERE psap_id = 'GEN'")" t

# Every table, view and column is documented.
expect_eq "every relation in pmhc has a comment" \
  "$(sql "SELECT string_agg(c.relname, ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'pmhc' AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL")" ""
expect_eq "every column in pmhc has a comment" \
  "$(sql "SELECT string_agg(c.relname || '.' || a.attname, ',') FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'pmhc' AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
            AND col_description(c.oid, a.attnum) IS NULL")" ""

# Privileges, connecting as an analyst (with-servers.sh's pmhc_reader, a LOGIN
# member of pmhc_analyst and nothing else).
for v in $(sql "SELECT table_name FROM information_schema.role_table_grants
                WHERE grantee = 'pmhc_analyst' AND table_schema = 'pmhc' AND privilege_type = 'SELECT'"); do
  analyst_sql "SELECT count(*) FROM pmhc.$v" >/dev/null || fail "analyst cannot read pmhc.$v, granted to pmhc_analyst"
done
ok "analyst reads every view and table granted to pmhc_analyst (and the functions they call)"
expect_eq "analyst reads the outcome views" \
  "$(analyst_sql "SELECT sum(mh_calls) FROM pmhc.outcomes_by_month WHERE psap_id = 'GEN'")" "$(sql "SELECT count(*) FROM pmhc.calls WHERE mental_health_call")"
for q in "SELECT subject_hash FROM pmhc.calls LIMIT 1" "SELECT subject_hash FROM pmhc.call_facts LIMIT 1" \
         "SELECT * FROM pmhc.decisions LIMIT 1" "SELECT * FROM pmhc.dispositions LIMIT 1" \
         "SELECT * FROM pmhc.mh_call_outcomes LIMIT 1" "SELECT * FROM pmhc.unit_status LIMIT 1" \
         "UPDATE pmhc.definitions SET value = '4' WHERE psap_id = '*' AND key = 'repeat_threshold'"; do
  if err=$(analyst_sql "$q" 2>&1); then fail "analyst could run: $q"; fi
  grep -q 'permission denied' <<<"$err" || fail "analyst refused for another reason: $err"
done
ok "analyst is refused the per-call tables and views, unit positions and editing the definitions"
expect_eq "no analyst-readable column holds a subject hash" \
  "$(analyst_sql "SELECT count(*) FROM information_schema.column_privileges
              WHERE table_schema = 'pmhc' AND column_name = 'subject_hash' AND grantee IN ('pmhc_analyst', 'PUBLIC')")" 0
sql "CREATE ROLE erin LOGIN IN ROLE pmhc_admin; CREATE ROLE carl LOGIN IN ROLE pmhc_case_reviewer"
psql "$PMHC_PG_DBA_CONNINFO user=erin" -XAtq -v ON_ERROR_STOP=1 \
  -c "UPDATE pmhc.definitions SET value = '4' WHERE psap_id = '*' AND key = 'repeat_threshold'"
expect_eq "an administrator (pmhc_admin) edits the definitions" \
  "$(analyst_sql "SELECT value FROM pmhc.definitions WHERE psap_id = '*' AND key = 'repeat_threshold'")" 4
expect_eq "a case reviewer (pmhc_case_reviewer) reads the per-call drill-down" \
  "$(psql "$PMHC_PG_DBA_CONNINFO user=carl" -XAtq -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM pmhc.mh_call_outcomes")" \
  "$(sql "SELECT count(*) FROM pmhc.calls WHERE mental_health_call")"

stop_daemon
echo "history: $checks checks passed"
