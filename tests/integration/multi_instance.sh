#!/usr/bin/env bash
# Several pmhcd instances share the calls of one consumer group on a real
# three-broker cluster: 50,000 calls at 1,000/s; two instances, then a third
# joins; one is SIGKILLed mid-stream and another restarted. Nothing is lost:
# every call is stored and recommended; no process publishes a (call, revision)
# twice; and the partitions really moved between the processes (asserted from
# their own "partitions assigned" log lines).
source "$(dirname "$0")/lib.sh"

N=${PMHC_MULTI_CALLS:-50000}
RATE=${PMHC_MULTI_RATE:-1000}
write_config
# A killed member holds its partitions until its session ends: keep that short.
sed -i 's/"session.timeout.ms=6000"/"session.timeout.ms=3000", "heartbeat.interval.ms=500"/' "$PMHC_TEST_DIR/pmhcd.conf"

declare -A PID
# launch NAME: one more instance, logging to NAME.log.
launch() {
  "$PMHCD" --config "$PMHC_TEST_DIR/pmhcd.conf" >>"$PMHC_TEST_DIR/$1.log" 2>&1 &
  PID[$1]=$!
}
# owns NAME: wait until NAME's newest assignment is not empty.
owns() {
  for _ in $(seq 1 600); do
    grep -h 'partitions assigned' "$PMHC_TEST_DIR/$1.log" 2>/dev/null | tail -1 | grep -q 'count=[1-9]' && return 0
    kill -0 "${PID[$1]}" 2>/dev/null || fail "instance $1 exited"
    sleep 0.1
  done
  fail "instance $1 got no partitions within 60 s"
}
stored() { sql "SELECT count(*) FROM pmhc.calls"; }

"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning --meta > "$PMHC_TEST_DIR/recs.jsonl" 2>/dev/null &
reader=$!
launch a
launch b
owns a
owns b
gen_calls "$N" M > "$PMHC_TEST_DIR/calls.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate "$RATE" -X enable.idempotence=true "$PMHC_TEST_DIR/calls.jsonl" \
  2>"$PMHC_TEST_DIR/produce.log" &
producer=$!

until_stored $((N / 5))
launch c
owns c
echo "a third instance joined with $(stored) calls stored"
until_stored $((N * 2 / 5))
kill -KILL "${PID[b]}"
wait "${PID[b]}" 2>/dev/null || true
echo "instance b SIGKILLed with $(stored) calls stored"
until_stored $((N * 3 / 5))
kill -TERM "${PID[a]}"
wait "${PID[a]}" || fail "instance a exited $? after SIGTERM"
launch a
echo "instance a restarted with $(stored) calls stored"
kill -0 "$producer" 2>/dev/null || echo "note: the stream ended before the restart"
wait "$producer" || fail "pmhc-produce failed: $(tail -5 "$PMHC_TEST_DIR/produce.log")"

wait_sql "SELECT count(*) FROM pmhc.calls" "$N" 300
expect_eq "no call missing" \
  "$(sql "SELECT count(*) FROM generate_series(0, $N - 1) i
          WHERE NOT EXISTS (SELECT 1 FROM pmhc.calls WHERE call_id = 'M-' || lpad(i::text, 6, '0'))")" 0
expect_eq "one decision per call" "$(sql "SELECT count(DISTINCT call_id) FROM pmhc.decisions")" "$N"
until_recommended "$N" "$PMHC_TEST_DIR/recs.jsonl"
kill "$reader" 2>/dev/null || true
expect_eq "every call got a recommendation" "$(jq -r .call_id "$PMHC_TEST_DIR/recs.jsonl" | sort -u | wc -l)" "$N"
expect_eq "no process published a (call, revision) twice" \
  "$(jq -r '[._headers["pmhc-instance"], .call_id, .revision] | @tsv' "$PMHC_TEST_DIR/recs.jsonl" | sort | uniq -d | wc -l)" 0
procs=$(jq -r '._headers["pmhc-instance"]' "$PMHC_TEST_DIR/recs.jsonl" | sort -u | wc -l)
[ "$procs" -ge 4 ] || fail "recommendations came from $procs processes, want 4 (a, b, c and a again)"
ok "recommendations came from $procs processes"
again=$(jq -r '[.call_id, .revision] | @tsv' "$PMHC_TEST_DIR/recs.jsonl" | sort | uniq -d | wc -l)
echo "(call, revision) recommended again by a new owner after a rebalance or the kill: $again"

# Which process held each cad.calls partition, from each one's own log.
for name in a b c; do
  grep -h 'partitions assigned' "$PMHC_TEST_DIR/$name.log" | grep -o 'cad\.calls/[0-9]*' | sed "s/\$/ $name/"
done | sort -u > "$PMHC_TEST_DIR/owners.txt"
moved=$(awk '{ n[$1]++ } END { m = 0; for (p in n) if (n[p] > 1) m++; print m }' "$PMHC_TEST_DIR/owners.txt")
[ "$moved" -ge 1 ] || fail "no cad.calls partition was ever owned by two instances: $(tr '\n' ';' < "$PMHC_TEST_DIR/owners.txt")"
ok "$moved cad.calls partitions moved between instances"
for name in b c; do
  grep -q " $name\$" "$PMHC_TEST_DIR/owners.txt" || fail "instance $name never owned a cad.calls partition"
done
ok "each instance owned cad.calls partitions at some point"
for name in a c; do kill -TERM "${PID[$name]}"; done
for name in a c; do wait "${PID[$name]}" || fail "instance $name exited $? after SIGTERM"; done
echo "multi_instance: $checks checks passed ($N calls; 2 then 3 instances, one SIGKILLed, one restarted)"
