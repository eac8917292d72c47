#!/usr/bin/env bash
# A Kafka outage longer than message.timeout.ms while calls are being decided:
# every recommendation must still reach dispatch once the brokers are back.
# pmhcd publishes to a recommendations topic that needs all three replicas in
# sync (min.insync.replicas=3), so with one broker stopped, calls are still read
# from cad.calls (min.insync.replicas=2) and decided, but no recommendation can
# be written; the broker stays down for three times message.timeout.ms (5 s
# here), so librdkafka gives up on the recommendations queued meanwhile. A
# recommendation that could not be delivered must hold its input's offset and be
# published again (or escalate), not be counted and dropped.
source "$(dirname "$0")/lib.sh"
: "${PMHC_KAFKA_DIR:?needs the real cluster: with-servers.sh --brokers 3}" "${PMHC_KAFKA_SH:?}" "${PMHC_KAFKA_ADMIN:?}"

N=${PMHC_LONG_OUTAGE_CALLS:-9000}
RATE=${PMHC_LONG_OUTAGE_RATE:-200}
TIMEOUT_MS=${PMHC_LONG_OUTAGE_TIMEOUT_MS:-5000}
DOWN_MS=${PMHC_LONG_OUTAGE_DOWN_MS:-$((TIMEOUT_MS * 3))}
TOPIC=pmhc.recs.strict
ks() { "$PMHC_KAFKA_SH" "$1" "$PMHC_KAFKA_DIR" "${@:2}"; }

"$PMHC_KAFKA_ADMIN" -b "$PMHC_BROKERS" -r 3 -c min.insync.replicas=3 -w 60 "$TOPIC=6" >/dev/null \
  || fail "cannot create $TOPIC"
for part in 0 1 2 3 4 5; do
  until=$((SECONDS + 60))
  until [ -n "$(ks leader "$TOPIC" "$part" 2>/dev/null || true)" ]; do
    [ "$SECONDS" -lt "$until" ] || fail "$TOPIC/$part has no leader after 60 s"
    sleep 0.2
  done
done
write_config "topics = { recommendations = \"$TOPIC\"; };"
sed -i "s/\"session.timeout.ms=6000\"/\"session.timeout.ms=6000\", \"message.timeout.ms=$TIMEOUT_MS\"/" "$PMHC_TEST_DIR/pmhcd.conf"
start_daemon
RECS=$PMHC_TEST_DIR/recs.jsonl
"$PMHC_CONSUME" -b "$PMHC_BROKERS" -t "$TOPIC" --from-beginning --meta > "$RECS" 2>"$PMHC_TEST_DIR/consume.log" &
reader=$!
gen_calls "$N" L > "$PMHC_TEST_DIR/calls.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate "$RATE" -X enable.idempotence=true -X message.timeout.ms=600000 \
  "$PMHC_TEST_DIR/calls.jsonl" 2>"$PMHC_TEST_DIR/produce.log" &
producer=$!

until_stored $((RATE * 3))
# Not the group's coordinator: the consumer should keep reading through the outage.
coord=$(ks coordinator pmhcd-test)
victim=1
[ "$victim" = "$coord" ] && victim=2
ks down "$victim" || fail "kafka.sh down $victim failed"
down_at=$(date +%s%3N)
at_down=$(sql "SELECT count(*) FROM pmhc.calls")
echo "broker $victim down with $at_down calls stored and $(wc -l < "$RECS") recommendations read"
# Down past message.timeout.ms, calls still arriving and being decided.
until=$((SECONDS + 120))
while [ "$SECONDS" -lt "$until" ]; do
  [ $(($(date +%s%3N) - down_at)) -ge "$DOWN_MS" ] && [ "$(sql "SELECT count(*) FROM pmhc.calls")" -gt $((at_down + RATE)) ] && break
  sleep 0.2
done
decided=$(($(sql "SELECT count(*) FROM pmhc.calls") - at_down))
[ "$decided" -gt "$RATE" ] || fail "only $decided calls decided with broker $victim down: the outage did not meet running calls"
kill -0 "$producer" 2>/dev/null || fail "the stream ended during the outage: lower PMHC_LONG_OUTAGE_RATE"
ks up "$victim" || fail "kafka.sh up $victim failed"
ok "broker $victim down for $(($(date +%s%3N) - down_at)) ms (message.timeout.ms $TIMEOUT_MS) while $decided calls were stored"
failed=$(grep -c 'recommendation not delivered' "$PMHC_TEST_DIR/pmhcd.log" || true)
echo "deliveries that failed during the outage (logged): $failed"

wait "$producer" || fail "pmhc-produce failed: $(tail -5 "$PMHC_TEST_DIR/produce.log")"
wait_sql "SELECT count(*) FROM pmhc.calls" "$N" 120
expect_eq "every call exactly once" "$(sql "SELECT count(*) || ' ' || count(DISTINCT call_id) FROM pmhc.decisions")" "$N $N"
kill -0 "$DAEMON_PID" || fail "pmhcd died during the outage"
# Until the reader has N lines (a line count, cheap to poll), for at most 60 s; the exact check follows.
until=$((SECONDS + 60))
while [ "$SECONDS" -lt "$until" ] && [ "$(wc -l < "$RECS")" -lt "$N" ]; do sleep 0.2; done
kill "$reader" 2>/dev/null || true
got=$(jq -r .call_id "$RECS" | sort -u | wc -l)
[ "$got" -eq "$N" ] || fail "$((N - got)) of $N calls never got a recommendation after a Kafka outage of $DOWN_MS ms ($failed deliveries failed and were not retried)"
ok "every call's recommendation delivered once the broker was back"
# A send that timed out may still have landed: a second copy is allowed (at least once), and counted.
twice=$(jq -r '[.call_id, .revision] | @tsv' "$RECS" | sort | uniq -d | wc -l)
echo "recommendations on the topic twice: $twice"
stop_daemon
echo "kafka_long_outage: $checks checks passed (one of three brokers down $DOWN_MS ms, $N calls)"
