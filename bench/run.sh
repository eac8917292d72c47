#!/usr/bin/env bash
# pmhcd's benchmarks in one run, side by side with the physical limit, on this
# machine (prints figures; asserts nothing):
#   1. a realistic history (default 1,000,000 calls with mixed screening answers,
#      beats and dispositions) generated and produced to cad.history;
#   2. pmhcd --backfill through the real Kafka protocol into PostgreSQL: calls/s
#      and the daemon's peak RSS;
#   3. the ceiling: the same rows loaded with a plain COPY into copies of the
#      same tables, calls/s, and backfill's share of it;
#   4. the live path: calls streamed through pmhcd as fast as it takes them
#      (calls/s to PostgreSQL and to recommendations); the latency from produce
#      to recommendation consumed at a steady 1,000 calls/s, beside its floor
#      measured the same way without pmhcd (two hops through a relay that
#      decides nothing, assigned the calls or, as pmhcd, in a consumer group;
#      and one hop); pmhcd's RSS over a long steady run and,
#      as root with perf, its main thread's malloc calls per call;
#   5. the decision engine alone, ns per call.
#
#   bash bench/run.sh [--calls N] [--live-calls N] [--latency-seconds S]
#                     [--latency-rounds R] [--memory-seconds S]
#   PMHC_BENCH_LATENCY_JVM_OPTS: the broker's JVM options for the latency and
#   memory runs (default -XX:+UseZGC; the history's stages keep SerialGC).
#
# One latency run's p99 moves by half either way from run to run on a shared
# 2-core machine, so the four latency modes run interleaved, R rounds
# (default 3), each on fresh servers, and the medians are printed beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
calls=1000000
live_calls=100000
latency_s=10
latency_rounds=3
memory_s=120
while [ $# -gt 0 ]; do
  case $1 in
    --calls) calls=$2; shift 2 ;;
    --live-calls) live_calls=$2; shift 2 ;;
    --latency-seconds) latency_s=$2; shift 2 ;;
    --latency-rounds) latency_rounds=$2; shift 2 ;;
    --memory-seconds) memory_s=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1 (try --help)" >&2; exit 64 ;;
  esac
done
bash scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
export PMHC_KAFKA_ADMIN=$PWD/build/tests/support/pmhc-kafka-admin
export PMHC_KAFKA_CACHE=$PWD/build/kafka-dist
# with-servers.sh migrates the schema with it as the DBA; pmhcd then runs as a
# plain LOGIN role in pmhc_writer, as in production.
export PMHCD=$PWD/build/daemon/pmhcd
# The broker (tests/support/kafka.sh, one node) at full speed: both JIT tiers
# (the tests stop at the first, which starts quicker) and a heap with room for
# the history's produce batches.
export PMHC_KAFKA_JVM_OPTS=${PMHC_KAFKA_JVM_OPTS:--XX:+UseSerialGC}
export PMHC_KAFKA_HEAP_OPTS=${PMHC_KAFKA_HEAP_OPTS:--Xms1g -Xmx1g}
# 16 partitions for every topic, the history's among them (the mock this ran
# on before held at most 100,000 messages per partition and needed 128 there).
bash tests/support/with-servers.sh --partitions 16 -- \
  bash bench/run-inside.sh "$PWD/build" "$calls" "$live_calls"

# Latency and memory, each on fresh servers: a broker still writing out
# millions of messages, and a PostgreSQL busy with the bulk load behind it,
# would set the tail themselves.
# The first stage's servers leave gigabytes to delete and write back: let the
# disk settle, or the first latency run measures that.
sync
sleep 5
# The broker with a collector that pauses for well under a millisecond. With
# SerialGC its young collections stopped it for 10-16 ms every 1.4 s at 1,000
# calls/s through pmhcd (-Xlog:gc), which set the p99 and the max of every mode:
# about 1% of the messages sat out a pause. Apache Kafka's own G1 settings
# (MaxGCPauseMillis=20) paused 9-18 ms every 3 s. A center tuning its brokers for
# latency would do the same; the tests keep SerialGC, which starts quicker.
latency_jvm=${PMHC_BENCH_LATENCY_JVM_OPTS:--XX:+UseZGC}
echo "   at a steady 1,000 calls/s for $latency_s s after ${PMHC_BENCH_WARMUP:-30} s of warm-up, each on fresh servers"
echo "   (the broker with $latency_jvm), $latency_rounds rounds of the four interleaved:"
rounds=$(mktemp)
for ((r = 1; r <= latency_rounds; r++)); do
  for mode in pmhcd relay relay-group one-hop; do
    PMHC_KAFKA_JVM_OPTS=$latency_jvm \
      bash tests/support/with-servers.sh --partitions 16 -- bash bench/live.sh "$PWD/build" "$mode" 1000 "$latency_s" \
      | sed 's/^/   /' | tee -a "$rounds"
  done
done
# The median of each mode's p50, p99 and max over the rounds.
awk '/^   (through pmhcd|two hops|one hop)/ { mode = $1 == "through" ? "pmhcd" : /consumer group/ ? "relay in a group" : $1 == "two" ? "relay" : "one hop" }
     /produce -> consumed/ { n[mode]++; p50[mode, n[mode]] = $5; p99[mode, n[mode]] = $8; mx[mode, n[mode]] = $11 }
     function median(a, m, k,   v, i, j, t) {
       for (i = 1; i <= k; i++) v[i] = a[m, i] + 0
       for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
       return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
     }
     END { for (m in n) printf "   %s, median over %d rounds: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", m, n[m],
             median(p50, m, n[m]), median(p99, m, n[m]), median(mx, m, n[m])
           # A round runs every mode once, back to back: the difference within a round
           # leaves out much of what moves all of them from one round to the next.
           for (f in n) if (f != "pmhcd" && f != "one hop" && ("pmhcd" in n) && n[f] == n["pmhcd"]) {
             for (i = 1; i <= n[f]; i++) d[f, i] = p99["pmhcd", i] - p99[f, i]
             printf "   pmhcd over the %s at p99, paired by round: median %.2f ms over %d rounds\n", f, median(d, f, n[f]), n[f] } }' "$rounds" | sort
rm -f "$rounds"
PMHC_KAFKA_JVM_OPTS=$latency_jvm \
  bash tests/support/with-servers.sh --partitions 16 -- bash bench/live.sh "$PWD/build" memory 1000 "$memory_s" \
  | sed 's/^/   /'

echo "5. $("$PWD/build/bench/decide_bench" | head -3 | tr '\n' ' ' | sed 's/  */ /g')"
