#!/usr/bin/env bash
# selftest.sh — smoke test of the test-support layer itself.
#
#   bash tests/support/selftest.sh BUILD_DIR
#
# Starts the servers with with-servers.sh twice: with the real Kafka broker
# (kafka.sh; topics made by BUILD_DIR/tests/support/pmhc-kafka-admin, or
# $PMHC_KAFKA_ADMIN if set), then with the mock (--mock:
# BUILD_DIR/tests/support/pmhc-mock-kafka, or $PMHC_MOCK_KAFKA if set), and
# checks each time that:
#   - the cluster has the default topics, each with the requested partitions
#     (cad.history with its own, through --topic-partitions);
#   - 3 messages produced to cad.calls with kcat come back, all of them;
#   - the PostgreSQL database "pmhc" answers, in UTF8;
#   - the broker goes down and comes back with the data: kafka.sh down/up
#     (and kafka.sh leader names it), or the mock's SIGUSR1/SIGUSR2;
# and that --topic-partitions for a topic not created is refused (exit 125).
# Needs kcat and psql on PATH. Exit status 0 when all checks pass.
set -euo pipefail

readonly PROG=selftest.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly HERE
readonly PARTITIONS=3 # not the default 4, to see --partitions get through
readonly HISTORY_PARTITIONS=5 # and --topic-partitions

fail() {
    echo "$PROG: FAIL: $*" >&2
    exit 1
}

ok() {
    echo "$PROG: ok: $*"
}

# The checks, run by with-servers.sh with PMHC_* set.
inner() {
    local topic meta got want pg

    [[ -n ${PMHC_BROKERS:-} && -n ${PMHC_PG_CONNINFO:-} && -d ${PMHC_TEST_DIR:-} ]] ||
        fail "PMHC_BROKERS, PMHC_PG_CONNINFO or PMHC_TEST_DIR not set by with-servers.sh"

    meta=$(timeout 20 kcat -L -b "$PMHC_BROKERS") || fail "kcat -L -b $PMHC_BROKERS failed"
    for topic in cad.calls cad.units cad.dispositions pmhc.recommendations pmhc.dlq; do
        grep -q "topic \"$topic\" with $PARTITIONS partitions" <<<"$meta" ||
            fail "topic $topic with $PARTITIONS partitions missing from the metadata:"$'\n'"$meta"
    done
    grep -q "topic \"cad.history\" with $HISTORY_PARTITIONS partitions" <<<"$meta" ||
        fail "--topic-partitions did not give cad.history $HISTORY_PARTITIONS partitions:"$'\n'"$meta"
    ok "6 topics at $PMHC_BROKERS: 5 with $PARTITIONS partitions, cad.history with $HISTORY_PARTITIONS"

    want=$(printf 'selftest-%s\n' 1 2 3)
    printf '%s\n' "$want" | timeout 20 kcat -P -b "$PMHC_BROKERS" -t cad.calls ||
        fail "kcat -P to cad.calls failed"
    # Partitions interleave arbitrarily: compare as sorted sets.
    got=$(timeout 20 kcat -C -q -b "$PMHC_BROKERS" -t cad.calls -o beginning -e -c 3 -f '%s\n' |
        sort) || fail "kcat -C from cad.calls failed or timed out"
    [[ $got == "$want" ]] || fail "read back from cad.calls:"$'\n'"$got"$'\n'"expected:"$'\n'"$want"
    ok "3 messages produced to and consumed from cad.calls"

    got=$(psql "$PMHC_PG_CONNINFO" -X -q -A -t -c 'select 1') || fail "psql \"$PMHC_PG_CONNINFO\" failed"
    [[ $got == 1 ]] || fail "select 1 returned \"$got\""
    pg=$(psql "$PMHC_PG_CONNINFO" -X -q -A -t -F ' ' \
        -c "select current_database(), current_setting('server_encoding')") ||
        fail "psql query failed"
    [[ $pg == "pmhc UTF8" ]] || fail "database/encoding is \"$pg\", expected \"pmhc UTF8\""
    ok "PostgreSQL answers: $PMHC_PG_CONNINFO"

    if [[ -n ${PMHC_MOCK_KAFKA_PID:-} ]]; then
        kill -USR1 "$PMHC_MOCK_KAFKA_PID"
        sleep 0.5
    else
        [[ -n ${PMHC_KAFKA_DIR:-} && -x ${PMHC_KAFKA_SH:-} ]] ||
            fail "neither PMHC_MOCK_KAFKA_PID nor PMHC_KAFKA_DIR and PMHC_KAFKA_SH set"
        got=$("$PMHC_KAFKA_SH" leader "$PMHC_KAFKA_DIR" cad.calls 0) || fail "kafka.sh leader failed"
        [[ $got == 1 ]] || fail "kafka.sh leader: broker \"$got\" leads cad.calls/0, want 1"
        "$PMHC_KAFKA_SH" down "$PMHC_KAFKA_DIR" 1 || fail "kafka.sh down failed"
        grep -q . "$PMHC_KAFKA_DIR/pids" && fail "kafka.sh down left a pid in $PMHC_KAFKA_DIR/pids"
    fi
    if timeout 10 kcat -L -b "$PMHC_BROKERS" -m 2 >/dev/null 2>&1; then
        fail "metadata request succeeded with all brokers down"
    fi
    if [[ -n ${PMHC_MOCK_KAFKA_PID:-} ]]; then
        kill -USR2 "$PMHC_MOCK_KAFKA_PID"
        sleep 0.5
    else
        "$PMHC_KAFKA_SH" up "$PMHC_KAFKA_DIR" 1 || fail "kafka.sh up failed"
    fi
    got=$(timeout 20 kcat -C -q -b "$PMHC_BROKERS" -t cad.calls -o beginning -e -c 3 -f '%s\n' |
        sort) || fail "kcat -C after the brokers came back failed"
    [[ $got == "$want" ]] || fail "after a broker down/up cycle cad.calls holds:"$'\n'"$got"
    if [[ -n ${PMHC_MOCK_KAFKA_PID:-} ]]; then
        ok "SIGUSR1 takes the mock's brokers down, SIGUSR2 brings them back with the data"
    else
        ok "kafka.sh down stops the broker, kafka.sh up brings it back with the data"
    fi
}

