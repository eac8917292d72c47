#!/usr/bin/env bash
# The backlog bound: with PostgreSQL stopped, pmhcd decides and publishes from
# memory until limits.backlog_max_events unwritten events are held, then pauses
# its consumer, so an outage cannot grow its memory without end. While paused it
# reads (and publishes) nothing more, though the rest of the calls wait on the
# topic; when PostgreSQL is back it writes the backlog, resumes at half the
# bound, and reads the rest: every call stored once and recommended once.
source "$(dirname "$0")/lib.sh"

N=${PMHC_BACKLOG_CALLS:-6000}
BOUND=${PMHC_BACKLOG_BOUND:-1000}
BATCH=200
write_config
# Small batches, so that the bound is met closely: the backlog passes it by one batch at most.
sed -i "s/^limits = { batch_max_ms = 20; shutdown_timeout = 10; };\$/limits = { batch_max_ms = 20; shutdown_timeout = 10; backlog_max_events = $BOUND; batch_max_events = $BATCH; };/" \
  "$PMHC_TEST_DIR/pmhcd.conf"
grep -q "backlog_max_events = $BOUND;" "$PMHC_TEST_DIR/pmhcd.conf" || fail "the backlog bound is not in the config"
start_daemon
RECS=$PMHC_TEST_DIR/recs.jsonl
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning --meta > "$RECS" 2>/dev/null &
reader=$!
gen_calls "$N" P > "$PMHC_TEST_DIR/calls.jsonl"

pg_down
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/calls.jsonl" 2>"$PMHC_TEST_DIR/produce.log" \
  || fail "pmhc-produce failed: $(cat "$PMHC_TEST_DIR/produce.log")"
echo "PostgreSQL down; $N calls on the topic"
until_logged() { # until_logged PATTERN SECONDS
  local until=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$until" ]; do
    grep -q "$1" "$PMHC_TEST_DIR/pmhcd.log" && return 0
    sleep 0.1
  done
  fail "pmhcd did not log '$1' within $2 s"
}
until_logged 'backlog full; consumption paused' 60
ok "consumption paused at the bound: $(grep -o 'consumption paused.*backlog_events=[0-9]*' "$PMHC_TEST_DIR/pmhcd.log" | grep -o '[0-9]*$' | head -1) events held"

# Paused, pmhcd publishes nothing more: wait until the recommendations have not
# grown for 3 s (unpaused, it would have read all N calls well within that).
last=-1 still=0
until=$((SECONDS + 60))
while [ "$SECONDS" -lt "$until" ] && [ "$still" -lt 30 ]; do
  now=$(wc -l < "$RECS")
  if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0 last=$now; fi
  sleep 0.1
done
[ "$still" -ge 30 ] || fail "recommendations kept growing for 60 s with PostgreSQL down: not paused"
expect_eq "no resume while PostgreSQL is down" "$(grep -c 'consumption resumed' "$PMHC_TEST_DIR/pmhcd.log" || true)" 0
# Read at most: the bound, the batch that passed it, and the batch being filled.
if [ "$last" -ge "$N" ] || [ "$last" -gt $((BOUND + 2 * BATCH)) ]; then
  fail "$last of $N calls recommended while paused at a bound of $BOUND: the consumer did not stop"
fi
ok "while paused: $last of $N calls read and recommended, the rest left on the topic"
kill -0 "$DAEMON_PID" || fail "pmhcd died while paused"

pg_up
echo "PostgreSQL up"
until_logged 'consumption resumed' 60
ok "consumption resumed once the backlog was written"
wait_sql "SELECT count(*) FROM pmhc.calls" "$N" 120
expect_eq "every call exactly once, one decision each" \
  "$(sql "SELECT count(*) || ' ' || count(DISTINCT call_id) FROM pmhc.decisions")" "$N $N"
expect_eq "no call missing" \
  "$(sql "SELECT count(*) FROM generate_series(0, $N - 1) i
          WHERE NOT EXISTS (SELECT 1 FROM pmhc.calls WHERE call_id = 'P-' || lpad(i::text, 6, '0'))")" 0
until_recommended "$N" "$RECS"
kill "$reader" 2>/dev/null || true
expect_eq "every call recommended" "$(jq -r .call_id "$RECS" | sort -u | wc -l)" "$N"
expect_eq "none recommended twice" "$(wc -l < "$RECS")" "$N"
stop_daemon
pauses=$(grep -c 'backlog full; consumption paused' "$PMHC_TEST_DIR/pmhcd.log" || true)
echo "backlog: $checks checks passed ($N calls, bound $BOUND, paused $pauses times)"
