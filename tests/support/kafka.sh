#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run from traps
# kafka.sh — a throw-away Apache Kafka cluster (KRaft, 1 or 3 nodes) on
# 127.0.0.1 for the tests, the demo and the benchmarks. Run "kafka.sh --help"
# for the whole manual; in short:
#
#   kafka.sh fetch [--version V]       download the broker into the cache (once)
#   kafka.sh start DIR [--brokers N] [--partitions N] [--topic NAME]...
#                      [--topic-partitions NAME=N]... [--tls TLSDIR [--acl] [--sasl-user NAME]...]
#                      [--version V]
#   kafka.sh acls DIR ARGS...          Kafka's kafka-acls.sh (AclCommand), ARGS as given
#   kafka.sh stop DIR                  stop every broker and remove DIR
#   kafka.sh kill DIR N                SIGKILL broker N
#   kafka.sh down DIR N                stop broker N (SIGTERM, then SIGKILL)
#   kafka.sh up DIR N                  start broker N again, same port and data
#   kafka.sh leader DIR TOPIC PART     print the id of the partition's leader
#   kafka.sh coordinator DIR GROUP     print the id of the group's coordinator
#
# The broker is Apache Kafka from Maven Central, pinned in kafka/pom.xml next
# to this script (4.4, the default), or in kafka-3.9/pom.xml with --version 3.9
# (the last 3.x line, for the SCRAM test: see that pom), run as
# "java -cp 'CACHE/lib/*' kafka.Kafka". Each node is a combined broker and
# controller; nothing listens beyond 127.0.0.1.
set -euo pipefail

readonly PROG=kafka.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly HERE
REPO_BUILD=$(cd "$HERE/../.." && pwd -P)/build
readonly REPO_BUILD
readonly DEFAULT_VERSION=4.4
readonly MARKER=.kafka-tmp
readonly DEFAULT_TOPICS=(cad.calls cad.units cad.dispositions cad.history pmhc.recommendations pmhc.dlq)
readonly MAX_BROKERS=5

