#!/usr/bin/env bash
# SIGTERM during a PostgreSQL outage: pmhcd exits 0 within
# limits.shutdown_timeout (plus a second for the process to go), not after
# twice the timeout as when the revoke at the consumer's close drained again.
# What it could not store keeps its offsets uncommitted: a restart with the
# server back stores every call, none lost.
source "$(dirname "$0")/lib.sh"

TIMEOUT=4
N1=100
N2=300
write_config
sed -i "s/shutdown_timeout = 10;/shutdown_timeout = $TIMEOUT;/" "$PMHC_TEST_DIR/pmhcd.conf"
start_daemon
# Every recommendation, to know when the calls are decided (without /metrics: the test runs on older pmhcd too).
"$PMHC_CONSUME" -b "$PMHC_BROKERS" -c $((N1 + N2)) --idle-ms 60000 > "$PMHC_TEST_DIR/recs.jsonl" 2>/dev/null &
{ gen_calls "$N1" A; gen_calls "$N2" B; } > "$PMHC_TEST_DIR/calls.jsonl"
head -n "$N1" "$PMHC_TEST_DIR/calls.jsonl" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
until_stored "$N1" 60

pg_down
tail -n "$N2" "$PMHC_TEST_DIR/calls.jsonl" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
# Decided (and published) but not stored: the writer holds all of them.
until_recommended $((N1 + N2)) "$PMHC_TEST_DIR/recs.jsonl" 60
expect_eq "calls decided while PostgreSQL is down" "$(jq -r .call_id "$PMHC_TEST_DIR/recs.jsonl" | sort -u | wc -l)" $((N1 + N2))
grep -q 'PostgreSQL write failed; decisions continue from memory' "$PMHC_TEST_DIR/pmhcd.log" ||
  fail "the writer never met the outage"
ok "the writer holds them, retrying"

stop_within "$TIMEOUT" "during the outage"
grep -q 'did not take the last batches in time; their offsets stay uncommitted' "$PMHC_TEST_DIR/pmhcd.log" ||
  fail "the stop did not say what stays uncommitted"

# Nothing unstored was committed: with the server back, a new process replays and stores it all.
pg_up
mv "$PMHC_TEST_DIR/pmhcd.log" "$PMHC_TEST_DIR/pmhcd.1.log"
start_daemon
until_stored $((N1 + N2)) 60
expect_eq "every call produced is stored" \
  "$(sql "SELECT call_id FROM pmhc.calls ORDER BY 1" | md5sum)" "$(jq -r .call_id "$PMHC_TEST_DIR/calls.jsonl" | sort | md5sum)"
expect_eq "one decision per call" "$(sql "SELECT count(*) FROM pmhc.decisions")" $((N1 + N2))
expect_eq "nothing rejected" "$(sql "SELECT count(*) FROM pmhc.rejected_events")" 0
stop_daemon
echo "shutdown: $checks checks passed (SIGTERM in a PostgreSQL outage: $TOOK_MS ms, limit ${TIMEOUT} s)"
