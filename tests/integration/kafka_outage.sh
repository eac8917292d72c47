#!/usr/bin/env bash
# The Kafka broker goes down mid-stream and comes back: pmhcd rides it out
# (librdkafka reconnects; nothing is committed that is not durable), and every
# call is stored exactly once and gets its recommendation. The one broker of
# the cluster is stopped for real (kafka.sh down: SIGTERM, a clean shutdown)
# and started again on the same port and data (kafka.sh up), so pmhcd meets
# refused connections, then a broker that reloads its logs and the consumer
# group's offsets from disk.
source "$(dirname "$0")/lib.sh"
: "${PMHC_KAFKA_SH:?}" "${PMHC_KAFKA_DIR:?}"

N=${PMHC_KOUTAGE_CALLS:-6000}
DOWN=${PMHC_KOUTAGE_SECONDS:-6}
write_config
start_daemon
gen_calls "$N" Q > "$PMHC_TEST_DIR/calls.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate 600 "$PMHC_TEST_DIR/calls.jsonl" 2>"$PMHC_TEST_DIR/produce.log" &
producer=$!
sleep 3
"$PMHC_KAFKA_SH" down "$PMHC_KAFKA_DIR" 1 || fail "kafka.sh down failed"
echo "broker down with $(sql 'SELECT count(*) FROM pmhc.calls') calls stored"
sleep "$DOWN"
"$PMHC_KAFKA_SH" up "$PMHC_KAFKA_DIR" 1 || fail "kafka.sh up failed"
echo "broker up after ${DOWN} s"
wait "$producer" || fail "pmhc-produce failed: $(cat "$PMHC_TEST_DIR/produce.log")"
wait_sql "SELECT count(*) FROM pmhc.calls" "$N" 120
expect_eq "every call exactly once" "$(sql "SELECT count(*) || ' ' || count(DISTINCT call_id) FROM pmhc.decisions")" "$N $N"
kill -0 "$DAEMON_PID" || fail "pmhcd died during the broker outage"
# Read until the topic is idle: a replay published again would show as an extra line.
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning --idle-ms 5000 > "$PMHC_TEST_DIR/recs.jsonl" || true
expect_eq "every call got a recommendation" "$(jq -r .call_id "$PMHC_TEST_DIR/recs.jsonl" | sort -u | wc -l)" "$N"
expect_eq "calls replayed after the rebalance were not published again" "$(wc -l < "$PMHC_TEST_DIR/recs.jsonl")" "$N"
stop_daemon
replayed=$(grep -o 'msg="stopped".* stale=[0-9]*' "$PMHC_TEST_DIR/pmhcd.log" | grep -o 'stale=[0-9]*' | cut -d= -f2)
echo "replayed calls recognised in memory and skipped: $replayed"
echo "kafka_outage: $checks checks passed (broker down ${DOWN} s mid-stream of $N calls)"
