#!/usr/bin/env bash
# TLS for real: a test CA made here with openssl signs the certificates of a
# real Apache Kafka broker (a SASL_SSL listener) and a real PostgreSQL (ssl=on,
# TLS only over TCP). pmhcd connects with sslmode=verify-full and
# security.protocol=SASL_SSL with ssl.endpoint.identification.algorithm=https,
# and a call goes through end to end. Trusting a second, wrong CA instead, pmhcd
# is refused and says why; SCRAM with a librdkafka that Kafka 4 refuses says
# why too; and pmhcd warns at start of a link to another machine that is not
# verified TLS, and only then.
#
# Starts its own servers (pg-tmp.sh --ssl, kafka.sh --tls), not with-servers.sh.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
SUPPORT=$HERE/../support
T=$(mktemp -d /tmp/pmhc-tls.XXXXXX)

stop_servers() {
  bash "$SUPPORT/kafka.sh" stop "$T/kafka" >/dev/null 2>&1 || true
  bash "$SUPPORT/pg-tmp.sh" stop "$T/pg" >/dev/null 2>&1 || true
  rm -rf -- "$T"
}
trap stop_servers EXIT

# --- the test CA, a wrong CA, and the servers' certificate (localhost, 127.0.0.1)
make_ca() {
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 2 \
    -keyout "$T/tls/$1.key" -out "$T/tls/$1.crt" -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
mkdir -p "$T/tls" "$T/run"
make_ca ca "pmhc test CA"
make_ca wrong-ca "pmhc wrong CA"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj /CN=localhost \
  -keyout "$T/tls/server.key" -out "$T/tls/server.csr" 2>/dev/null
printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=CA:FALSE' \
  'keyUsage=digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' >"$T/tls/server.ext"
openssl x509 -req -in "$T/tls/server.csr" -CA "$T/tls/ca.crt" -CAkey "$T/tls/ca.key" -CAcreateserial \
  -days 2 -extfile "$T/tls/server.ext" -out "$T/tls/server.crt" 2>/dev/null
chmod 644 "$T/tls/"*.crt
chmod 755 "$T" "$T/tls" # the postgres OS user reads the certificate when run as root

bash "$SUPPORT/pg-tmp.sh" start "$T/pg" --ssl "$T/tls" >/dev/null
bash "$SUPPORT/kafka.sh" start "$T/kafka" --tls "$T/tls" --partitions 1 >/dev/null

PMHC_BROKERS=$(<"$T/kafka/bootstrap")  # PLAINTEXT: only the test's own checks use it
PMHC_PG_CONNINFO=$(<"$T/pg/conninfo") # the Unix socket: only the test's own checks
PMHC_TEST_DIR=$T/run
export PMHC_BROKERS PMHC_PG_CONNINFO PMHC_TEST_DIR
source "$HERE/lib.sh"
trap 'cleanup_children; stop_servers' EXIT

TLS_BROKERS=$(<"$T/kafka/bootstrap.tls")
PG_TLS=$(<"$T/pg/conninfo.ssl")
SASL_PASSWORD=$(<"$T/kafka/sasl.password")
head -c 32 /dev/urandom >"$T/run/subject.key"
chmod 600 "$T/run/subject.key"

# tls_config FILE KAFKA_CA PG_CA MECHANISM [BROKERS] [PG_CONNINFO] [START_TIMEOUT]
tls_config() {
  cat >"$1" <<CONF
kafka = {
  brokers = "${5:-$TLS_BROKERS}";
  group_id = "pmhcd-tls";
  properties = ( "security.protocol=SASL_SSL", "sasl.mechanisms=$4", "sasl.username=pmhc",
                 "sasl.password=$SASL_PASSWORD", "ssl.ca.location=$T/tls/$2.crt",
                 "ssl.endpoint.identification.algorithm=https",
                 "fetch.wait.max.ms=10", "topic.metadata.refresh.interval.ms=1000" );
};
postgres = { conninfo = "${6:-${PG_TLS/ca.crt/$3.crt}}"; start_timeout = ${7:-20}; };
privacy = { subject_key_file = "$T/run/subject.key"; };
limits = { batch_max_ms = 20; shutdown_timeout = 10; };
CONF
}

# Options of pmhc-produce and pmhc-consume for the SASL_SSL listener, verified.
CLIENT_TLS=(-b "$TLS_BROKERS" -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN -X sasl.username=pmhc
  -X "sasl.password=$SASL_PASSWORD" -X "ssl.ca.location=$T/tls/ca.crt"
  -X ssl.endpoint.identification.algorithm=https)

# --- 1. verified TLS both ways: a call end to end
tls_config "$T/run/pmhcd.conf" ca ca PLAIN
start_daemon
printf '%s\n' '{"type":"call","call_id":"TLS-1","psap_id":"P","revision":1,"source":"SOURCE_911","nature_code":"EDP","screening":{"weapon_involved":"ANSWER_NO"}}' |
  "$PMHC_PRODUCE" "${CLIENT_TLS[@]}"
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id = 'TLS-1'" 1
ok "a call sent over SASL_SSL is decided and stored through verify-full"
"$PMHC_CONSUME" "${CLIENT_TLS[@]}" --from-beginning -c 1 --idle-ms 20000 >"$T/run/recs.jsonl"
expect_eq "its recommendation is read back over SASL_SSL" "$(jq -r .call_id "$T/run/recs.jsonl")" TLS-1
expect_eq "every connection of pmhcd to PostgreSQL is TLS" \
  "$(sql "SELECT count(*) > 0 AND bool_and(s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
          WHERE a.application_name = 'pmhcd'")" t
stop_daemon
if grep -q 'without verified TLS' "$T/run/pmhcd.log"; then fail "a verified loopback setup was warned about"; fi
ok "no transport warning for verified TLS"

# run_refused NAME: pmhcd with NAME.conf must give up, exit 69, within 60 s.
run_refused() {
  local rc=0
  timeout 60 "$PMHCD" --config "$T/run/$1.conf" >"$T/run/$1.log" 2>&1 || rc=$?
  [ "$rc" -eq 69 ] || { cat "$T/run/$1.log" >&2; fail "$1: pmhcd exited $rc, want 69"; }
}

# --- 2. PostgreSQL's certificate from a CA pmhcd does not trust
tls_config "$T/run/bad-pg.conf" ca wrong-ca PLAIN "" "" 2
run_refused bad-pg
grep 'PostgreSQL unreachable; giving up' "$T/run/bad-pg.log" | grep 'certificate verify failed' | grep -q 'sslrootcert' ||
  fail "the wrong PostgreSQL CA is not named as the cause: $(tail -n 2 "$T/run/bad-pg.log")"
ok "a PostgreSQL certificate from the wrong CA: refused, exit 69, the cause and sslrootcert named"

# --- 3. the broker's certificate from a CA pmhcd does not trust
tls_config "$T/run/bad-kafka.conf" wrong-ca ca PLAIN "" "" 5
run_refused bad-kafka
grep 'Kafka unreachable at start' "$T/run/bad-kafka.log" | grep -q 'certificate verify failed' ||
  fail "the wrong Kafka CA is not named in the start failure: $(tail -n 2 "$T/run/bad-kafka.log")"
grep 'Kafka broker refused the connection' "$T/run/bad-kafka.log" | grep -q 'ssl.ca.location' ||
  fail "no hint to ssl.ca.location"
ok "a broker certificate from the wrong CA: refused, exit 69, the cause and ssl.ca.location named"

# --- 4. SCRAM-SHA-512: the broker knows user pmhc (kafka.sh formats it in), but
# librdkafka before 2.6.1 sends a proof Kafka 4 refuses.
tls_config "$T/run/scram.conf" ca ca SCRAM-SHA-512 "" "" 5
if dpkg --compare-versions "$(pkg-config --modversion rdkafka)" lt 2.6.1; then
  run_refused scram
  grep -q 'SCRAM login with this librdkafka is refused by Apache Kafka 4' "$T/run/scram.log" ||
    fail "no warning at start that this librdkafka's SCRAM is refused"
  grep 'Kafka unreachable at start' "$T/run/scram.log" | grep -q 'SCRAM-SHA-512' ||
    fail "the SCRAM refusal is not named in the start failure"
  ok "SCRAM-SHA-512 with librdkafka $(pkg-config --modversion rdkafka): warned at start, refused with the cause named"
else
  cp "$T/run/scram.conf" "$T/run/pmhcd.conf"
  start_daemon
  stop_daemon
  ok "SCRAM-SHA-512 with librdkafka $(pkg-config --modversion rdkafka): logged in"
fi

# --- 5. a link to another machine: warned about unless it is verified TLS.
# 192.0.2.1 (TEST-NET-1) answers nobody: the warnings come before the connect fails.
remote_pg="host=192.0.2.1 dbname=pmhc user=postgres connect_timeout=1"
tls_config "$T/run/remote.conf" ca ca PLAIN 192.0.2.1:9093 "$remote_pg" 0
sed -i 's/"security.protocol=SASL_SSL", //; s/"ssl.endpoint.identification.algorithm=https",/"ssl.endpoint.identification.algorithm=none",/' \
  "$T/run/remote.conf"
run_refused remote
grep 'Kafka traffic leaves this machine without verified TLS' "$T/run/remote.log" | grep -q 'security.protocol' ||
  fail "no warning naming security.protocol for a plaintext remote broker"
grep 'PostgreSQL traffic leaves this machine without verified TLS' "$T/run/remote.log" |
  grep -q 'sslmode=verify-full' || fail "no warning naming sslmode=verify-full for a remote server"
ok "plaintext to a remote broker and server: one warning each, naming the setting"
tls_config "$T/run/remote-ok.conf" ca ca PLAIN 192.0.2.1:9093 "$remote_pg sslmode=verify-full sslrootcert=$T/tls/ca.crt" 0
run_refused remote-ok
if grep -q 'without verified TLS' "$T/run/remote-ok.log"; then fail "verified TLS to a remote host was warned about"; fi
ok "verified TLS to a remote broker and server: no warning"

echo "tls: $checks checks passed"
