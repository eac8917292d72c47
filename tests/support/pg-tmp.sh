#!/usr/bin/env bash
# pg-tmp.sh — a throw-away PostgreSQL 15 cluster for tests and the demo.
#
#   pg-tmp.sh start DIR   create DIR, initdb into DIR/data, start the server on a
#                         unix socket in DIR (no TCP), create database "pmhc",
#                         write the libpq conninfo to DIR/conninfo and print it:
#                             host=DIR port=PORT dbname=pmhc user=postgres
#   pg-tmp.sh stop DIR    stop the server (fast shutdown; fine if not running)
#                         and remove DIR.
#   pg-tmp.sh start DIR --ssl TLSDIR
#                         as start, and also listen on 127.0.0.1 with ssl=on
#                         (TLSDIR/server.crt, TLSDIR/server.key), where only TLS
#                         connections are let in; their conninfo, verify-full
#                         against TLSDIR/ca.crt, goes to DIR/conninfo.ssl:
#                             host=localhost port=PORT dbname=pmhc user=postgres
#                             sslmode=verify-full sslrootcert=TLSDIR/ca.crt
#
# DIR must not exist yet (or be empty) and must sit where the server's user can
# reach it: not below a 0700 directory such as /root. Use e.g. "$(mktemp -d)"
# under /tmp. initdb and postgres refuse to run as root: as root the cluster
# runs as the "postgres" OS user (runuser), otherwise as the current user.
#
# Files in DIR: data/ (the cluster), postgres.log (server log), conninfo, port,
# .pg-tmp (marker: "stop" only deletes directories that carry it).
#
# Environment: PG_BINDIR (default /usr/lib/postgresql/15/bin).
set -euo pipefail

readonly PROG=pg-tmp.sh
readonly PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
readonly MARKER=.pg-tmp

usage() {
    cat <<EOF
Usage: $PROG start DIR [--ssl TLSDIR]
       $PROG stop DIR
Manage a throw-away PostgreSQL cluster that listens only on a unix socket in DIR.
  start  initdb DIR/data, start the server, create database "pmhc", write the
         conninfo ("host=DIR port=PORT dbname=pmhc user=postgres") to
         DIR/conninfo and print it; with --ssl TLSDIR, also TCP on 127.0.0.1,
         TLS only (TLSDIR/server.crt and server.key), its verify-full conninfo
         in DIR/conninfo.ssl
  stop   stop the server (fast shutdown) and remove DIR
EOF
}

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}

# Show the end of the server log, if there is one, after a failure.
show_log() {
    local log=$1/postgres.log
    if [[ -s $log ]]; then
        echo "$PROG: last lines of $log:" >&2
        tail -n 25 "$log" | sed 's/^/    /' >&2
    fi
}

# Run a PostgreSQL server binary as the unprivileged user that owns the cluster.
as_pg_user() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# A random port from 20000 up to the kernel's ephemeral range that nothing
# answers on (TCP) and whose socket name is free. With listen_addresses='' the
# port only names the socket, but a port that is free on TCP as well avoids
# confusing anyone reading the logs. With TLS the server listens on 127.0.0.1,
# and a port inside the ephemeral range can be taken between this check and
# the bind by any outgoing connection of a test running alongside (it was:
# "Address already in use"); start() also retries on a port taken meanwhile.
pick_port() {
    local dir=$1 port tries eph_lo _
    read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768
    ((eph_lo > 21000)) || eph_lo=60001
    for ((tries = 0; tries < 100; tries++)); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % (eph_lo - 20000)))
        [[ -e $dir/.s.PGSQL.$port ]] && continue
        if command -v ss >/dev/null 2>&1; then
            ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && continue
        fi
        # bash's /dev/tcp: a successful connect means the port is taken.
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            continue
        fi
        echo "$port"
        return 0
    done
    die "no free port found in 20000-$((eph_lo - 1)) after 100 tries"
}

