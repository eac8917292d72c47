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
# Starts its own servers (tls_lib.sh: pg-tmp.sh --ssl, kafka.sh --tls), not
# with-servers.sh. SCRAM that logs in, against Kafka 3.9: tls_scram.sh.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
source "$HERE/tls_lib.sh" # the CA, the certificates, both servers, lib.sh
client_tls PLAIN

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
# librdkafka before 2.6.1 sends a proof Kafka 4 refuses. (Kafka 3.9 accepts
# it: tls_scram.sh logs in and sends a call through.)
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
