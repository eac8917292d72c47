#!/usr/bin/env bash
# SIGTERM while the Kafka broker is down: pmhcd exits 0 within
# limits.shutdown_timeout (plus a second for the process to go), although
# its consumer cannot leave the group nor commit, and its producer cannot
# flush. What it stored but could not commit is replayed after a restart and
# recognised: every call stored exactly once, none lost.
source "$(dirname "$0")/lib.sh"
: "${PMHC_KAFKA_SH:?}" "${PMHC_KAFKA_DIR:?}"

TIMEOUT=4
N=300
write_config
sed -i "s/shutdown_timeout = 10;/shutdown_timeout = $TIMEOUT;/" "$PMHC_TEST_DIR/pmhcd.conf"
start_daemon
gen_calls "$N" K > "$PMHC_TEST_DIR/calls.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/calls.jsonl" 2>/dev/null
until_stored "$N" 60

"$PMHC_KAFKA_SH" down "$PMHC_KAFKA_DIR" 1 || fail "kafka.sh down failed"
stop_within "$TIMEOUT" "with the broker down"

"$PMHC_KAFKA_SH" up "$PMHC_KAFKA_DIR" 1 || fail "kafka.sh up failed"
mv "$PMHC_TEST_DIR/pmhcd.log" "$PMHC_TEST_DIR/pmhcd.1.log"
start_daemon
gen_calls 10 L | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
until_stored $((N + 10)) 60
expect_eq "every call stored exactly once" \
  "$(sql "SELECT count(*) || ' ' || count(DISTINCT call_id) FROM pmhc.decisions")" "$((N + 10)) $((N + 10))"
stop_daemon
echo "kafka_shutdown: $checks checks passed (SIGTERM with the broker down: $TOOK_MS ms, limit ${TIMEOUT} s)"
