# shellcheck shell=bash
# Shared by tls.sh and tls_scram.sh; sourced, not run. Makes a test CA, a wrong
# CA and the servers' certificate (localhost, 127.0.0.1) with openssl, starts
# a PostgreSQL with ssl=on (pg-tmp.sh --ssl) and a Kafka broker with a SASL_SSL
# listener (kafka.sh start --tls, plus the options in TLS_KAFKA_OPTS, e.g.
# --version 3.9 or --acl), then sources lib.sh. Not with-servers.sh: that one has no TLS.
#
# Sets T (the scratch directory; T/tls holds ca.crt, wrong-ca.crt, server.*),
# TLS_BROKERS (the SASL_SSL listeners), PG_TLS (a verify-full conninfo) and
# SASL_PASSWORD (user pmhc's, for SCRAM-SHA-512 and PLAIN alike).

SUPPORT=$HERE/../support
T=$(mktemp -d /tmp/pmhc-tls.XXXXXX)

stop_servers() {
  bash "$SUPPORT/kafka.sh" stop "$T/kafka" >/dev/null 2>&1 || true
  bash "$SUPPORT/pg-tmp.sh" stop "$T/pg" >/dev/null 2>&1 || true
  rm -rf -- "$T"
}
trap stop_servers EXIT

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
bash "$SUPPORT/kafka.sh" start "$T/kafka" --tls "$T/tls" --partitions 1 ${TLS_KAFKA_OPTS[@]+"${TLS_KAFKA_OPTS[@]}"} >/dev/null

PMHC_BROKERS=$(<"$T/kafka/bootstrap")  # PLAINTEXT: only the test's own checks use it
PMHC_PG_DBA_CONNINFO=$(<"$T/pg/conninfo") # the Unix socket: only the test's own checks
PMHC_PG_CONNINFO=$PMHC_PG_DBA_CONNINFO
PMHC_PG_ANALYST_CONNINFO=$PMHC_PG_DBA_CONNINFO # no analyst checks here
PMHC_TEST_DIR=$T/run
export PMHC_BROKERS PMHC_PG_CONNINFO PMHC_PG_DBA_CONNINFO PMHC_PG_ANALYST_CONNINFO PMHC_TEST_DIR
source "$HERE/lib.sh"
trap 'cleanup_children; stop_servers' EXIT
# As an operator would: the DBA makes the schema, pmhcd logs in as a plain member of pmhc_writer.
"$PMHCD" --migrate --conninfo "$PMHC_PG_DBA_CONNINFO" >"$T/migrate.log" 2>&1 || {
  cat "$T/migrate.log" >&2
  exit 1
}
psql "$PMHC_PG_DBA_CONNINFO" -XAtq -v ON_ERROR_STOP=1 -c "CREATE ROLE pmhcd_daemon LOGIN IN ROLE pmhc_writer" >/dev/null

TLS_BROKERS=$(<"$T/kafka/bootstrap.tls")
PG_TLS=$(sed 's/user=postgres/user=pmhcd_daemon/' "$T/pg/conninfo.ssl")
SASL_PASSWORD=$(<"$T/kafka/sasl.password")
head -c 32 /dev/urandom >"$T/run/subject.key"
chmod 600 "$T/run/subject.key"

# tls_config FILE KAFKA_CA PG_CA MECHANISM [BROKERS] [PG_CONNINFO] [START_TIMEOUT] [PASSWORD]
# (the password of user TLS_SASL_USER, default pmhc)
tls_config() {
  cat >"$1" <<CONF
kafka = {
  brokers = "${5:-$TLS_BROKERS}";
  group_id = "pmhcd-tls";
  properties = ( "security.protocol=SASL_SSL", "sasl.mechanisms=$4", "sasl.username=${TLS_SASL_USER:-pmhc}",
                 "sasl.password=${8:-$SASL_PASSWORD}", "ssl.ca.location=$T/tls/$2.crt",
                 "ssl.endpoint.identification.algorithm=https",
                 "fetch.wait.max.ms=10", "topic.metadata.refresh.interval.ms=1000" );
};
postgres = { conninfo = "${6:-${PG_TLS/ca.crt/$3.crt}}"; start_timeout = ${7:-20}; };
privacy = { subject_key_file = "$T/run/subject.key"; };
limits = { batch_max_ms = 20; shutdown_timeout = 10; };
CONF
}

# client_tls MECHANISM: CLIENT_TLS, the options of pmhc-produce and pmhc-consume
# for the SASL_SSL listener, verified, logging in with MECHANISM.
client_tls() {
  # shellcheck disable=SC2034  # read by the test that sources this file
  CLIENT_TLS=(-b "$TLS_BROKERS" -X security.protocol=SASL_SSL -X "sasl.mechanisms=$1" -X sasl.username=pmhc
    -X "sasl.password=$SASL_PASSWORD" -X "ssl.ca.location=$T/tls/ca.crt"
    -X ssl.endpoint.identification.algorithm=https)
}

# run_refused NAME: pmhcd with NAME.conf must give up, exit 69, within 60 s.
run_refused() {
  local rc=0
  timeout 60 "$PMHCD" --config "$T/run/$1.conf" >"$T/run/$1.log" 2>&1 || rc=$?
  [ "$rc" -eq 69 ] || { cat "$T/run/$1.log" >&2; fail "$1: pmhcd exited $rc, want 69"; }
}
