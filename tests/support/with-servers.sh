#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup functions run from traps
# with-servers.sh — run a command against a fresh mock Kafka cluster and a fresh
# PostgreSQL, and always tear both down afterwards.
#
#   with-servers.sh [--mock PATH] [--partitions N] [--topic-partitions NAME=N]...
#                   [--brokers N] -- COMMAND [ARGS...]
#
# Starts pmhc-mock-kafka (from --mock, else $PMHC_MOCK_KAFKA) and a throw-away
# PostgreSQL (pg-tmp.sh, next to this script) in a new directory under /tmp,
# then runs COMMAND with these variables exported:
#   PMHC_BROKERS          bootstrap.servers of the mock cluster
#   PMHC_PG_CONNINFO      libpq conninfo of database "pmhc"
#   PMHC_TEST_DIR         the per-run directory (scratch space; deleted after)
#   PMHC_MOCK_KAFKA_PID   pid of the mock: kill -USR1 takes all brokers down,
#                         kill -USR2 brings them back (outage tests)
# The servers are stopped and the directory removed on every exit path:
# COMMAND succeeding or failing, and this script getting SIGINT/SIGTERM/SIGHUP
# (COMMAND then gets SIGTERM). Not on SIGKILL: nothing can clean up after that.
#
# Exit status: COMMAND's; 2 on a usage error; 125 if the servers could not be
# started (like timeout(1) and env(1), so it cannot pass for a test result);
# 128+N if this script was stopped by signal N.
set -euo pipefail

readonly PROG=with-servers.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly HERE

usage() {
    cat <<EOF
Usage: $PROG [OPTION]... -- COMMAND [ARGS...]
Run COMMAND with a fresh pmhc-mock-kafka and a fresh PostgreSQL, then stop both.

  --mock PATH       the pmhc-mock-kafka executable (default: \$PMHC_MOCK_KAFKA)
  --partitions N    partitions per topic (default 4)
  --topic-partitions NAME=N
                    topic NAME gets N partitions instead (repeatable)
  --brokers N       number of mock brokers (default 1)
  -h, --help        show this help and exit

COMMAND sees PMHC_BROKERS, PMHC_PG_CONNINFO, PMHC_TEST_DIR and
PMHC_MOCK_KAFKA_PID (SIGUSR1: brokers down, SIGUSR2: brokers up).
Exit status: COMMAND's; 2 usage error; 125 servers failed to start.
EOF
}

mock=${PMHC_MOCK_KAFKA:-}
partitions=4
topic_partitions=()
brokers=1
testdir=
mock_pid=
cmd_pid=

fail() {
    echo "$PROG: error: $*" >&2
    exit 125
}

usage_error() {
    echo "$PROG: $*" >&2
    echo "Try '$PROG --help' for more information." >&2
    exit 2
}

alive() {
    [[ -n $1 ]] && kill -0 "$1" 2>/dev/null
}

