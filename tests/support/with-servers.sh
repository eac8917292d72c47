#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup functions run from traps
# with-servers.sh — run a command against a fresh Apache Kafka cluster and a
# fresh PostgreSQL, and always tear both down afterwards.
#
#   with-servers.sh [--brokers N] [--partitions N] [--topic-partitions NAME=N]...
#                   [--mock [PATH]] -- COMMAND [ARGS...]
#
# Starts a real Kafka cluster (kafka.sh, next to this script: 1 broker, or 3
# with --brokers 3) and a throw-away PostgreSQL (pg-tmp.sh) side by side in a
# new directory under /tmp, then runs COMMAND with these variables exported:
#   PMHC_BROKERS          bootstrap.servers of the cluster
#   PMHC_KAFKA_DIR        the cluster's directory, for kafka.sh down/up/kill/leader
#   PMHC_KAFKA_SH         kafka.sh itself
#   PMHC_PG_CONNINFO      libpq conninfo of database "pmhc" as the daemon's
#                         role pmhcd_daemon: LOGIN, a member of pmhc_writer,
#                         nothing more (no superuser, owns nothing)
#   PMHC_PG_DBA_CONNINFO  the same database as the superuser postgres, the DBA:
#                         for set-up and for checks that read raw tables
#   PMHC_PG_ANALYST_CONNINFO  as pmhc_reader: LOGIN, a member of pmhc_analyst
#   PMHC_TEST_DIR         the per-run directory (scratch space; deleted after)
# With --mock, librdkafka's mock cluster (pmhc-mock-kafka) stands in for Kafka,
# for a test that needs a fault no real broker shows; then PMHC_KAFKA_DIR is
# not set and PMHC_MOCK_KAFKA_PID is: kill -USR1 takes all brokers down, kill
# -USR2 brings them back.
# With PMHCD set (the pmhcd binary, as meson's tests and the demo set it),
# the DBA makes the schema and roles with "$PMHCD --migrate" before COMMAND
# runs, as an operator would; without it PostgreSQL is left empty and all
# three conninfos are the DBA's.
# The servers are stopped and the directory removed on every exit path:
# COMMAND succeeding or failing, and this script getting SIGINT/SIGTERM/SIGHUP
# (COMMAND then gets SIGTERM). Not on SIGKILL: nothing can clean up after that
# (the brokers stay in our process group, so a runner that kills the whole
# group, as meson does on a timeout, takes them along).
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
Run COMMAND with a fresh Apache Kafka cluster and a fresh PostgreSQL, then stop
both.

  --brokers N       Kafka brokers (default 1; 3 for a cluster with
                    replication factor 3 and min.insync.replicas=2)
  --partitions N    partitions per topic (default 4)
  --topic-partitions NAME=N
                    topic NAME gets N partitions instead (repeatable)
  --mock [PATH]     librdkafka's mock cluster instead of Kafka, for a fault a
                    real broker cannot show; PATH is pmhc-mock-kafka (default:
                    \$PMHC_MOCK_KAFKA)
  -h, --help        show this help and exit

COMMAND sees PMHC_BROKERS, PMHC_PG_CONNINFO (the daemon's role),
PMHC_PG_DBA_CONNINFO, PMHC_PG_ANALYST_CONNINFO, PMHC_TEST_DIR, and PMHC_KAFKA_DIR
and PMHC_KAFKA_SH (\$PMHC_KAFKA_SH down|up|kill \$PMHC_KAFKA_DIR N takes a
broker down and back), or with --mock PMHC_MOCK_KAFKA_PID (SIGUSR1: brokers
down, SIGUSR2: brokers up). Kafka comes from kafka.sh (its --help tells the
environment it reads: PMHC_KAFKA_CACHE, PMHC_KAFKA_ADMIN, ...). With PMHCD set
(the pmhcd binary) the schema and roles are made first by "pmhcd --migrate".
Exit status: COMMAND's; 2 usage error; 125 servers failed to start.
EOF
}

use_mock=0
mock=${PMHC_MOCK_KAFKA:-}
partitions=4
topic_partitions=()
brokers=1
testdir=
mock_pid=
pg_pid=
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
    local rc=$? f b
    set +e
    # A second Ctrl-C or SIGTERM while tearing down would leave a broker or a
    # PostgreSQL running: the teardown ignores them (it is bounded by stop_pid).
    trap - EXIT
    trap '' INT TERM HUP
    if alive "$cmd_pid"; then
        stop_pid "$cmd_pid" 100
    fi
    if [[ -n $testdir ]]; then
        if ((rc != 0)); then
            show_tail "$testdir/mock-kafka.log" "mock Kafka"
            for f in "$testdir"/kafka/broker-*/logs/server.log; do
                [[ -e $f ]] || continue
                b=${f#"$testdir"/kafka/}
                show_tail "$f" "Kafka ${b%%/*}"
            done
            show_tail "$testdir/pg/postgres.log" "PostgreSQL"
        fi
        if [[ -n $mock_pid ]]; then
            stop_pid "$mock_pid" 50
        fi
        if [[ -e $testdir/kafka ]]; then
            "$HERE/kafka.sh" stop "$testdir/kafka" ||
                echo "$PROG: could not stop Kafka in $testdir/kafka" >&2
        fi
        # A PostgreSQL start still under way finishes first: then it is stopped.
        if [[ -n $pg_pid ]]; then
            wait "$pg_pid" 2>/dev/null
        fi
        if [[ -e $testdir/pg ]]; then
            "$HERE/pg-tmp.sh" stop "$testdir/pg" ||
                echo "$PROG: could not stop PostgreSQL in $testdir/pg" >&2
        fi
        rm -rf -- "$testdir"
    fi
    exit "$rc"
}