# Set by use_version: the release line, its pom, its cache, and the JVM
# options that point its logging at the configuration next to the pom.
VERSION='' POM='' CACHE='' LOG_BROKER='' LOG_TOOLS=''
START_TIMEOUT=${PMHC_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${PMHC_KAFKA_STOP_TIMEOUT:-10}
HEAP_OPTS=${PMHC_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
JVM_OPTS=${PMHC_KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1}

usage() {
    cat <<EOF
Usage: $PROG fetch [--version V]
       $PROG start DIR [--brokers N] [--partitions N] [--topic NAME]...
                       [--topic-partitions NAME=N]... [--tls TLSDIR [--acl]
                       [--sasl-user NAME]...] [--version V]
       $PROG acls DIR ARGS...
       $PROG stop DIR
       $PROG kill DIR N
       $PROG down DIR N
       $PROG up DIR N
       $PROG leader DIR TOPIC PARTITION
       $PROG coordinator DIR GROUP
Run a throw-away Apache Kafka cluster (KRaft) on 127.0.0.1, data in DIR.

Commands
  fetch   Download Kafka and what it needs at run time (kafka/pom.xml beside
          this script) from Maven Central into the cache, with
              mvn -q -f kafka/pom.xml dependency:copy-dependencies
          and the Maven repository inside the cache too (so ~/.m2 is not
          touched). A stamp records the pom it fetched: while the pom is
          unchanged, fetch runs no mvn at all. "start" fetches when needed.
            --version V      the release line: 4.4 (default, kafka/pom.xml) or
                             3.9 (kafka-3.9/pom.xml, a cache of its own)

  start DIR
          Create DIR (new or empty), format KRaft storage for each node, start
          the nodes (each a combined broker and controller) on free loopback
          ports, wait until every broker answers, create the topics and wait
          until each partition has a leader. Prints the bootstrap servers.
            --brokers N      nodes in the cluster, 1 to $MAX_BROKERS (default 1). With
                             3 or more: topics, __consumer_offsets and the
                             transaction log get 3 replicas and
                             min.insync.replicas=2, unclean leader election
                             stays off; with 1: a single replica.
            --partitions N   partitions of each topic (default 4)
            --topic NAME     create topic NAME (repeatable); replaces the
                             default list: ${DEFAULT_TOPICS[*]:0:3}
                             ${DEFAULT_TOPICS[*]:3}
            --topic-partitions NAME=N
                             give topic NAME (one of the list) N partitions
                             instead of --partitions (repeatable)
            --tls TLSDIR     also open a SASL_SSL listener on each node (a port
                             of its own, 127.0.0.1), SCRAM-SHA-512 or PLAIN, with
                             the PEM files TLSDIR/server.key (PKCS#8, not
                             encrypted) and TLSDIR/server.crt; the SCRAM user
                             "pmhc" is created when the storage is formatted,
                             with a random password (DIR/sasl.password). The
                             PLAINTEXT listener stays for the brokers among
                             themselves and for this script's own checks.
                             librdkafka before 2.6.1 (Debian 12: 2.0.2) can log
                             in with SCRAM only to 3.9, with PLAIN to both.
            --sasl-user NAME with --tls: one more PLAIN user NAME (letters,
                             digits, _) on the SASL_SSL listener, with a random
                             password in DIR/users/NAME (0600); repeatable
            --acl            with --tls: an authorizer on every node (KRaft's
                             StandardAuthorizer, allow.everyone.if.no.acl.found
                             =false), so a SASL_SSL client may do only what an
                             ACL allows it. Super users: User:admin, a PLAIN
                             user made for it (DIR/users/admin), and
                             User:ANONYMOUS, who is everyone on the PLAINTEXT
                             and controller listeners (the nodes among
                             themselves and this script's checks; 127.0.0.1
                             only). Writes DIR/admin.properties, the client
                             config of kafka-acls.sh --command-config for the
                             admin over SASL_SSL; it trusts TLSDIR/ca.crt, which
                             --acl needs beside server.crt.
            --version V      run Kafka V: 4.4 (default) or 3.9, fetched into its
                             own cache when needed; DIR/version records it, so
                             that "up" restarts a node with the same release.
                             Both take the same server.properties and the same
                             StorageTool format flags (a static quorum,
                             controller.quorum.voters, needs no --standalone).

  acls DIR ARGS...
          Run Kafka's kafka-acls.sh (its class AclCommand, from the cache of
          DIR's release) with ARGS unchanged: a stand-in for bin/kafka-acls.sh,
          which the jars from Maven Central do not include. Against a cluster
          started with --acl, e.g.
              $PROG acls DIR --bootstrap-server "\$(cat DIR/bootstrap.tls)" \\
                  --command-config DIR/admin.properties --list

  stop DIR
          Stop every node (SIGTERM; SIGKILL after \$PMHC_KAFKA_STOP_TIMEOUT
          seconds), make sure no process of DIR is left, and remove DIR. Fine
          when nothing runs. Refuses a DIR that "start" did not make.

  kill DIR N
          SIGKILL node N (1 to the number of nodes) and wait until it is gone.

  down DIR N
          Stop node N as "stop" does, keeping its data and port.

  up DIR N
          Start node N again on the same ports and data, and wait until it is
          back in the cluster's metadata.

  leader DIR TOPIC PARTITION
          Print the node id of the partition's leader, as the cluster's
          metadata has it (kcat -L); exit 1 if the partition has none (-1).

  coordinator DIR GROUP
          Print the node id of the broker that coordinates consumer group
          GROUP (pmhc-kafka-coordinator, from \$PMHC_KAFKA_COORDINATOR);
          exit 1 if the cluster does not say within 10 s.

Each node is sized for a 2-core machine running tests next to it (heap below,
SerialGC, 1 network and 2 I/O threads, few background threads) and set up for
quick tests: a consumer group's first join is not delayed, consumer sessions
may be as short as 1 s, a node that stops heartbeating is fenced after 4 s,
and no topic is created by a client naming it. broker-N/server.properties has
it all.

Files in DIR
  bootstrap        bootstrap.servers, e.g. 127.0.0.1:PORT[,127.0.0.1:PORT...]
  bootstrap.tls    with --tls: the SASL_SSL listeners, same form
  sasl.password    with --tls: the password of SCRAM-SHA-512 user "pmhc" (0600)
  users/NAME       the password of PLAIN user NAME (--sasl-user; admin with --acl)
  admin.properties with --acl: kafka-acls.sh --command-config of User:admin
  pids             "N PID" for each running node
  version          the release line (4.4 or 3.9)
  cluster.id       the KRaft cluster id;  brokers: the number of nodes
  broker-N/        server.properties, port, controller.port, pid, data/ (the
                   log and metadata), logs/server.log (the broker's log),
                   console.log (the JVM's own output: startup errors)

Files in the cache
  lib/             the jars;  stamp: the sha256 of the pom they came from
  m2/              Maven's repository for them
  format/          KRaft storage formatted once per node id and copied into
                   each new cluster, with the cluster.id they share

Environment
  PMHC_KAFKA_CACHE          cache of fetch (default: <repo>/build/kafka-dist)
  PMHC_KAFKA_CACHE_3_9      cache of fetch for 3.9 (default: \$PMHC_KAFKA_CACHE
                            with "-3.9" added, <repo>/build/kafka-dist-3.9)
  PMHC_KAFKA_VERSION        release line when no --version is given (default 4.4)
  PMHC_KAFKA_ADMIN          pmhc-kafka-admin, which creates the topics in one
                            request (built in BUILD/tests/support/); without
                            it Kafka's TopicCommand does, one JVM per topic
  PMHC_KAFKA_HEAP_OPTS      heap of each node (default: -Xms256m -Xmx512m)
  PMHC_KAFKA_JVM_OPTS       other JVM options of each node (default:
                            -XX:+UseSerialGC -XX:TieredStopAtLevel=1, for a
                            quick start on few cores; the benchmarks drop
                            TieredStopAtLevel for full speed)
  PMHC_KAFKA_START_TIMEOUT  seconds "start" and "up" wait (default 90)
  PMHC_KAFKA_STOP_TIMEOUT   seconds before SIGKILL (default 10)
  JAVA_HOME                 where java is (default: java on PATH)

Needs java 17 or later, kcat, and for fetch mvn (Debian: default-jre-headless,
kcat, maven; scripts/install-deps.sh installs them).

Exit status: 0 on success, 1 on failure (with the cause, and the end of the
broker's log when it has one), 2 on a usage error.

Examples
  kafka.sh start /tmp/k --brokers 3       # prints 127.0.0.1:P1,127.0.0.1:P2,...
  kcat -L -b "\$(cat /tmp/k/bootstrap)"
  kafka.sh kill /tmp/k "\$(kafka.sh leader /tmp/k cad.calls 0)"
  kafka.sh leader /tmp/k cad.calls 0      # another node leads it now
  kafka.sh stop /tmp/k
EOF
}

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}

usage_error() {
    echo "$PROG: $*" >&2
    echo "Try '$PROG --help' for more information." >&2
    exit 2
}

note() {
    echo "$PROG: $*" >&2
}

java_bin() {
    if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
        echo "$JAVA_HOME/bin/java"
    elif command -v java >/dev/null 2>&1; then
        command -v java
    else
        die "java not found (install default-jre-headless, or run scripts/install-deps.sh)"
    fi
}

# --- fetch ----------------------------------------------------------------------

# Choose the Kafka release line: 4.4 (the default, ../kafka/pom.xml) or 3.9
# (kafka-3.9/pom.xml), kept only because Kafka 3.x still accepts the SCRAM proof
# of librdkafka before 2.6.1 (see kafka-3.9/pom.xml). Each has its own cache,
# so switching never fetches again; 3.9 logs through log4j 1 (reload4j).
use_version() {
    case $1 in
    4.4)
        POM=$HERE/kafka/pom.xml
        CACHE=${PMHC_KAFKA_CACHE:-$REPO_BUILD/kafka-dist}
        LOG_BROKER=-Dlog4j2.configurationFile=$HERE/kafka/log4j2.properties
        LOG_TOOLS=-Dlog4j2.configurationFile=$HERE/kafka/log4j2-tools.properties
        ;;
    3.9)
        POM=$HERE/kafka-3.9/pom.xml
        CACHE=${PMHC_KAFKA_CACHE_3_9:-${PMHC_KAFKA_CACHE:-$REPO_BUILD/kafka-dist}-3.9}
        LOG_BROKER=-Dlog4j.configuration=file:$HERE/kafka-3.9/log4j.properties
        LOG_TOOLS=-Dlog4j.configuration=file:$HERE/kafka-3.9/log4j-tools.properties
        ;;
    *)
        usage_error "Kafka version \"$1\": expected 4.4 (the default) or 3.9"
        ;;
    esac
    VERSION=$1
}

pom_sum() {
    sha256sum "$POM" | cut -d' ' -f1
}

fetched() {
    [[ -f $CACHE/stamp && -d $CACHE/lib && $(<"$CACHE/stamp") == "$(pom_sum)" ]]
}

cmd_fetch() {
    local out rc
    [[ -f $POM ]] || die "$POM is missing"
    fetched && return 0
    command -v flock >/dev/null 2>&1 || die "flock not found (install util-linux)"
    mkdir -p "$CACHE" || die "cannot create the cache $CACHE"
    # One fetch at a time per cache: a second one waits, then finds it done.
    exec 9>"$CACHE/.lock"
    flock 9
    if fetched; then
        exec 9>&-
        return 0
    fi
    command -v mvn >/dev/null 2>&1 ||
        die "mvn not found: it fetches Kafka into $CACHE (install maven, or run scripts/install-deps.sh)"
    note "fetching Apache Kafka ($(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")) into $CACHE"
    rm -rf -- "$CACHE/lib.new"
    rc=0
    out=$(mvn -B -q -ntp -U -f "$POM" -Dmaven.repo.local="$CACHE/m2" \
        dependency:copy-dependencies -DoutputDirectory="$CACHE/lib.new" 2>&1) || rc=$?
    if ((rc != 0)) || ! compgen -G "$CACHE/lib.new/kafka_2.13-*.jar" >/dev/null; then
        [[ -n $out ]] && printf '    %s\n' "${out//$'\n'/$'\n'    }" >&2
        rm -rf -- "$CACHE/lib.new"
        die "mvn could not fetch Kafka (exit $rc; is Maven Central reachable?)"
    fi
    # Maven leaves target/ next to the pom: not in the source tree, please.
    rm -rf -- "$(dirname "$POM")/target"
    rm -rf -- "${CACHE:?}/lib" "${CACHE:?}/format"
    mv "$CACHE/lib.new" "$CACHE/lib"
    pom_sum >"$CACHE/stamp"
    exec 9>&-
    note "fetched $(find "$CACHE/lib" -name '*.jar' | wc -l) jars"
}

