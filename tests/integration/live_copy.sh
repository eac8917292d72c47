#!/usr/bin/env bash
# The live writer COPYs the calls this process meets for the first time (their
# first revision) and merges the rest, in one transaction (daemon/store_copy.c).
# Each batch here is made to hold what it tests (a long batch age, one
# partition), and the debug log's calls_path says which way it went:
#   copy   new calls only;
#   split  a later revision of a call, or an unversioned one, with a new call;
#   merge  an unversioned call alone; and, after a restart, the replay of a
#          stored call's first revision, which this process does not remember:
#          the COPY meets the stored row and the whole part is merged instead.
# What is stored must be what the merge alone would store, and the writer's
# count of stale revisions must match.
source "$(dirname "$0")/lib.sh"

write_config 'log = { level = "debug"; };'
# Long enough that what one pmhc-produce sends is one batch.
sed -i 's/batch_max_ms = [0-9]*/batch_max_ms = 1500/' "$PMHC_TEST_DIR/pmhcd.conf"

base=$(grep -m1 -v '^#' "$DATA/sample-calls.jsonl")
# event ID REVISION [NATURE]: the first sample call under another id.
event() {
  jq -c --arg id "$1" --argjson rev "$2" --arg nature "${3:-EDP}" \
    '.call_id = $id | .revision = $rev | .nature_code = $nature' <<<"$base"
}
send() { "$PMHC_PRODUCE" -b "$PMHC_BROKERS" >/dev/null || fail "pmhc-produce failed"; }

# paths: the calls_path of every batch with calls written so far, one per line.
paths() {
  grep -o 'msg="batch written" calls=[0-9]* calls_path=[a-z]*' "$PMHC_TEST_DIR/pmhcd.log" |
    sed 's/.*calls_path=//' | grep -v '^none$' || true
}
# until_batches N: waits until N batches with calls are written.
until_batches() {
  for _ in $(seq 1 200); do
    [ "$(paths | wc -l)" -ge "$1" ] && return 0
    sleep 0.1
  done
  fail "fewer than $1 batches written: $(paths | paste -sd ' ')"
}

start_daemon

{ event L-1 1; event L-2 1; } | send
until_batches 1
expect_eq "two new calls: copied" "$(paths | sed -n 1p)" copy

# L-1's second revision (this process wrote its first) and a new call, in one batch.
{ event L-1 2 MNTL; event L-4 1; } | send
until_batches 2
expect_eq "a revision and a new call: split" "$(paths | sed -n 2p)" split

# An unversioned call gives no sign that it is new: merged, and replaced in place.
event L-3 0 | send
until_batches 3
event L-3 0 MNTL | send
until_batches 4
expect_eq "an unversioned call: merged, twice" "$(paths | sed -n 3,4p | paste -sd ' ')" "merge merge"

stop_daemon
# start_daemon waits for "partitions assigned": the first process's line must not count.
mv "$PMHC_TEST_DIR/pmhcd.log" "$PMHC_TEST_DIR/pmhcd-first.log"
start_daemon
# A later revision of a call stored before this process started is merged without a try.
{ event L-2 2 MNTL; event L-5 1; } | send
until_batches 1
expect_eq "after a restart, a later revision and a new call: split" "$(paths | sed -n 1p)" split
# A replay of L-1's first revision, which this process does not remember, beside a new call.
{ event L-1 1; event L-7 1; } | send
until_batches 2
expect_eq "a replayed first revision: the COPY met the stored row, all merged" "$(paths | sed -n 2p)" merge
grep -q 'msg="batch meets stored rows; merged, not copied"' "$PMHC_TEST_DIR/pmhcd.log" ||
  fail "the COPY that met a stored row did not say so"
ok "the COPY that met a stored row said so"
stop_daemon

expect_eq "each call at its newest revision, decided on it" \
  "$(sql "SELECT string_agg(call_id || ':' || revision || ':' || nature_code, ' ' ORDER BY call_id) FROM pmhc.calls")" \
  "L-1:2:MNTL L-2:2:MNTL L-3:0:MNTL L-4:1:EDP L-5:1:EDP L-7:1:EDP"
expect_eq "one decision per (call, revision)" \
  "$(sql "SELECT string_agg(call_id || ':' || revision, ' ' ORDER BY call_id, revision) FROM pmhc.decisions")" \
  "L-1:1 L-1:2 L-2:1 L-2:2 L-3:0 L-4:1 L-5:1 L-7:1"
# Unversioned, L-3's one decision is its second event's, as its row is.
expect_eq "each call's row and the decision of its revision are of the same event" \
  "$(sql "SELECT count(*) FROM pmhc.calls c JOIN pmhc.decisions d USING (psap_id, call_id, revision)
           WHERE d.decided_at = c.decided_at AND d.rule_id = c.rule_id")" 6
# The writer counts what it applied: only the replay of L-1's first revision was stale.
expect_eq "stale revisions counted by the writer" \
  "$(cat "$PMHC_TEST_DIR/pmhcd-first.log" "$PMHC_TEST_DIR/pmhcd.log" |
     grep -o 'msg="stale revisions ignored" count=[0-9]*' | paste -sd ' ')" \
  'msg="stale revisions ignored" count=1'
# The hourly summary counts each call once, whichever way it went in.
expect_eq "the hourly summary counts six calls" "$(sql "SELECT sum(calls) FROM pmhc.calls_by_local_hour")" 6

# A session older than migration 017 holds the calls trigger's table under its old
# name, emptied by a truncation at every commit: its next statement drops it.
expect_eq "the trigger's table of before 017 is dropped, its own made" \
  "$(psql "$PMHC_PG_DBA_CONNINFO" -XAtq -v ON_ERROR_STOP=1 <<'SQL'
SET ROLE pmhc_owner;
CREATE TEMP TABLE pmhc_changed_calls (psap_id text) ON COMMIT DELETE ROWS;
RESET ROLE;
UPDATE pmhc.calls SET nature_text = 'touched' WHERE call_id = 'L-4';
SELECT (to_regclass('pg_temp.pmhc_changed_calls') IS NULL) || ' ' || (to_regclass('pg_temp.pmhc_changed_rows') IS NOT NULL);
SQL
)" "true true"

echo "live_copy: $checks checks passed"
