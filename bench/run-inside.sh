#!/usr/bin/env bash
# Stages 1-4 of bench/run.sh, inside with-servers.sh.  run-inside.sh BUILD CALLS LIVE_CALLS
set -euo pipefail
build=$1
calls=$2
live_calls=$3
export PMHCD=$build/daemon/pmhcd PMHC_PRODUCE=$build/adapters/pmhc-produce PMHC_CONSUME=$build/adapters/pmhc-consume
source "$(dirname "$0")/../tests/integration/lib.sh"
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / ((b - a) / 1e9) }'; }
# Peak resident memory of a running process, sampled until it exits.
watch_rss() {
  local pid=$1 peak=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$peak" ] && peak=$v
    sleep 0.2
  done
  echo "$peak"
}
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(psql "$PMHC_PG_CONNINFO" -XAtc 'SHOW server_version') PostgreSQL, Apache Kafka $(ls "${PMHC_KAFKA_CACHE:?}"/lib/kafka_2.13-*.jar | sed 's/.*kafka_2.13-\(.*\)\.jar/\1/') (1 broker)"

# 1. History.
t0=$(now)
"$build/tests/support/pmhc-gen-history" --calls "$calls" --seed 1 --jsonl "$PMHC_TEST_DIR/history.jsonl"
lines=$(wc -l < "$PMHC_TEST_DIR/history.jsonl")
t1=$(now)
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --history cad.history "$PMHC_TEST_DIR/history.jsonl" 2>/dev/null
t2=$(now)
echo "1. history: $calls calls + $((lines - calls)) dispositions generated in $(secs "$t0" "$t1") s, produced to cad.history in $(secs "$t1" "$t2") s"

# 2. Backfill.
# A center's cluster has its consumer offsets topic already; the first group on a
# fresh broker makes it, which kept the backfill waiting for its partitions about
# a second. Made here before the clock starts (a lookup of the group's coordinator).
"$build/tests/support/pmhc-kafka-coordinator" -b "$PMHC_BROKERS" pmhcd-test-backfill >/dev/null
write_config
sed -i 's/"fetch.wait.max.ms=10"/"fetch.wait.max.ms=100"/' "$PMHC_TEST_DIR/pmhcd.conf"
t3=$(now)
"$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2>"$PMHC_TEST_DIR/backfill.log" &
bf=$!
rss=$(watch_rss "$bf")
wait "$bf" || { tail "$PMHC_TEST_DIR/backfill.log" >&2; fail "backfill failed"; }
t4=$(now)
stored=$(sql "SELECT count(*) FROM pmhc.calls")
[ "$stored" -eq "$calls" ] || fail "backfill stored $stored of $calls calls"
backfill_rate=$(rate "$calls" "$t3" "$t4")
echo "2. backfill: $calls calls (+ decisions and dispositions) in $(secs "$t3" "$t4") s = $backfill_rate calls/s; pmhcd peak RSS $((rss / 1024)) MiB"

# 3. The ceiling: plain COPY of the same rows into copies of the same tables.
dump=$PMHC_TEST_DIR/pg
sql "CREATE SCHEMA ceiling;
     CREATE TABLE ceiling.calls (LIKE pmhc.calls INCLUDING ALL);
     CREATE TABLE ceiling.decisions (LIKE pmhc.decisions INCLUDING ALL);
     CREATE TABLE ceiling.dispositions (LIKE pmhc.dispositions INCLUDING ALL);
     COPY pmhc.calls TO '$dump/calls.copy'; COPY pmhc.decisions TO '$dump/decisions.copy';
     COPY pmhc.dispositions TO '$dump/dispositions.copy'"
t5=$(now)
sql "COPY ceiling.calls FROM '$dump/calls.copy'; COPY ceiling.decisions FROM '$dump/decisions.copy';
     COPY ceiling.dispositions FROM '$dump/dispositions.copy'"
t6=$(now)
copy_rate=$(rate "$calls" "$t5" "$t6")
echo "3. ceiling: plain COPY of the same calls, decisions and dispositions in $(secs "$t5" "$t6") s = $copy_rate calls/s"
echo "   backfill reaches $(awk -v a="$backfill_rate" -v b="$copy_rate" 'BEGIN { printf "%.0f%%", 100 * a / b }') of the COPY ceiling"

# 4. Live path: calls as fast as pmhcd takes them.
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-units.jsonl" 2>/dev/null
sed -i 's/"fetch.wait.max.ms=100"/"fetch.wait.max.ms=1"/' "$PMHC_TEST_DIR/pmhcd.conf"
start_daemon
gen_calls "$live_calls" LIVE > "$PMHC_TEST_DIR/live.jsonl"
t7=$(now)
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/live.jsonl" 2>/dev/null &
"$PMHC_CONSUME" -b "$PMHC_BROKERS" -c "$live_calls" --idle-ms 120000 > /dev/null 2>&1 &
consumer=$!
wait_sql "SELECT count(*) FROM pmhc.calls WHERE psap_id = 'LOAD'" "$live_calls" 600
t8=$(now)
wait "$consumer" || true
t9=$(now)
echo "4. live path: $live_calls calls as fast as pmhcd takes them: stored in $(secs "$t7" "$t8") s = $(rate "$live_calls" "$t7" "$t8") calls/s; all recommendations consumed after $(secs "$t7" "$t9") s"
sleep 1	# pmhcd hands the backlog's memory back once it is written
echo "   pmhcd RSS once the backlog is written: $(awk '/VmRSS/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$DAEMON_PID/status"); peak while it was held: $(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$DAEMON_PID/status")"
# The same calls revised once: a call's first revision goes straight in by COPY, a
# later one is merged, which costs the server more (docs/benchmarks.md).
sed 's/"revision":1,/"revision":2,/' "$PMHC_TEST_DIR/live.jsonl" > "$PMHC_TEST_DIR/revised.jsonl"
t10=$(now)
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/revised.jsonl" 2>/dev/null &
producer=$!
wait_sql "SELECT count(*) FROM pmhc.calls WHERE psap_id = 'LOAD' AND revision = 2" "$live_calls" 600
t11=$(now)
wait "$producer" || fail "producing the revisions failed"
echo "   then each of them revised once (merged, not copied): stored in $(secs "$t10" "$t11") s = $(rate "$live_calls" "$t10" "$t11") revisions/s"

stop_daemon