# --- processes ------------------------------------------------------------------

# Is $1 a live (not zombie) process of node $3 of DIR $2? A pid file can
# outlive its process and the pid be reused; a killed broker whose parent has
# gone stays a zombie until init reaps it, and kill -0 still succeeds then.
node_alive() {
    local pid=$1 dir=$2 n=$3 state
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/stat ]] || return 1
    state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $state != Z && $state != X ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/broker-$n/server.properties"
}

node_pid() {
    local f=$1/broker-$2/pid
    [[ -s $f ]] && cat "$f"
}

write_pids() {
    local dir=$1 n pid out=
    for ((n = 1; n <= $(<"$dir/brokers"); n++)); do
        pid=$(node_pid "$dir" "$n") || continue
        node_alive "$pid" "$dir" "$n" && out+="$n $pid"$'\n'
    done
    printf '%s' "$out" >"$dir/pids.tmp"
    mv -f "$dir/pids.tmp" "$dir/pids"
}

show_log() {
    local dir=$1 n=$2 f
    for f in "$dir/broker-$n/console.log" "$dir/broker-$n/logs/server.log"; do
        if [[ -s $f ]]; then
            note "last lines of $f:"
            grep -v '^\s*$' "$f" | tail -n 15 | sed 's/^/    /' >&2
        fi
    done
}

# Start node N of DIR in the background; its pid goes to broker-N/pid.
launch() {
    local dir=$1 n=$2 java pid
    java=$(java_bin)
    mkdir -p "$dir/broker-$n/logs"
    # Not setsid: the node stays in the caller's process group, so that a test
    # runner that kills the group (meson on a timeout) takes the brokers too.
    # shellcheck disable=SC2086  # the option strings are word lists
    (
        cd "$dir/broker-$n"
        exec "$java" $HEAP_OPTS $JVM_OPTS -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError \
            -Djava.awt.headless=true -Dkafka.logs.dir="$dir/broker-$n/logs" \
            "$LOG_BROKER" \
            -cp "$CACHE/lib/*" kafka.Kafka "$dir/broker-$n/server.properties"
    ) </dev/null >>"$dir/broker-$n/console.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/broker-$n/pid"
}

