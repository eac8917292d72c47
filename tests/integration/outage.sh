#!/usr/bin/env bash
# PostgreSQL goes away mid-stream: pmhcd keeps deciding and publishing from
# memory, retries with capped backoff, logs it plainly, and catches up when
# the server is back — every call stored exactly once, recommendations
# flowing the whole time.
source "$(dirname "$0")/lib.sh"

N=${PMHC_OUTAGE_CALLS:-12000}
RATE=${PMHC_OUTAGE_RATE:-600}
DOWN=${PMHC_OUTAGE_SECONDS:-8}
write_config
start_daemon
gen_calls "$N" O > "$PMHC_TEST_DIR/calls.jsonl"

# Every recommendation as it arrives, with the time it was published.
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --meta -c "$N" --idle-ms 60000 > "$PMHC_TEST_DIR/recs.jsonl" 2>/dev/null &
consumer=$!
sleep 1
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate "$RATE" "$PMHC_TEST_DIR/calls.jsonl" 2>"$PMHC_TEST_DIR/produce.log" &
producer=$!

sleep 4
down_at=$(date +%s%3N)
pg_down
echo "PostgreSQL stopped with $(grep -c '"call_id"' "$PMHC_TEST_DIR/recs.jsonl") recommendations published"
sleep "$DOWN"
up_at=$(date +%s%3N)
pg_up
echo "PostgreSQL started again after ${DOWN} s"

wait "$producer" || fail "pmhc-produce failed: $(cat "$PMHC_TEST_DIR/produce.log")"
wait_sql "SELECT count(*) FROM pmhc.calls" "$N" 120
expect_eq "every call exactly once" "$(sql "SELECT count(*) || ' ' || count(DISTINCT call_id) FROM pmhc.decisions")" "$N $N"
wait "$consumer" || fail "fewer than $N recommendations published"

# While the database was down, recommendations kept coming (with a second of margin each side).
during=$(jq -r --argjson a "$((down_at + 1000))" --argjson b "$((up_at - 1000))" \
  'select(._timestamp_ms >= $a and ._timestamp_ms <= $b) | .call_id' "$PMHC_TEST_DIR/recs.jsonl" | wc -l)
[ "$during" -gt $(( (DOWN - 2) * RATE / 2 )) ] || fail "only $during recommendations while PostgreSQL was down"
ok "$during recommendations published while PostgreSQL was down for ${DOWN} s"
grep -q 'PostgreSQL write failed; decisions continue from memory' "$PMHC_TEST_DIR/pmhcd.log" || fail "outage not logged"
grep -q 'PostgreSQL back; catching up' "$PMHC_TEST_DIR/pmhcd.log" || fail "recovery not logged"
ok "the outage and the recovery are logged plainly"
# The writer's capped backoff (200 ms doubling): some ten tries in an 8 s outage, not
# one per batch of calls arriving meanwhile (each batch used to cut the wait short).
tries=$(grep -c 'PostgreSQL write failed; will reconnect and retry' "$PMHC_TEST_DIR/pmhcd.log")
[ "$tries" -le $((DOWN * 2 + 5)) ] || fail "$tries write retries in a ${DOWN} s outage: the backoff does not hold"
ok "$tries write retries in a ${DOWN} s outage: the backoff holds"
stop_daemon
echo "outage: $checks checks passed (PostgreSQL down ${DOWN} s mid-stream of $N calls, none lost, none twice)"