# EXIT trap of a failing "start": stop the server it started, if any.
START_DIR=
START_STARTED=0
stop_half_started() {
    if ((START_STARTED)); then
        as_pg_user "$PG_BINDIR/pg_ctl" -D "$START_DIR/data" -m immediate -w stop \
            >/dev/null 2>&1 || true
    fi
}

# With --ssl: TCP on 127.0.0.1 as well, TLS required there. The key is copied
# into the data directory, where the server's user owns it with mode 0600 as
# PostgreSQL demands.
enable_ssl() {
    local dir=$1 tls=$2 owner=$3
    install -m 600 -o "$owner" "$tls/server.key" "$dir/data/server.key"
    install -m 644 -o "$owner" "$tls/server.crt" "$dir/data/server.crt"
    cat >>"$dir/data/postgresql.conf" <<EOF

# pg-tmp.sh --ssl: TLS on 127.0.0.1 as well
listen_addresses = '127.0.0.1'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
EOF
    printf '%s\n' '# pg-tmp.sh --ssl: the socket as initdb set it, TCP only over TLS' \
        'local all all trust' 'hostssl all all 127.0.0.1/32 trust' \
        'hostnossl all all 0.0.0.0/0 reject' >"$dir/data/pg_hba.conf"
}

cmd_start() {
    local dir=$1 tls=${2:-} owner port conninfo sock

    [[ -x $PG_BINDIR/initdb && -x $PG_BINDIR/pg_ctl ]] ||
        die "PostgreSQL binaries not found in $PG_BINDIR (install postgresql-15 or set PG_BINDIR)"
    if [[ -e $dir ]]; then
        [[ -d $dir ]] || die "$dir exists and is not a directory"
        [[ -z $(ls -A "$dir") ]] || die "$dir exists and is not empty; pass a new or empty directory"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P) # libpq needs an absolute socket directory
    : >"$dir/$MARKER"
    # DIR goes unquoted into a conninfo string and into postgresql.conf.
    [[ $dir =~ ^[A-Za-z0-9/._+-]+$ ]] ||
        die "$dir: only letters, digits and / . _ + - are supported in the directory name"

    # unix socket paths are limited to 107 bytes: DIR/.s.PGSQL.NNNNN.lock
    sock="$dir/.s.PGSQL.00000.lock"
    ((${#sock} <= 107)) ||
        die "$dir is too long for a unix socket path (${#sock} > 107 bytes); use a shorter directory such as one from mktemp -d"

    if [[ $EUID -eq 0 ]]; then
        owner=postgres
        id -u postgres >/dev/null 2>&1 ||
            die "running as root, but there is no \"postgres\" OS user to run the server as (install the postgresql package)"
        chmod 755 "$dir"
        chown postgres: "$dir" "$dir/$MARKER"
        runuser -u postgres -- test -w "$dir" -a -x "$dir" ||
            die "the postgres user cannot enter $dir: a parent directory is not traversable (mode 0700, like /root?); use a directory under /tmp"
    else
        owner=$(id -un)
        chmod 755 "$dir"
    fi
    # initdb and pg_ctl resolve paths relative to the working directory and
    # warn when it is unreadable to them (e.g. /root as the postgres user).
    cd "$dir"

    if ! as_pg_user "$PG_BINDIR/initdb" -D "$dir/data" -E UTF8 --locale=C.UTF-8 \
        -A trust -U postgres --no-instructions >"$dir/initdb.log" 2>&1; then
        echo "$PROG: initdb output:" >&2
        sed 's/^/    /' "$dir/initdb.log" >&2
        die "initdb into $dir/data as user $owner failed"
    fi

    port=$(pick_port "$dir")
    cat >>"$dir/data/postgresql.conf" <<EOF

# pg-tmp.sh: unix socket only, in the test directory
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
EOF
    [[ -z $tls ]] || enable_ssl "$dir" "$tls" "$owner"

    # If anything after this point fails, do not leave a server behind.
    START_DIR=$dir
    trap stop_half_started EXIT

    local attempt
    for ((attempt = 1; ; attempt++)); do
        if as_pg_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
            -w -t 60 start >"$dir/pg_ctl.log" 2>&1; then
            break
        fi
        # The port was taken after pick_port looked: another one, a few times.
        if ((attempt < 5)) && grep -q "Address already in use" "$dir/postgres.log" 2>/dev/null; then
            port=$(pick_port "$dir")
            sed -i "s/^port = [0-9]*\$/port = $port/" "$dir/data/postgresql.conf"
            continue
        fi
        sed 's/^/    /' "$dir/pg_ctl.log" >&2
        show_log "$dir"
        die "PostgreSQL did not start in $dir (port $port, user $owner)"
    done
    START_STARTED=1

    if ! "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres \
        -d postgres -c 'CREATE DATABASE pmhc' >"$dir/createdb.log" 2>&1; then
        sed 's/^/    /' "$dir/createdb.log" >&2
        show_log "$dir"
        die "cannot create database pmhc on the server in $dir (port $port)"
    fi

    conninfo="host=$dir port=$port dbname=pmhc user=postgres"
    echo "$port" >"$dir/port"
    [[ -z $tls ]] || echo "host=localhost port=$port dbname=pmhc user=postgres sslmode=verify-full sslrootcert=$tls/ca.crt" >"$dir/conninfo.ssl"
    echo "$conninfo" >"$dir/conninfo.tmp"
    mv -f "$dir/conninfo.tmp" "$dir/conninfo"
    trap - EXIT # success: keep the server running
    echo "$conninfo"
}

# Is the postmaster of data directory $1 alive? pg_ctl's own test, kill(pid, 0),
# also succeeds for a crashed postmaster that is a zombie not yet reaped (as
# under a container init that reaps lazily), and pg_ctl then waits in vain.
postmaster_running() {
    local pid state
    pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/stat ]] || return 1
    # field 3 of /proc/PID/stat, after the parenthesised command name
    state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $state != Z && $state != X ]]
}

