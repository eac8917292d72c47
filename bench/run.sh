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
#      (calls/s to PostgreSQL and to recommendations), and the latency from
#      produce to recommendation at a steady 1,000 calls/s;
#   5. the decision engine alone, ns per call.
#
#   bash bench/run.sh [--calls N] [--live-calls N]
set -euo pipefail
cd "$(dirname "$0")/.."
calls=1000000
live_calls=100000
while [ $# -gt 0 ]; do
  case $1 in
    --calls) calls=$2; shift 2 ;;
    --live-calls) live_calls=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1 (try --help)" >&2; exit 64 ;;
  esac
done
bash scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
export PMHC_MOCK_KAFKA=$PWD/build/tests/support/pmhc-mock-kafka
# 128 partitions: the mock keeps at most 5 MiB or 100,000 messages per partition (NOTES.md).
exec bash tests/support/with-servers.sh --partitions 128 -- bash bench/run-inside.sh "$PWD/build" "$calls" "$live_calls"
