#!/usr/bin/env bash
# SASL/SCRAM-SHA-512 for real, over verified TLS: pmhcd logs in to a real Apache
# Kafka 3.9 broker (kafka.sh --version 3.9, the last 3.x line, KRaft) with
# security.protocol=SASL_SSL and sasl.mechanisms=SCRAM-SHA-512, and a call goes
# through end to end (decided, stored through verify-full, its recommendation
# read back with SCRAM too). With a wrong password pmhcd is refused, exits 69,
# and says it was the SCRAM login and which settings to check.
#
# Why 3.9 and not the default 4.4: librdkafka before 2.6.1 (Debian 12 has
# 2.0.2) sends a SCRAM proof that Kafka 4 refuses (librdkafka issue 4895);
# tls.sh shows that refusal, and pmhcd's warning about it, against 4.4.
#
# Starts its own servers (tls_lib.sh), not with-servers.sh.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
TLS_KAFKA_OPTS=(--version 3.9)
source "$HERE/tls_lib.sh" # the CA, the certificates, both servers, lib.sh
client_tls SCRAM-SHA-512

expect_eq "the broker is Apache Kafka 3.9" \
  "$(grep -m1 -o 'Kafka version: [0-9.]*' "$T/kafka/broker-1/logs/server.log" | cut -d' ' -f3 | cut -d. -f1-2)" 3.9

# --- 1. SCRAM-SHA-512 over verified TLS: a call end to end
tls_config "$T/run/pmhcd.conf" ca ca SCRAM-SHA-512
start_daemon
printf '%s\n' '{"type":"call","call_id":"SCRAM-1","psap_id":"P","revision":1,"source":"SOURCE_911","nature_code":"EDP","screening":{"weapon_involved":"ANSWER_NO"}}' |
  "$PMHC_PRODUCE" "${CLIENT_TLS[@]}"
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id = 'SCRAM-1'" 1
ok "a call sent over SASL_SSL with SCRAM-SHA-512 is decided and stored through verify-full"
"$PMHC_CONSUME" "${CLIENT_TLS[@]}" --from-beginning -c 1 --idle-ms 20000 >"$T/run/recs.jsonl"
expect_eq "its recommendation is read back with SCRAM-SHA-512" "$(jq -r .call_id "$T/run/recs.jsonl")" SCRAM-1
expect_eq "every connection of pmhcd to PostgreSQL is TLS" \
  "$(sql "SELECT count(*) > 0 AND bool_and(s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
          WHERE a.application_name = 'pmhcd'")" t
stop_daemon
if grep -q 'Kafka broker refused the connection' "$T/run/pmhcd.log"; then
  fail "a SCRAM login was refused on the way"
fi
ok "no login of pmhcd was refused"
if grep -qF -- "$SASL_PASSWORD" "$T/run/pmhcd.log"; then fail "pmhcd logged the SASL password"; fi
ok "the password is not in pmhcd's log"

# --- 2. a wrong password: refused at start, exit 69, the SCRAM login named
wrong=wrong-$RANDOM$RANDOM
tls_config "$T/run/bad-password.conf" ca ca SCRAM-SHA-512 "" "" 5 "$wrong"
run_refused bad-password
grep 'Kafka broker refused the connection' "$T/run/bad-password.log" | grep 'SCRAM-SHA-512' |
  grep -q 'check sasl.username and sasl.password' ||
  fail "the refused SCRAM login is not named with a hint to its settings: $(tail -n 3 "$T/run/bad-password.log")"
grep 'Kafka unreachable at start' "$T/run/bad-password.log" | grep -q 'invalid credentials' ||
  fail "the start failure does not give the broker's reason"
ok "a wrong SCRAM password: refused, exit 69, the cause and sasl.password named"
if grep -qF -- "$wrong" "$T/run/bad-password.log"; then fail "pmhcd logged the wrong password"; fi
ok "the wrong password is not in pmhcd's log either"

echo "tls_scram: $checks checks passed"