cmd_stop() {
    local dir=$1

    if [[ ! -e $dir ]]; then
        return 0
    fi
    [[ -d $dir ]] || die "$dir is not a directory"
    if [[ ! -e $dir/$MARKER && -n $(ls -A "$dir") ]]; then
        die "$dir was not made by '$PROG start' (no $MARKER file); refusing to delete it"
    fi
    dir=$(cd "$dir" && pwd -P)
    cd /

    if [[ -f $dir/data/postmaster.pid ]]; then
        if postmaster_running "$dir/data"; then
            if ! as_pg_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop \
                >/dev/null 2>"$dir/pg_ctl-stop.log"; then
                sed 's/^/    /' "$dir/pg_ctl-stop.log" >&2
                echo "$PROG: fast shutdown failed; trying immediate shutdown" >&2
                as_pg_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop \
                    >/dev/null 2>&1 || {
                    show_log "$dir"
                    die "cannot stop the server in $dir; not removing it"
                }
            fi
        fi
    fi
    rm -rf -- "$dir"
}

main() {
    if [[ $# -ge 1 && ($1 == -h || $1 == --help) ]]; then
        usage
        exit 0
    fi
    local tls=
    if [[ $# -eq 4 && $1 == start && $3 == --ssl && -n $4 ]]; then
        for f in server.key server.crt ca.crt; do
            [[ -r $4/$f ]] || die "--ssl $4: no readable $f there"
        done
        tls=$(cd "$4" && pwd -P)
        [[ $tls =~ ^[A-Za-z0-9/._+-]+$ ]] ||
            die "--ssl $tls: only letters, digits and / . _ + - are supported in the directory name"
        set -- "$1" "$2"
    fi
    if [[ $# -ne 2 || -z $2 ]]; then
        usage >&2
        exit 2
    fi
    case $1 in
    start) cmd_start "$2" "$tls" ;;
    stop) cmd_stop "$2" ;;
    *)
        echo "$PROG: unknown command \"$1\"" >&2
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