if [[ ${1:-} == --inner ]]; then
    inner
    exit 0
fi

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
    echo "Usage: bash $0 BUILD_DIR   (or set PMHC_MOCK_KAFKA and PMHC_KAFKA_ADMIN to the executables)" >&2
    [[ $# -eq 1 ]] && exit 0
    exit 2
fi
for tool in kcat psql; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (Debian: apt-get install ${tool/psql/postgresql-client})"
done
mock=${PMHC_MOCK_KAFKA:-$1/tests/support/pmhc-mock-kafka}
[[ -x $mock ]] || fail "$mock is not built (meson compile -C $1), or set PMHC_MOCK_KAFKA"
export PMHC_KAFKA_ADMIN=${PMHC_KAFKA_ADMIN:-$1/tests/support/pmhc-kafka-admin}
[[ -x $PMHC_KAFKA_ADMIN ]] || fail "$PMHC_KAFKA_ADMIN is not built (meson compile -C $1)"
export PMHC_KAFKA_CACHE=${PMHC_KAFKA_CACHE:-$1/kafka-dist}

for kafka in real mock; do
    echo "$PROG: --- with the $kafka Kafka"
    opts=()
    [[ $kafka == mock ]] && opts=(--mock "$mock")
    "$HERE/with-servers.sh" "${opts[@]}" --partitions "$PARTITIONS" \
        --topic-partitions "cad.history=$HISTORY_PARTITIONS" -- bash "$HERE/selftest.sh" --inner
    # A topic that is not created is a start-up error, not a silent no-op.
    rc=0
    "$HERE/with-servers.sh" "${opts[@]}" --topic-partitions "cad.typo=2" -- true 2>/dev/null || rc=$?
    [[ $rc -eq 125 ]] || fail "--topic-partitions for an unknown topic: exit $rc, want 125"
    echo "ok - --topic-partitions for an unknown topic refused"
done
echo "$PROG: PASS"
