#!/usr/bin/env bash
# Broker faults on a real three-broker cluster (replication factor 3,
# min.insync.replicas 2), while calls stream through pmhcd:
#   1. SIGKILL the leader of cad.calls partition 0; the test asserts the
#      leadership really moved, then brings the broker back;
#   2. SIGKILL the broker that coordinates pmhcd's consumer group, likewise;
#   3. stop two of the three brokers for PMHC_FAULT_QUORUM_DOWN seconds (60):
#      below min.insync.replicas and the controller quorum, so every producer
#      must stall; then bring them back.
# Afterwards: every call is stored, every call got its recommendation, and this
# one pmhcd process published no (call, revision) twice.
source "$(dirname "$0")/lib.sh"
: "${PMHC_KAFKA_DIR:?needs the real cluster: with-servers.sh --brokers 3}" "${PMHC_KAFKA_SH:?}"

N=${PMHC_FAULT_CALLS:-40000}
RATE=${PMHC_FAULT_RATE:-400}
DOWN=${PMHC_FAULT_QUORUM_DOWN:-60}
ks() { "$PMHC_KAFKA_SH" "$1" "$PMHC_KAFKA_DIR" "${@:2}"; }

write_config
start_daemon
# Read every recommendation from the start, whatever happens to the brokers.
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning --meta >"$PMHC_TEST_DIR/recs.jsonl" 2>"$PMHC_TEST_DIR/consume.log" &
consumer=$!
gen_calls "$N" F > "$PMHC_TEST_DIR/calls.jsonl"
# The CAD side as a careful producer: every call acknowledged by the in-sync
# replicas, in order, retried for up to ten minutes. Not idempotent: after these
# broker kills librdkafka 2.0.2's idempotent producer can meet a "rewound sequence
# number" that it treats as fatal, and the stream would end (seen in 1 run of 6).
# A retry may then duplicate a call; pmhcd takes a duplicate as a stale revision.
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate "$RATE" -X enable.idempotence=false -X acks=all \
  -X max.in.flight.requests.per.connection=1 -X message.timeout.ms=600000 \
  "$PMHC_TEST_DIR/calls.jsonl" 2>"$PMHC_TEST_DIR/produce.log" &
producer=$!

# On failure: is the stream still running, and what did the producer say?
diagnose() {
  if kill -0 "$producer" 2>/dev/null; then echo "--- pmhc-produce is still running"; else echo "--- pmhc-produce has exited"; fi
  echo "--- last lines of produce.log:"
  tail -n 20 "$PMHC_TEST_DIR/produce.log"
}

# --- 1. the partition leader --------------------------------------------------
until_stored $((N / 40))
leader=$(ks leader cad.calls 0)
[ -n "$leader" ] || fail "no leader for cad.calls/0"
ks kill "$leader"
echo "SIGKILL broker $leader, leader of cad.calls/0, with $(sql 'SELECT count(*) FROM pmhc.calls') calls stored"
moved=
for _ in $(seq 1 300); do
  moved=$(ks leader cad.calls 0 2>/dev/null || true)
  [ -n "$moved" ] && [ "$moved" != "$leader" ] && break
  sleep 0.1
done
[ -n "$moved" ] && [ "$moved" != "$leader" ] || fail "leadership of cad.calls/0 did not move off broker $leader (got '$moved')"
ok "leadership of cad.calls/0 moved from broker $leader to broker $moved"
until_stored $((N / 15))
ks up "$leader"

# --- 2. the group coordinator ---------------------------------------------------
until_stored $((N / 8))
coord=$(ks coordinator pmhcd-test)
[ -n "$coord" ] || fail "no coordinator for group pmhcd-test"
ks kill "$coord"
echo "SIGKILL broker $coord, coordinator of pmhcd-test, with $(sql 'SELECT count(*) FROM pmhc.calls') calls stored"
newcoord=
for _ in $(seq 1 300); do
  newcoord=$(ks coordinator pmhcd-test 2>/dev/null || true)
  [ -n "$newcoord" ] && [ "$newcoord" != "$coord" ] && break
  sleep 0.2
