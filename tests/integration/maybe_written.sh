#!/usr/bin/env bash
# A recommendation the broker wrote but never confirmed is not published twice.
#
# On the three-broker cluster, pmhcd reads mw.calls and publishes to mw.recs,
# both led by one broker (pmhc-kafka-admin --leader). With the other two
# stopped (SIGSTOP), that leader writes each recommendation to its log and
# waits for them to copy it before it confirms (acks=all): the recommendations
# are written but unconfirmed. The producer then fails fatally
# (PMHC_TEST_PRODUCER_FATAL_AFTER, as a real broker cannot be made to give such
# an error) and is replaced; what it had in flight comes back "possibly
# persisted". The followers resume and the leader's writes are committed.
# Sent again blind, those recommendations would be on the topic twice; pmhcd
# must look for them first, find them and not send them again. This test fails
# on pmhcd before recheck.c: each in flight at the fatal error went twice.
source "$(dirname "$0")/lib.sh"
: "${PMHC_KAFKA_DIR:?needs the real cluster: with-servers.sh --brokers 3}" "${PMHC_KAFKA_SH:?}" "${PMHC_KAFKA_ADMIN:?}"

FIRST=30 LATER=20
LEADER=1 FOLLOWERS="2 3"
broker_pid() { cat "$PMHC_KAFKA_DIR/broker-$1/pid"; }
# Whatever happens, no broker stays stopped for with-servers.sh to wait on.
resume_followers() {
  local n
  for n in $FOLLOWERS; do kill -CONT "$(broker_pid "$n")" 2>/dev/null || true; done
}
trap 'resume_followers; cleanup_children' EXIT

"$PMHC_KAFKA_ADMIN" -b "$PMHC_BROKERS" -r 3 --leader "$LEADER" mw.calls=1 mw.recs=1 >/dev/null ||
  fail "cannot create mw.calls and mw.recs led by broker $LEADER"
for t in mw.calls mw.recs; do
  expect_eq "$t is led by broker $LEADER" "$("$PMHC_KAFKA_SH" leader "$PMHC_KAFKA_DIR" "$t" 0)" "$LEADER"
done

write_config 'topics = { calls = "mw.calls"; recommendations = "mw.recs"; };'
# Stopped brokers may coordinate the group: a session that outlasts the stop
# keeps the partitions where they are.
sed -i 's/"session.timeout.ms=6000"/"session.timeout.ms=30000"/' "$PMHC_TEST_DIR/pmhcd.conf"
use_http
# The fatal error comes 1.5 s after the last recommendation of the second
# burst, when all of that burst is on the wire, written by the leader, unconfirmed.
PMHC_TEST_PRODUCER_FATAL_AFTER="$((FIRST + LATER))+1500" start_daemon

recs() {
  timeout 60 "$PMHC_CONSUME" -b "$PMHC_BROKERS" -t mw.recs --from-beginning --idle-ms 2000 --meta 2>/dev/null
}
gen_calls "$FIRST" M | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" --calls-topic mw.calls 2>/dev/null
for _ in $(seq 1 60); do # each look waits 2 s for more
  [ "$(recs | jq -r .call_id | sort -u | wc -l)" -ge "$FIRST" ] && break
done
expect_eq "the first $FIRST calls recommended" "$(recs | jq -r .call_id | sort -u | wc -l)" "$FIRST"

# pmhcd paused while the second burst is committed (all brokers up), then the
# followers stopped: pmhcd reads the burst from the leader, and what it
# publishes can be written but not confirmed.
kill -STOP "$DAEMON_PID"
gen_calls $((FIRST + LATER)) M | tail -n "$LATER" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" --calls-topic mw.calls 2>/dev/null
for n in $FOLLOWERS; do kill -STOP "$(broker_pid "$n")"; done
kill -CONT "$DAEMON_PID"
wait_log 'Kafka producer failed fatally; replacing it' 30
ok "the producer failed fatally with the second burst unconfirmed"
# The followers resume once what the dead producer had in flight has come back.
wait_log 'recommendation (not confirmed|not delivered)' 30
resume_followers
echo "followers resumed"

for _ in $(seq 1 60); do
  [ "$(recs | jq -r .call_id | sort -u | wc -l)" -ge $((FIRST + LATER)) ] && break
done
expect_eq "every call got its recommendation" "$(recs | jq -r .call_id | sort -u | wc -l)" $((FIRST + LATER))
# Nothing more is published once nothing is held: the looks answered, the resends queued.
for _ in $(seq 1 600); do
  scrape && [ "$(metric pmhc_undelivered_messages)" = 0 ] && break
  sleep 0.1
done
expect_eq "nothing held for another try" "$(metric pmhc_undelivered_messages)" 0
stop_daemon
grep -q 'msg="stopped".* undelivered=0 stalled=0 ' "$PMHC_TEST_DIR/pmhcd.log" ||
  fail "pmhcd stopped with messages still held"
ok "nothing was left held at the stop"

recs | jq -r '[.call_id, .revision, ._offset] | @tsv' | sort -u >"$PMHC_TEST_DIR/recs.tsv"
twice=$(awk '{ n[$1 " " $2]++ } END { for (k in n) if (n[k] > 1) d++; print d + 0 }' "$PMHC_TEST_DIR/recs.tsv")
[ "$twice" -eq 0 ] || awk '{ n[$1 " " $2]++; l[$1 " " $2] = l[$1 " " $2] "\n  " $0 }
  END { for (k in n) if (n[k] > 1) printf "%s", l[k]; print "" }' "$PMHC_TEST_DIR/recs.tsv"
expect_eq "no (call, revision) published twice" "$twice" 0
maybe=$(grep -c 'the broker may have written it; looking for it on the topic' "$PMHC_TEST_DIR/pmhcd.log" || true)
found=$(grep -c 'recommendation found on the topic after all' "$PMHC_TEST_DIR/pmhcd.log" || true)
echo "recommendations possibly written: $maybe; found on the topic: $found"
[ "$maybe" -gt 0 ] || fail "no recommendation came back possibly written: the fault was not made"
ok "$maybe recommendations came back possibly written"
[ "$found" -gt 0 ] || fail "none was found on the topic, though the leader had written them"
ok "$found of them found on the topic, not sent again"
expect_eq "pmhc_recommendations_found_after_failure_total counts them" \
  "$(metric pmhc_recommendations_found_after_failure_total)" "$found"

echo "maybe_written: $checks checks passed"
