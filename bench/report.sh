#!/usr/bin/env bash
# The analyst views and pmhc-report at scale (prints figures; asserts nothing):
#   1. ten years of a metro center's history (pmhc-gen-metro: N calls, about a
#      fifth of them mental-health calls, with dispositions and repeat subjects,
#      across four PSAPs) produced to cad.history and loaded with pmhcd --backfill;
#   2. VACUUM ANALYZE, as autovacuum would after the load;
#   3. every analyst view for one PSAP (M1, 40 % of the calls) and one period
#      (the current one, 2025), each the median of three EXPLAIN ANALYZE runs, with
#      JIT off (as pmhc-report sets it: compiling took longer than these queries run);
#   4. the whole report (pmhc-report as a pmhc_analyst LOGIN), the median of three;
#   5. EXPLAIN (ANALYZE, BUFFERS) of the slowest view, for docs/benchmarks.md.
#
#   bash bench/report.sh [--calls N] [--keep DIR] [--pmhcd PATH]
# --pmhcd loads (and migrates) with another build's pmhcd, e.g. one without
# migration 009, for a before-and-after on the same machine.
# Targets (issue 18): each view under 1 s, the report under 10 s, on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
calls=1000000
keep=""
inside=""
pmhcd=""
while [ $# -gt 0 ]; do
  case $1 in
    --calls) calls=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --pmhcd) pmhcd=$(realpath "$2"); shift 2 ;;
    --inside) inside=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench/report.sh: unknown option $1 (try --help)" >&2; exit 64 ;;
  esac
done

if [ -z "$inside" ]; then
  bash scripts/install-deps.sh
  [ -f build/build.ninja ] || meson setup build >/dev/null
  ninja -C build >/dev/null
  export PMHC_KAFKA_ADMIN=$PWD/build/tests/support/pmhc-kafka-admin
  export PMHC_KAFKA_CACHE=${PMHC_KAFKA_CACHE:-$PWD/build/kafka-dist}
  export PMHC_KAFKA_JVM_OPTS=${PMHC_KAFKA_JVM_OPTS:--XX:+UseSerialGC}
  export PMHC_KAFKA_HEAP_OPTS=${PMHC_KAFKA_HEAP_OPTS:--Xms1g -Xmx1g}
  # with-servers.sh makes the schema and roles with it (pmhcd --migrate), as a DBA would.
  export PMHCD=${pmhcd:-$PWD/build/daemon/pmhcd}
  exec bash tests/support/with-servers.sh --partitions 16 -- bash "$0" --inside --calls "$calls" --keep "$keep" ${pmhcd:+--pmhcd "$pmhcd"}
fi

build=$PWD/build
export PMHCD=${pmhcd:-$build/daemon/pmhcd} PMHC_PRODUCE=$build/adapters/pmhc-produce PMHC_CONSUME=$build/adapters/pmhc-consume
source tests/integration/lib.sh
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), PostgreSQL $(sql 'SHOW server_version')"

# 1. History.
t0=$(now)
"$build/bench/pmhc-gen-metro" --calls "$calls" --seed 1 | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" --history cad.history - 2>/dev/null
t1=$(now)
write_config
"$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2> "$PMHC_TEST_DIR/backfill.log" \
  || { tail "$PMHC_TEST_DIR/backfill.log" >&2; fail "backfill failed"; }
t2=$(now)
stored=$(sql "SELECT count(*) FROM pmhc.calls")
[ "$stored" -eq "$calls" ] || fail "backfill stored $stored of $calls calls"
echo "1. $calls calls generated and produced in $(secs "$t0" "$t1") s; backfilled in $(secs "$t1" "$t2") s"
sql "SELECT '   ' || psap_id || ': ' || count(*) || ' calls, ' || count(*) FILTER (WHERE mental_health_call)
            || ' MH calls, ' || count(DISTINCT subject_hash) || ' subjects'
       FROM pmhc.calls GROUP BY psap_id ORDER BY psap_id"

