#!/usr/bin/env bash
# selftest.sh — smoke test of the test-support layer itself.
#
#   bash tests/support/selftest.sh BUILD_DIR
#
# Starts the servers with with-servers.sh (mock Kafka from
# BUILD_DIR/tests/support/pmhc-mock-kafka, or $PMHC_MOCK_KAFKA if set), then
# checks that:
#   - the mock has the default topics, each with the requested partitions
#     (cad.history with its own, through --topic-partitions);
#   - 3 messages produced to cad.calls with kcat come back, all of them;
#   - the PostgreSQL database "pmhc" answers, in UTF8;
#   - SIGUSR1 takes the brokers down and SIGUSR2 brings them back.
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

    [[ -n ${PMHC_MOCK_KAFKA_PID:-} ]] || fail "PMHC_MOCK_KAFKA_PID not set"
    kill -USR1 "$PMHC_MOCK_KAFKA_PID"
    sleep 0.5
    if timeout 10 kcat -L -b "$PMHC_BROKERS" -m 2 >/dev/null 2>&1; then
        fail "metadata request succeeded with all brokers down (SIGUSR1)"
    fi
    kill -USR2 "$PMHC_MOCK_KAFKA_PID"
    sleep 0.5
    got=$(timeout 20 kcat -C -q -b "$PMHC_BROKERS" -t cad.calls -o beginning -e -c 3 -f '%s\n' |
        sort) || fail "kcat -C after SIGUSR2 failed"
    [[ $got == "$want" ]] || fail "after a broker down/up cycle cad.calls holds:"$'\n'"$got"
    ok "SIGUSR1 takes the brokers down, SIGUSR2 brings them back with the data"
}

if [[ ${1:-} == --inner ]]; then
    inner
    exit 0
fi

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
    echo "Usage: bash $0 BUILD_DIR   (or set PMHC_MOCK_KAFKA to the pmhc-mock-kafka executable)" >&2
    [[ $# -eq 1 ]] && exit 0
    exit 2
fi
for tool in kcat psql; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (Debian: apt-get install ${tool/psql/postgresql-client})"
done
mock=${PMHC_MOCK_KAFKA:-$1/tests/support/pmhc-mock-kafka}
[[ -x $mock ]] || fail "$mock is not built (meson compile -C $1), or set PMHC_MOCK_KAFKA"

"$HERE/with-servers.sh" --mock "$mock" --partitions "$PARTITIONS" \
    --topic-partitions "cad.history=$HISTORY_PARTITIONS" -- bash "$HERE/selftest.sh" --inner
# A topic the mock does not create is a start-up error, not a silent no-op.
rc=0
"$HERE/with-servers.sh" --mock "$mock" --topic-partitions "cad.typo=2" -- true 2>/dev/null || rc=$?
[[ $rc -eq 125 ]] || fail "--topic-partitions for an unknown topic: exit $rc, want 125"
echo "ok - --topic-partitions for an unknown topic refused"
echo "$PROG: PASS"