# Send SIGTERM to the given nodes of DIR, wait up to STOP_TIMEOUT seconds for
# all, then SIGKILL whatever is left and wait for it to be gone.
stop_nodes() {
    local dir=$1 n pid i left
    shift
    local -A pids=()
    for n in "$@"; do
        pid=$(node_pid "$dir" "$n") || continue
        if node_alive "$pid" "$dir" "$n"; then
            pids[$n]=$pid
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        left=0
        for n in "${!pids[@]}"; do
            node_alive "${pids[$n]}" "$dir" "$n" && left=1
        done
        ((left)) || break
        sleep 0.1
    done
    for n in "${!pids[@]}"; do
        if node_alive "${pids[$n]}" "$dir" "$n"; then
            note "broker $n (pid ${pids[$n]}) still running ${STOP_TIMEOUT} s after SIGTERM; killing it"
            kill -KILL "${pids[$n]}" 2>/dev/null || true
        fi
    done
    kill_wait "$dir" "${!pids[@]}"
    for n in "${!pids[@]}"; do
        rm -f "$dir/broker-$n/pid"
    done
}

# Wait (up to 10 s) until the given nodes of DIR are gone after a SIGKILL.
kill_wait() {
    local dir=$1 n i left pid
    shift
    for ((i = 0; i < 100; i++)); do
        left=0
        for n in "$@"; do
            pid=$(node_pid "$dir" "$n") || continue
            node_alive "$pid" "$dir" "$n" && left=1
        done
        ((left)) || return 0
        sleep 0.1
    done
    die "broker(s) $* of $dir still running 10 s after SIGKILL"
}

# --- ports ----------------------------------------------------------------------

# A random TCP port on 127.0.0.1 that nothing listens on, below the kernel's
# range for outgoing connections (so that no client grabs it before the
# broker binds it, or while a broker is down for "up"), and not in $USED.
USED=" "
pick_port() {
    local low=20000 high port tries range
    range=$(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo "32768 60999")
    high=$((${range%%[[:space:]]*} - 1))
    ((high > low + 1000)) || high=32767
    for ((tries = 0; tries < 200; tries++)); do
        port=$((low + (RANDOM * 32768 + RANDOM) % (high - low + 1)))
        [[ $USED == *" $port "* ]] && continue
        if command -v ss >/dev/null 2>&1; then
            ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && continue
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            continue
        fi
        USED+="$port "
        echo "$port"
        return 0
    done
    die "no free port found in $low-$high after 200 tries"
}

# --- start ----------------------------------------------------------------------

# server.properties of node N of an M-node cluster in DIR.
write_config() {
    local dir=$1 n=$2 m=$3 voters=$4 rf min_isr partitions=$5
    rf=$((m < 3 ? m : 3))
    min_isr=$((rf >= 3 ? 2 : 1))
    cat >"$dir/broker-$n/server.properties" <<EOF
# kafka.sh: node $n of $m, a combined broker and controller on 127.0.0.1.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(<"$dir/broker-$n/port"),CONTROLLER://127.0.0.1:$(<"$dir/broker-$n/controller.port")
advertised.listeners=PLAINTEXT://127.0.0.1:$(<"$dir/broker-$n/port")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/broker-$n/data

# Replication: $rf replica(s), writes acknowledged by all need $min_isr in sync.
default.replication.factor=$rf
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
unclean.leader.election.enable=false
# Topics are made by kafka.sh start, never by a client naming one by mistake.
auto.create.topics.enable=false
num.partitions=$partitions

# Sized for a 2-core machine running several of these next to the tests.
num.network.threads=1
num.io.threads=2
background.threads=2
num.replica.fetchers=1
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
share.coordinator.state.topic.num.partitions=4

# Quick tests: a consumer group's first join is not held back, a consumer may
# have a short session, and a node that stops heartbeating is fenced within
# seconds.
group.initial.rebalance.delay.ms=0
# Tests that kill a consumer shorten its session below the default floor (6 s).
group.min.session.timeout.ms=1000
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000
replica.lag.time.max.ms=10000
EOF
}

# With --tls: a SASL_SSL listener beside PLAINTEXT (which the nodes keep among
# themselves, and this script for its checks), appended to server.properties,
# where a later line wins. The key and its certificate chain go into one PEM
# keystore, as Kafka reads it; the CA is the client's business.
write_tls_config() {
    local dir=$1 n=$2 tls=$3 b=$1/broker-$2
    cat "$tls/server.key" "$tls/server.crt" >"$b/keystore.pem"
    chmod 600 "$b/keystore.pem"
    cat >>"$b/server.properties" <<EOF

# kafka.sh --tls: clients may also come in over SASL_SSL, as user pmhc with
# SCRAM-SHA-512 or PLAIN. PLAIN because librdkafka before 2.6.1 (Debian 12 has
# 2.0.2) sends a SCRAM proof that Kafka 4 refuses (librdkafka issue 4895);
# Kafka 3.9 (kafka.sh --version 3.9) accepts it.
listeners=PLAINTEXT://127.0.0.1:$(<"$b/port"),CONTROLLER://127.0.0.1:$(<"$b/controller.port"),SASL_SSL://127.0.0.1:$(<"$b/tls.port")
advertised.listeners=PLAINTEXT://127.0.0.1:$(<"$b/port"),SASL_SSL://127.0.0.1:$(<"$b/tls.port")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_pmhc="$(<"$dir/sasl.password")"$(plain_users "$dir");
ssl.keystore.type=PEM
ssl.keystore.location=$b/keystore.pem
ssl.client.auth=none
EOF
    [[ ! -e $dir/admin.properties ]] || cat >>"$b/server.properties" <<EOF

# kafka.sh --acl: a SASL_SSL client may do only what an ACL allows it. The
# nodes talk among themselves, and this script checks them, as ANONYMOUS over
# PLAINTEXT and CONTROLLER (127.0.0.1 only): a super user, like admin.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:ANONYMOUS;User:admin
EOF
}

