#!/usr/bin/env bash
# The live path under load: pmhcd with the sample roster, calls at a steady rate
# through the real Kafka protocol, latency from produce to recommendation
# consumed. Runs inside tests/support/with-servers.sh (see bench/run.sh).
#   live.sh BUILD_DIR [RATE [SECONDS]]
set -euo pipefail
build=$1
rate=${2:-1000}
seconds=${3:-10}
export PMHCD=$build/daemon/pmhcd PMHC_PRODUCE=$build/adapters/pmhc-produce PMHC_CONSUME=$build/adapters/pmhc-consume
source "$(dirname "$0")/../tests/integration/lib.sh"

"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-units.jsonl" 2>/dev/null
# fetch.wait.max.ms=1: the mock answers an empty fetch only after it (NOTES.md).
write_config
sed -i "s/batch_max_ms = 20/batch_max_ms = ${PMHC_BENCH_BATCH_MS:-20}/" "$PMHC_TEST_DIR/pmhcd.conf"
sed -i 's/"fetch.wait.max.ms=10"/"fetch.wait.max.ms=1"/' "$PMHC_TEST_DIR/pmhcd.conf"
start_daemon
"$build/bench/live_latency" -b "$PMHC_BROKERS" --rate "$rate" --seconds "$seconds" --warmup 2
pid=$DAEMON_PID
echo "  pmhcd RSS after the run: $(awk '/VmRSS/ { print $2 " kB" }' /proc/$pid/status)"
stop_daemon