done
[ -n "$newcoord" ] && [ "$newcoord" != "$coord" ] || fail "the coordinator did not move off broker $coord (got '$newcoord')"
ok "the group's coordinator moved from broker $coord to broker $newcoord"
until_stored $((N / 5))
ks up "$coord"

# --- 3. two of three brokers down: below min.insync.replicas --------------------
until_stored $((N / 4))
# The stream must still be running: the outage is to stall producers mid-stream.
kill -0 "$producer" 2>/dev/null || fail "the stream ended before the outage: lower PMHC_FAULT_RATE"
a=1 b=2
ks down "$a"
ks down "$b"
at_down=$(sql "SELECT count(*) FROM pmhc.calls")
echo "brokers $a and $b down for ${DOWN} s with $at_down calls stored"
sleep "$DOWN"
during=$(sql "SELECT count(*) FROM pmhc.calls")
ks up "$a"
ks up "$b"
echo "brokers back; $((during - at_down)) calls were stored while the cluster could not take writes"
# Below min.insync.replicas nothing produced can be committed, so pmhcd reads nothing
# new: what it stores meanwhile is at most what it had already fetched.
[ $((during - at_down)) -le "$RATE" ] ||
  fail "$((during - at_down)) calls stored with 2 of 3 brokers down: producing did not stall"
ok "producing stalled while 2 of 3 brokers were down ($((during - at_down)) calls stored meanwhile)"

wait "$producer" || fail "pmhc-produce failed: $(tail -5 "$PMHC_TEST_DIR/produce.log")"
wait_sql "SELECT count(*) FROM pmhc.calls" "$N" 300
expect_eq "no call missing" \
  "$(sql "SELECT count(*) FROM generate_series(0, $N - 1) i
          WHERE NOT EXISTS (SELECT 1 FROM pmhc.calls WHERE call_id = 'F-' || lpad(i::text, 6, '0'))")" 0
expect_eq "one decision per call" "$(sql "SELECT count(DISTINCT call_id) FROM pmhc.decisions")" "$N"
until_recommended "$N" "$PMHC_TEST_DIR/recs.jsonl"
expect_eq "every call got a recommendation" "$(jq -r .call_id "$PMHC_TEST_DIR/recs.jsonl" | sort -u | wc -l)" "$N"
# Published twice means two messages on the topic (two offsets) for one (call,
# revision); the reader meeting one message twice after a leader change is not.
jq -r '[.call_id, .revision, ._partition, ._offset] | @tsv' "$PMHC_TEST_DIR/recs.jsonl" | sort -u >"$PMHC_TEST_DIR/recs.tsv"
twice=$(awk '{ n[$1 " " $2]++ } END { for (k in n) if (n[k] > 1) d++; print d + 0 }' "$PMHC_TEST_DIR/recs.tsv")
if [ "$twice" -gt 0 ]; then
  echo "(call, revision) on more than one offset, and every read of them:"
  awk '{ n[$1 " " $2]++; l[$1 " " $2] = l[$1 " " $2] "\n  " $0 } END { for (k in n) if (n[k] > 1) printf "%s", l[k] }' \
    "$PMHC_TEST_DIR/recs.tsv"
  echo
fi
expect_eq "no (call, revision) published twice by this one process" "$twice" 0
echo "messages the reader met more than once: $(jq -r '[._partition, ._offset] | @tsv' "$PMHC_TEST_DIR/recs.jsonl" | sort | uniq -d | wc -l)"
kill "$consumer" 2>/dev/null || true
stop_daemon
echo "cluster_faults: $checks checks passed ($N calls; leader and coordinator killed; 2 of 3 brokers down ${DOWN} s)"