# The JAAS options of the PLAIN users of --sasl-user and --acl: ' user_NAME="PASSWORD"'...
plain_users() {
    local f
    [[ -d $1/users ]] || return 0
    for f in "$1"/users/*; do
        printf ' user_%s="%s"' "${f##*/}" "$(<"$f")"
    done
}

# With --acl: the admin's client config for kafka-acls.sh --command-config, over
# SASL_SSL, trusting the CA that signed the brokers' certificate.
write_admin_properties() {
    local dir=$1 tls=$2
    (
        umask 077
        cat >"$dir/admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$(<"$dir/users/admin")";
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.crt
EOF
    )
}

# Random passwords for PLAIN users $2...: base64 less + / =, so no quoting is needed anywhere.
make_users() {
    local dir=$1 u
    shift
    mkdir -p "$dir/users"
    for u in "$@"; do
        (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' 'xy' >"$dir/users/$u")
    done
}

# With --tls: format each node's storage afresh (not from the shared templates),
# with the SCRAM-SHA-512 credentials of user "pmhc" in the initial metadata, so
# that a client can log in as soon as the broker answers.
format_with_scram() {
    local dir=$1 m=$2 n java cid pw rc=0
    local -a fpids=()
    java=$(java_bin)
    # A random id may begin with "-": given as --cluster-id=ID, not taken for an option.
    head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' >"$dir/cluster.id"
    cid=$(<"$dir/cluster.id")
    pw=$(<"$dir/sasl.password")
    for ((n = 1; n <= m; n++)); do
        "$java" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
            "$LOG_TOOLS" -cp "$CACHE/lib/*" kafka.tools.StorageTool \
            format --cluster-id="$cid" --config "$dir/broker-$n/server.properties" \
            --add-scram "SCRAM-SHA-512=[name=pmhc,password=$pw]" >"$dir/broker-$n/format.log" 2>&1 &
        fpids[n]=$!
    done
    for n in "${!fpids[@]}"; do
        if ! wait "${fpids[n]}" || [[ ! -f $dir/broker-$n/data/meta.properties ]]; then
            sed 's/^/    /' "$dir/broker-$n/format.log" >&2
            rc=1
        fi
    done
    ((rc == 0)) || die "formatting KRaft storage with SCRAM credentials failed (see above)"
}

# Does something accept TCP connections on 127.0.0.1:$1? Cheap to ask often,
# unlike kcat, which waits out its whole timeout while the port is closed.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Make sure CACHE/format/node-N holds the formatted KRaft storage (log.dirs) of
# nodes 1 to M, formatting the missing ones in parallel from the server
# .properties of DIR. The quorum is static (controller.quorum.voters), which
# format does not record, so the files are the same for every cluster of this
# Kafka release: format once per cache (a JVM, 0.7 s of CPU), copy after. All
# clusters of one cache share a cluster id; each has its own ports and never
# reaches another. "fetch" drops the templates with the old release.
format_templates() {
    local dir=$1 m=$2 n java cid tmp rc=0
    local -a fpids=() tmps=()
    mkdir -p "$CACHE/format"
    if [[ ! -s $CACHE/format/cluster.id ]]; then
        head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' >"$CACHE/format/cluster.id.$$"
        mv -n "$CACHE/format/cluster.id.$$" "$CACHE/format/cluster.id" # the first one wins
        rm -f "$CACHE/format/cluster.id.$$"
    fi
    cid=$(<"$CACHE/format/cluster.id")
    java=$(java_bin)
    for ((n = 1; n <= m; n++)); do
        [[ -f $CACHE/format/node-$n/meta.properties ]] && continue
        tmp=$(mktemp -d "$CACHE/format/.node-$n.XXXXXX")
        sed "s|^log.dirs=.*|log.dirs=$tmp/data|" "$dir/broker-$n/server.properties" >"$tmp/server.properties"
        "$java" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
            "$LOG_TOOLS" -cp "$CACHE/lib/*" kafka.tools.StorageTool \
            format --cluster-id="$cid" --config "$tmp/server.properties" >"$tmp/format.log" 2>&1 &
        fpids[n]=$!
        tmps[n]=$tmp
    done
    for n in "${!fpids[@]}"; do
        tmp=${tmps[n]}
        if wait "${fpids[n]}" && [[ -f $tmp/data/meta.properties ]]; then
            # Another start may have made it meanwhile: then keep that one.
            mv -T "$tmp/data" "$CACHE/format/node-$n" 2>/dev/null || true
        else
            sed 's/^/    /' "$tmp/format.log" >&2
            rc=1
        fi
        rm -rf -- "$tmp"
    done
    ((rc == 0)) || die "formatting KRaft storage with $CACHE/lib failed (is it complete? try removing $CACHE/stamp)"
}

# Wait until the cluster's metadata (asked of any node in $bootstrap) lists $m
# brokers and, if topics are given, each has all its partitions with a leader.
# $1 bootstrap servers, $2 number of brokers, then "name=partitions" words.
metadata_ready() {
    local bootstrap=$1 m=$2 meta t name parts
    shift 2
    meta=$(timeout 10 kcat -L -b "$bootstrap" -m 3 2>/dev/null) || return 1
    grep -q "^ $m brokers:" <<<"$meta" || return 1
    for t in "$@"; do
        name=${t%=*}
        parts=${t##*=}
        grep -qF "  topic \"$name\" with $parts partitions:" <<<"$meta" || return 1
    done
    ! grep -q 'leader -1,' <<<"$meta"
}

create_topics() {
    local dir=$1 bootstrap=$2 rf=$3 java t tpids=() p rc=0
    shift 3
    if [[ -n ${PMHC_KAFKA_ADMIN:-} ]]; then
        [[ -x $PMHC_KAFKA_ADMIN ]] || die "PMHC_KAFKA_ADMIN=$PMHC_KAFKA_ADMIN is not an executable"
        "$PMHC_KAFKA_ADMIN" -b "$bootstrap" -r "$rf" -w "$START_TIMEOUT" "$@" \
            >"$dir/create-topics.log" 2>&1 || {
            sed 's/^/    /' "$dir/create-topics.log" >&2
            return 1
        }
        return 0
    fi
    # Kafka's own tool, one JVM per topic, two at a time (2 cores).
    java=$(java_bin)
    for t in "$@"; do
        "$java" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
            "$LOG_TOOLS" -cp "$CACHE/lib/*" \
            org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create \
            --if-not-exists --topic "${t%=*}" --partitions "${t##*=}" --replication-factor "$rf" \
            >>"$dir/create-topics.log" 2>&1 &
        tpids+=($!)
        if ((${#tpids[@]} >= 2)); then
            wait "${tpids[0]}" || rc=1
            tpids=("${tpids[@]:1}")
        fi
    done
    for p in "${tpids[@]}"; do
        wait "$p" || rc=1
    done
    if ((rc != 0)); then
        grep -v '^WARNING: Due to limitations in metric names' "$dir/create-topics.log" |
            sed 's/^/    /' >&2
    fi
    return "$rc"
}

all_ports_open() {
    local dir=$1 m=$2 n
    for ((n = 1; n <= m; n++)); do
        port_open "$(<"$dir/broker-$n/port")" || return 1
    done
}

# EXIT trap of a failing "start": stop the nodes it started.
START_DIR=
stop_half_started() {
    local n
    [[ -n $START_DIR && -f $START_DIR/brokers ]] || return 0
    for ((n = 1; n <= $(<"$START_DIR/brokers"); n++)); do
        show_log "$START_DIR" "$n"
    done
    stop_nodes "$START_DIR" $(seq 1 "$(<"$START_DIR/brokers")") >/dev/null 2>&1 || true
    rm -f "$START_DIR/pids"
}

cmd_start() {
    local dir=$1 brokers=1 partitions=4 topics=() own=() t n found i tls='' acl=0 users=()
    shift
    while [[ $# -gt 0 ]]; do
        case $1 in
        --brokers | --partitions)
            [[ $# -ge 2 ]] || usage_error "$1 needs a number"
            [[ $2 =~ ^[1-9][0-9]*$ ]] || usage_error "$1: \"$2\" is not a positive integer"
            if [[ $1 == --brokers ]]; then brokers=$2; else partitions=$2; fi
            shift 2
            ;;
        --brokers=* | --partitions=*)
            t=${1#*=}
            [[ $t =~ ^[1-9][0-9]*$ ]] || usage_error "${1%%=*}: \"$t\" is not a positive integer"
            if [[ $1 == --brokers=* ]]; then brokers=$t; else partitions=$t; fi
            shift
            ;;
        --topic)
            [[ $# -ge 2 && $2 =~ ^[A-Za-z0-9._-]+$ ]] ||
                usage_error "--topic needs a NAME of letters, digits and . _ -"
            topics+=("$2")
            shift 2
            ;;
        --topic-partitions)
            [[ $# -ge 2 && $2 =~ ^[^=]+=[1-9][0-9]*$ ]] || usage_error "--topic-partitions needs NAME=N"
            own+=("$2")
            shift 2
            ;;
        --version)
            [[ $# -ge 2 ]] || usage_error "--version needs 4.4 or 3.9"
            use_version "$2"
            shift 2
            ;;
        --version=*)
            use_version "${1#*=}"
            shift
            ;;
        --tls)
            [[ $# -ge 2 ]] || usage_error "--tls needs a directory"
            for t in server.key server.crt; do
                [[ -r $2/$t ]] || usage_error "--tls $2: no readable $t there"
            done
            tls=$(cd "$2" && pwd -P)
            shift 2
            ;;
        --acl)
            acl=1
            shift
            ;;
        --sasl-user)
            [[ $# -ge 2 && $2 =~ ^[A-Za-z0-9_]+$ && $2 != admin && $2 != pmhc ]] ||
                usage_error "--sasl-user needs a NAME of letters, digits and _ (not admin or pmhc)"
            users+=("$2")
            shift 2
            ;;
        *)
            usage_error "start: unexpected argument \"$1\""
            ;;
        esac
    done
    ((brokers <= MAX_BROKERS)) || usage_error "--brokers $brokers: at most $MAX_BROKERS"
    ((partitions <= 1024)) || usage_error "--partitions $partitions: at most 1024"
    ((${#topics[@]})) || topics=("${DEFAULT_TOPICS[@]}")
    [[ -n $tls || (acl -eq 0 && ${#users[@]} -eq 0) ]] || usage_error "--acl and --sasl-user need --tls"
    ((acl == 0)) || [[ -r $tls/ca.crt ]] || usage_error "--acl: no readable ca.crt in $tls (admin.properties trusts it)"
    for t in "${own[@]}"; do
        found=0
        for i in "${topics[@]}"; do [[ $i == "${t%=*}" ]] && found=1; done
        ((found)) || usage_error "--topic-partitions $t: no such topic is created (topics: ${topics[*]})"
    done
    command -v kcat >/dev/null 2>&1 || die "kcat not found (install kcat, or run scripts/install-deps.sh)"

    if [[ -e $dir ]]; then
        [[ -d $dir ]] || die "$dir exists and is not a directory"
        [[ -z $(ls -A "$dir") ]] || die "$dir exists and is not empty; pass a new or empty directory"
    fi
    cmd_fetch
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    [[ $dir =~ ^[A-Za-z0-9/._+-]+$ ]] ||
        die "$dir: only letters, digits and / . _ + - are supported in the directory name"
    : >"$dir/$MARKER"
    echo "$brokers" >"$dir/brokers"
    echo "$VERSION" >"$dir/version"

    local t0 voters="" specs=() bootstrap="" rf
    t0=$(date +%s%N)
    for ((n = 1; n <= brokers; n++)); do
        mkdir -p "$dir/broker-$n"
        pick_port >"$dir/broker-$n/port"
        pick_port >"$dir/broker-$n/controller.port"
        [[ -z $tls ]] || pick_port >"$dir/broker-$n/tls.port"
        voters+="${voters:+,}$n@127.0.0.1:$(<"$dir/broker-$n/controller.port")"
        bootstrap+="${bootstrap:+,}127.0.0.1:$(<"$dir/broker-$n/port")"
    done
    # The password of user pmhc; base64 less + / =, so it needs no quoting anywhere.
    [[ -z $tls ]] || (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' 'xy' >"$dir/sasl.password")
    ((acl == 0)) || users+=(admin)
    ((${#users[@]} == 0)) || make_users "$dir" "${users[@]}"
    ((acl == 0)) || write_admin_properties "$dir" "$tls"
    for ((n = 1; n <= brokers; n++)); do
        write_config "$dir" "$n" "$brokers" "$voters" "$partitions"
        [[ -z $tls ]] || write_tls_config "$dir" "$n" "$tls"
    done

    if [[ -n $tls ]]; then
        format_with_scram "$dir" "$brokers"
    else
        # KRaft storage: a copy of the node's formatted template (format_templates).
        format_templates "$dir" "$brokers"
        cp "$CACHE/format/cluster.id" "$dir/cluster.id"
        for ((n = 1; n <= brokers; n++)); do
            mkdir -p "$dir/broker-$n/data"
            cp -a "$CACHE/format/node-$n/." "$dir/broker-$n/data/" ||
                die "cannot copy the formatted storage of node $n into $dir/broker-$n/data"
        done
    fi

    # From here on a failure stops what was started.
    START_DIR=$dir
    trap stop_half_started EXIT
    for ((n = 1; n <= brokers; n++)); do
        launch "$dir" "$n"
    done
    write_pids "$dir"

    local deadline=$((SECONDS + START_TIMEOUT)) dead
    until all_ports_open "$dir" "$brokers" && metadata_ready "$bootstrap" "$brokers"; do
        dead=
        for ((n = 1; n <= brokers; n++)); do
            node_alive "$(node_pid "$dir" "$n")" "$dir" "$n" || dead+=" $n"
        done
        [[ -z $dead ]] || die "broker(s)$dead of $dir exited while starting"
        ((SECONDS < deadline)) || die "the $brokers broker(s) of $dir did not all answer within $START_TIMEOUT s"
        sleep 0.05
    done

    rf=$((brokers < 3 ? brokers : 3))
    for t in "${topics[@]}"; do
        n=$partitions
        for i in "${own[@]}"; do [[ ${i%=*} == "$t" ]] && n=${i##*=}; done
        specs+=("$t=$n")
    done
    create_topics "$dir" "$bootstrap" "$rf" "${specs[@]}" ||
        die "could not create the topics on $bootstrap (see above)"
    until metadata_ready "$bootstrap" "$brokers" "${specs[@]}"; do
        ((SECONDS < deadline)) || die "the topics of $dir have no leader for every partition after $START_TIMEOUT s"
        sleep 0.1
    done

    if [[ -n $tls ]]; then
        t=
        for ((n = 1; n <= brokers; n++)); do
            t+="${t:+,}127.0.0.1:$(<"$dir/broker-$n/tls.port")"
        done
        echo "$t" >"$dir/bootstrap.tls"
    fi
    echo "$bootstrap" >"$dir/bootstrap.tmp"
    mv -f "$dir/bootstrap.tmp" "$dir/bootstrap"
    trap - EXIT # success: keep the cluster running
    note "$brokers broker(s) ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms at $bootstrap"
    echo "$bootstrap"
}

# --- stop, kill, down, up, leader ---------------------------------------------------

# Check that DIR was made by start; print its absolute path.
cluster_dir() {
    local dir=$1
    [[ -d $dir ]] || die "$dir is not a directory"
    [[ -e $dir/$MARKER && -f $dir/brokers ]] || die "$dir was not made by '$PROG start'"
    cd "$dir" && pwd -P
}

node_arg() {
    local dir=$1 n=$2
    [[ $n =~ ^[1-9][0-9]*$ ]] || usage_error "broker \"$n\": expected a number"
    ((n <= $(<"$dir/brokers"))) || usage_error "broker $n: $dir has $(<"$dir/brokers") broker(s)"
}

cmd_stop() {
    local dir=$1
    [[ -e $dir ]] || return 0
    [[ -d $dir ]] || die "$dir is not a directory"
    if [[ ! -e $dir/$MARKER && -n $(ls -A "$dir") ]]; then
        die "$dir was not made by '$PROG start' (no $MARKER file); refusing to delete it"
    fi
    dir=$(cd "$dir" && pwd -P)
    cd /
    if [[ -f $dir/brokers ]]; then
        stop_nodes "$dir" $(seq 1 "$(<"$dir/brokers")")
    fi
    rm -rf -- "$dir"
}

cmd_kill() {
    local dir pid n=$2
    dir=$(cluster_dir "$1")
    node_arg "$dir" "$n"
    pid=$(node_pid "$dir" "$n") || die "broker $n of $dir is not running"
    node_alive "$pid" "$dir" "$n" || die "broker $n of $dir is not running"
    kill -KILL "$pid"
    kill_wait "$dir" "$n"
    rm -f "$dir/broker-$n/pid"
    write_pids "$dir"
}

cmd_down() {
    local dir pid n=$2
    dir=$(cluster_dir "$1")
    node_arg "$dir" "$n"
    pid=$(node_pid "$dir" "$n") || die "broker $n of $dir is not running"
    node_alive "$pid" "$dir" "$n" || die "broker $n of $dir is not running"
    stop_nodes "$dir" "$n"
    write_pids "$dir"
}

cmd_up() {
    local dir pid n=$2 port deadline
    dir=$(cluster_dir "$1")
    node_arg "$dir" "$n"
    # The release that "start" ran, whatever PMHC_KAFKA_VERSION says now.
    [[ ! -f $dir/version ]] || use_version "$(<"$dir/version")"
    if pid=$(node_pid "$dir" "$n") && node_alive "$pid" "$dir" "$n"; then
        die "broker $n of $dir is already running (pid $pid)"
    fi
    port=$(<"$dir/broker-$n/port")
    echo "--- $PROG up $(date '+%F %T')" >>"$dir/broker-$n/console.log"
    launch "$dir" "$n"
    write_pids "$dir"
    # Back when the node itself answers and lists itself among the brokers
    # (a KRaft broker is listed once it has caught up and been unfenced).
    deadline=$((SECONDS + START_TIMEOUT))
    until port_open "$port" &&
        timeout 10 kcat -L -b "127.0.0.1:$port" -m 3 2>/dev/null | grep -q "^  broker $n at "; do
        if ! node_alive "$(node_pid "$dir" "$n")" "$dir" "$n"; then
            show_log "$dir" "$n"
            write_pids "$dir"
            die "broker $n of $dir exited while starting"
        fi
        if ((SECONDS >= deadline)); then
            show_log "$dir" "$n"
            die "broker $n of $dir did not come back within $START_TIMEOUT s"
        fi
        sleep 0.05
    done
}

# Kafka's bin/kafka-acls.sh runs this class; 3.9 still has the Scala one.
cmd_acls() {
    local dir java class=org.apache.kafka.tools.AclCommand
    dir=$(cluster_dir "$1")
    shift
    [[ ! -f $dir/version ]] || use_version "$(<"$dir/version")"
    [[ $VERSION != 3.9 ]] || class=kafka.admin.AclCommand
    java=$(java_bin)
    "$java" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
        "$LOG_TOOLS" -cp "$CACHE/lib/*" "$class" "$@"
}

cmd_leader() {
    local dir=$1 topic=$2 part=$3 meta leader
    dir=$(cluster_dir "$dir")
    [[ $part =~ ^[0-9]+$ ]] || usage_error "partition \"$part\": expected a number"
    meta=$(timeout 20 kcat -L -b "$(<"$dir/bootstrap")" -t "$topic" -m 5 2>&1) ||
        die "no metadata from $(<"$dir/bootstrap"): $meta"
    leader=$(sed -n "s/^ *partition $part, leader \(-\{0,1\}[0-9]*\),.*/\1/p" <<<"$meta")
    [[ -n $leader ]] || die "topic $topic has no partition $part:"$'\n'"$meta"
    echo "$leader"
    [[ $leader != -1 ]]
}

cmd_coordinator() {
    local dir=$1 group=$2
    dir=$(cluster_dir "$dir")
    [[ -n ${PMHC_KAFKA_COORDINATOR:-} && -x $PMHC_KAFKA_COORDINATOR ]] ||
        die "coordinator needs PMHC_KAFKA_COORDINATOR (pmhc-kafka-coordinator, built in BUILD_DIR/tests/support/)"
    "$PMHC_KAFKA_COORDINATOR" -b "$(<"$dir/bootstrap")" "$group"
}

main() {
    if [[ $# -ge 1 && ($1 == -h || $1 == --help || $1 == help) ]]; then
        usage
        exit 0
    fi
    [[ $# -ge 1 ]] || usage_error "no command given"
    use_version "${PMHC_KAFKA_VERSION:-$DEFAULT_VERSION}"
    local cmd=$1
    shift
    case $cmd in
    fetch)
        if [[ $# -eq 2 && $1 == --version ]]; then
            use_version "$2"
        elif [[ $# -eq 1 && $1 == --version=* ]]; then
            use_version "${1#*=}"
        else
            [[ $# -eq 0 ]] || usage_error "fetch takes no argument but --version V"
        fi
        cmd_fetch
        ;;
    start)
        [[ $# -ge 1 && -n $1 && $1 != -* ]] || usage_error "start needs a DIR"
        cmd_start "$@"
        ;;
    stop)
        [[ $# -eq 1 && -n $1 ]] || usage_error "usage: $PROG stop DIR"
        cmd_stop "$1"
        ;;
    kill | down | up)
        [[ $# -eq 2 && -n $1 ]] || usage_error "usage: $PROG $cmd DIR N"
        "cmd_$cmd" "$1" "$2"
        ;;
    acls)
        [[ $# -ge 1 && -n $1 ]] || usage_error "usage: $PROG acls DIR ARGS..."
        cmd_acls "$@"
        ;;
    leader)
        [[ $# -eq 3 && -n $1 ]] || usage_error "usage: $PROG leader DIR TOPIC PARTITION"
        cmd_leader "$@"
        ;;
    coordinator)
        [[ $# -eq 2 && -n $1 ]] || usage_error "usage: $PROG coordinator DIR GROUP"
        cmd_coordinator "$@"
        ;;
    *)
        usage_error "unknown command \"$cmd\""
        ;;
    esac
}

main "$@"