# Send SIGTERM to pid $1, give it $2 tenths of a second, then SIGKILL; reap it.
stop_pid() {
    local pid=$1 tenths=$2 i
    alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < tenths; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        echo "$PROG: pid $pid ignored SIGTERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

show_tail() {
    local file=$1 label=$2
    if [[ -s $file ]]; then
        echo "$PROG: last lines of the $label log:" >&2
        tail -n 20 "$file" | sed 's/^/    /' >&2
    fi
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM HUP
    if alive "$cmd_pid"; then
        stop_pid "$cmd_pid" 100
    fi
    if [[ -n $testdir ]]; then
        if ((rc != 0)); then
            show_tail "$testdir/mock-kafka.log" "mock Kafka"
            show_tail "$testdir/pg/postgres.log" "PostgreSQL"
        fi
        if [[ -n $mock_pid ]]; then
            stop_pid "$mock_pid" 50
        fi
        if [[ -e $testdir/pg ]]; then
            "$HERE/pg-tmp.sh" stop "$testdir/pg" ||
                echo "$PROG: could not stop PostgreSQL in $testdir/pg" >&2
        fi
        rm -rf -- "$testdir"
    fi
    exit "$rc"
}

on_signal() {
    local sig=$1 num=$2
    echo "$PROG: got SIG$sig; stopping the command and the servers" >&2
    # COMMAND runs asynchronously, so it ignores SIGINT: always send SIGTERM.
    if alive "$cmd_pid"; then
        kill -TERM "$cmd_pid" 2>/dev/null
    fi
    exit $((128 + num)) # runs cleanup via the EXIT trap
}

while [[ $# -gt 0 ]]; do
    case $1 in
    --mock)
        [[ $# -ge 2 ]] || usage_error "--mock needs a PATH"
        mock=$2
        shift 2
        ;;
    --mock=*)
        mock=${1#--mock=}
        shift
        ;;
    --partitions | --brokers)
        [[ $# -ge 2 ]] || usage_error "$1 needs a number"
        [[ $2 =~ ^[1-9][0-9]*$ ]] || usage_error "$1: \"$2\" is not a positive integer"
        if [[ $1 == --partitions ]]; then partitions=$2; else brokers=$2; fi
        shift 2
        ;;
    --topic-partitions)
        [[ $# -ge 2 && $2 =~ ^[^=]+=[1-9][0-9]*$ ]] || usage_error "--topic-partitions needs NAME=N"
        topic_partitions+=(--topic-partitions "$2")
        shift 2
        ;;
    --partitions=* | --brokers=*)
        val=${1#*=}
        [[ $val =~ ^[1-9][0-9]*$ ]] || usage_error "${1%%=*}: \"$val\" is not a positive integer"
        if [[ $1 == --partitions=* ]]; then partitions=$val; else brokers=$val; fi
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    --)
        shift
        break
        ;;
    *)
        usage_error "unexpected argument \"$1\" (put the command after --)"
        ;;
    esac
done
[[ $# -ge 1 ]] || usage_error "no COMMAND given after --"
[[ -n $mock ]] ||
    usage_error "where is pmhc-mock-kafka? pass --mock PATH or set PMHC_MOCK_KAFKA (it is built in BUILD_DIR/tests/support/)"
[[ -x $mock && ! -d $mock ]] || fail "--mock $mock: not an executable file (build it first: meson compile -C BUILD_DIR)"
command -v "$1" >/dev/null 2>&1 || [[ -x $1 ]] || fail "COMMAND \"$1\": not found"

trap cleanup EXIT
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP

testdir=$(mktemp -d /tmp/pmhc-test.XXXXXX) || fail "mktemp -d under /tmp failed"
# PostgreSQL runs as another user when we are root: let it through.
chmod 755 "$testdir"

# --- Kafka --------------------------------------------------------------------
"$mock" --brokers "$brokers" --partitions "$partitions" "${topic_partitions[@]}" \
    --bootstrap-file "$testdir/kafka.bootstrap" --pid-file "$testdir/kafka.pid" \
    </dev/null >"$testdir/mock-kafka.out" 2>"$testdir/mock-kafka.log" &
mock_pid=$!

for ((i = 0; i < 100; i++)); do
    [[ -s $testdir/kafka.bootstrap ]] && break
    alive "$mock_pid" || break
    sleep 0.1
done
if [[ ! -s $testdir/kafka.bootstrap ]]; then
    if alive "$mock_pid"; then
        fail "pmhc-mock-kafka (pid $mock_pid) wrote no bootstrap file within 10 s"
    fi
    wait "$mock_pid" && mrc=0 || mrc=$?
    mock_pid=
    fail "pmhc-mock-kafka exited with status $mrc before it was ready"
fi
PMHC_BROKERS=$(<"$testdir/kafka.bootstrap")
[[ -n $PMHC_BROKERS ]] || fail "empty bootstrap file from pmhc-mock-kafka"

# --- PostgreSQL ---------------------------------------------------------------
"$HERE/pg-tmp.sh" start "$testdir/pg" >/dev/null || fail "PostgreSQL did not start (see above)"
PMHC_PG_CONNINFO=$(<"$testdir/pg/conninfo")

PMHC_TEST_DIR=$testdir
PMHC_MOCK_KAFKA_PID=$mock_pid
export PMHC_BROKERS PMHC_PG_CONNINFO PMHC_TEST_DIR PMHC_MOCK_KAFKA_PID

# --- COMMAND ------------------------------------------------------------------
# Run it in the background so that a signal to this script runs our trap at
# once instead of after COMMAND finishes; "<&0" keeps our stdin (bash would
# otherwise give an asynchronous command /dev/null).
"$@" <&0 &
cmd_pid=$!
status=0
wait "$cmd_pid" || status=$?
cmd_pid=
exit "$status"
