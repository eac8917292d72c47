#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine (as root): installs the packages,
# builds pmhcd, starts a throw-away PostgreSQL and a throw-away Apache Kafka
# broker (tests/support/kafka.sh; Kafka is fetched from Maven Central into
# build/kafka-dist on the first run), streams the sample calls through the
# daemon, and prints the recommendations and what was stored. Everything is
# stopped afterwards.
#
#   bash scripts/demo.sh [CALLS.jsonl [UNITS.jsonl [DISPOSITIONS.jsonl]]]
#   (defaults: tests/data/sample-{calls,units,dispositions}.jsonl)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
ninja -C build >/dev/null

calls=$(realpath "${1:-tests/data/sample-calls.jsonl}")
units=$(realpath "${2:-tests/data/sample-units.jsonl}")
dispositions=$(realpath "${3:-tests/data/sample-dispositions.jsonl}")
export PMHC_KAFKA_ADMIN=$PWD/build/tests/support/pmhc-kafka-admin
export PMHC_KAFKA_CACHE=$PWD/build/kafka-dist
# with-servers.sh migrates the schema with it as the DBA, and gives the daemon
# and the analyst LOGIN roles of their own (pmhc_writer, pmhc_analyst).
export PMHCD=$PWD/build/daemon/pmhcd
exec bash tests/support/with-servers.sh -- bash scripts/demo-run.sh "$PWD/build" "$calls" "$units" "$dispositions"
