#!/usr/bin/env bash
# The Kafka brokers go down mid-stream and come back: pmhcd rides it out
# (librdkafka reconnects; nothing is committed that is not durable), and every
# call is stored exactly once and gets its recommendation.
source "$(dirname "$0")/lib.sh"
: "${PMHC_MOCK_KAFKA_PID:?}"

N=${PMHC_KOUTAGE_CALLS:-6000}
DOWN=${PMHC_KOUTAGE_SECONDS:-6}
write_config
start_daemon
gen_calls "$N" Q > "$PMHC_TEST_DIR/calls.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate 600 "$PMHC_TEST_DIR/calls.jsonl" 2>"$PMHC_TEST_DIR/produce.log" &
producer=$!
sleep 3
kill -USR1 "$PMHC_MOCK_KAFKA_PID"
echo "brokers down with $(sql 'SELECT count(*) FROM pmhc.calls') calls stored"
sleep "$DOWN"
kill -USR2 "$PMHC_MOCK_KAFKA_PID"
echo "brokers up after ${DOWN} s"
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
echo "kafka_outage: $checks checks passed (brokers down ${DOWN} s mid-stream of $N calls)"