# 2. As autovacuum would leave it.
t0=$(now)
sql "VACUUM ANALYZE"
echo "2. VACUUM ANALYZE in $(secs "$t0" "$(now)") s; database $(sql "SELECT pg_size_pretty(pg_database_size(current_database()))")"
sql "DO \$\$ BEGIN CREATE ROLE bench_analyst LOGIN IN ROLE pmhc_analyst; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
AS_ANALYST="$PMHC_PG_CONNINFO user=bench_analyst"

# 3. Each view an analyst reads (not the per-call mh_call_outcomes: case reviewers only), one PSAP and one period.
P="psap_id = 'M1'"
C="AND month >= '2025-01-01' AND month < '2026-01-01'"
views=(
  "outcomes_by_month|SELECT * FROM pmhc.outcomes_by_month WHERE $P $C"
  "outcomes_baseline_vs_current|SELECT * FROM pmhc.outcomes_baseline_vs_current WHERE $P"
  "mh_calls_by_day|SELECT * FROM pmhc.mh_calls_by_day WHERE $P AND day >= '2025-01-01' AND day < '2026-01-01'"
  "mh_calls_by_week|SELECT * FROM pmhc.mh_calls_by_week WHERE $P AND week_start >= '2025-01-01' AND week_start < '2026-01-01'"
  "mh_calls_by_month|SELECT * FROM pmhc.mh_calls_by_month WHERE $P $C"
  "mh_calls_by_place|SELECT * FROM pmhc.mh_calls_by_place WHERE $P $C"
  "mh_calls_by_hour_weekday|SELECT * FROM pmhc.mh_calls_by_hour_weekday WHERE $P"
  "referrals_service_unavailable|SELECT * FROM pmhc.referrals_service_unavailable WHERE $P $C"
  "recommended_vs_disposition|SELECT * FROM pmhc.recommended_vs_disposition WHERE $P $C"
  "fallbacks_by_hour_beat|SELECT * FROM pmhc.fallbacks_by_hour_beat WHERE $P $C"
  "diversions_911_to_988|SELECT * FROM pmhc.diversions_911_to_988 WHERE $P $C"
  "screening_fidelity|SELECT * FROM pmhc.screening_fidelity WHERE $P $C"
  "unknown_nature_codes|SELECT * FROM pmhc.unknown_nature_codes WHERE $P $C"
)
echo "3. each view for PSAP M1, current period (2025), ms, median of 3 (target < 1000):"
slowest=""
slowest_ms=0
for v in "${views[@]}"; do
  name=${v%%|*} q=${v#*|}
  ms=$(for _ in 1 2 3; do
         psql "$AS_ANALYST" -XAtq -c "SET jit = off" -c "EXPLAIN (ANALYZE, TIMING OFF) $q" | sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p'
       done | median)
  rows=$(psql "$AS_ANALYST" -XAtq -c "SELECT count(*) FROM ($q) s")
  printf '   %-32s %10.1f ms  %7d rows\n' "$name" "$ms" "$rows"
  if awk -v a="$ms" -v b="$slowest_ms" 'BEGIN { exit !(a > b) }'; then slowest=$v; slowest_ms=$ms; fi
done

# 4. The whole report.
for edition in "" --public; do
  ms=$(for _ in 1 2 3; do
         t0=$(now)
         "$build/tools/pmhc-report" -d "$AS_ANALYST" --psap M1 -o "$PMHC_TEST_DIR/m1.html" $edition >/dev/null
         awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f\n", (b - a) / 1e6 }'
       done | median)
  echo "4. pmhc-report --psap M1 ${edition:-(workgroup edition)}: $ms ms, median of 3 (target < 10000), $(stat -c %s "$PMHC_TEST_DIR/m1.html") bytes"
done
[ -z "$keep" ] || cp "$PMHC_TEST_DIR/m1.html" "$keep/"

# 5. The slowest view's plan.
echo "5. EXPLAIN (ANALYZE, BUFFERS) of the slowest, ${slowest%%|*} ($slowest_ms ms):"
psql "$AS_ANALYST" -XAtq -c "SET jit = off" -c "EXPLAIN (ANALYZE, BUFFERS) ${slowest#*|}" | sed 's/^/   /'