# The schema as an operator makes it: the DBA runs pmhcd --migrate, then gives
# the daemon and an analyst LOGIN roles of their own in the group roles (the
# later user= of a conninfo wins).
make_roles() {
    [[ -x $PMHCD ]] || fail "PMHCD=$PMHCD: not an executable"
    "$PMHCD" --migrate --conninfo "$PMHC_PG_DBA_CONNINFO" >"$testdir/migrate.log" 2>&1 || {
        sed 's/^/    /' "$testdir/migrate.log" >&2
        fail "pmhcd --migrate as the DBA failed (see above)"
    }
    psql "$PMHC_PG_DBA_CONNINFO" -XAtq -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE pmhcd_daemon LOGIN IN ROLE pmhc_writer" \
        -c "CREATE ROLE pmhc_reader LOGIN IN ROLE pmhc_analyst" >/dev/null 2>"$testdir/roles.err" || {
        sed 's/^/    /' "$testdir/roles.err" >&2
        fail "creating the LOGIN roles pmhcd_daemon and pmhc_reader failed (see above)"
    }
    PMHC_PG_CONNINFO="$PMHC_PG_DBA_CONNINFO user=pmhcd_daemon"
    PMHC_PG_ANALYST_CONNINFO="$PMHC_PG_DBA_CONNINFO user=pmhc_reader"
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
        use_mock=1
        # An optional PATH: COMMAND only ever comes after "--".
        if [[ $# -ge 2 && $2 != -* ]]; then
            mock=$2
            shift
        fi
        shift
        ;;
    --mock=*)
        use_mock=1
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
if ((use_mock)); then
    [[ -n $mock ]] ||
        usage_error "where is pmhc-mock-kafka? pass --mock PATH or set PMHC_MOCK_KAFKA (it is built in BUILD_DIR/tests/support/)"
    [[ -x $mock && ! -d $mock ]] || fail "--mock $mock: not an executable file (build it first: meson compile -C BUILD_DIR)"
fi
command -v "$1" >/dev/null 2>&1 || [[ -x $1 ]] || fail "COMMAND \"$1\": not found"

trap cleanup EXIT
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP

testdir=$(mktemp -d /tmp/pmhc-test.XXXXXX) || fail "mktemp -d under /tmp failed"
# PostgreSQL runs as another user when we are root: let it through.
chmod 755 "$testdir"

# --- PostgreSQL, started in the background while Kafka starts -------------------
"$HERE/pg-tmp.sh" start "$testdir/pg" >/dev/null 2>"$testdir/pg-start.err" &
pg_pid=$!

# --- Kafka --------------------------------------------------------------------
if ((use_mock)); then
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
    PMHC_MOCK_KAFKA_PID=$mock_pid
    export PMHC_MOCK_KAFKA_PID
else
    # kafka.sh start prints the bootstrap servers on stdout, its progress and
    # any error (with the broker's log) on stderr, and stops what it started
    # when it fails.
    "$HERE/kafka.sh" start "$testdir/kafka" --brokers "$brokers" --partitions "$partitions" \
        "${topic_partitions[@]}" </dev/null >/dev/null 2>"$testdir/kafka-start.err" || {
        sed 's/^/    /' "$testdir/kafka-start.err" >&2
        fail "Kafka did not start (see above)"
    }
    PMHC_BROKERS=$(<"$testdir/kafka/bootstrap")
    PMHC_KAFKA_DIR=$testdir/kafka
    PMHC_KAFKA_SH=$HERE/kafka.sh
    export PMHC_KAFKA_DIR PMHC_KAFKA_SH
fi

# --- PostgreSQL ---------------------------------------------------------------
pg_rc=0
wait "$pg_pid" || pg_rc=$?
pg_pid=
if ((pg_rc != 0)); then
    sed 's/^/    /' "$testdir/pg-start.err" >&2
    fail "PostgreSQL did not start (see above)"
fi
PMHC_PG_DBA_CONNINFO=$(<"$testdir/pg/conninfo")
PMHC_PG_CONNINFO=$PMHC_PG_DBA_CONNINFO
PMHC_PG_ANALYST_CONNINFO=$PMHC_PG_DBA_CONNINFO
if [[ -n ${PMHCD:-} ]]; then
    make_roles
fi

PMHC_TEST_DIR=$testdir
export PMHC_BROKERS PMHC_PG_CONNINFO PMHC_PG_DBA_CONNINFO PMHC_PG_ANALYST_CONNINFO PMHC_TEST_DIR

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
