#!/usr/bin/env bash
# Kafka ACLs for real: the real Apache Kafka broker with an authorizer (KRaft's
# StandardAuthorizer, allow.everyone.if.no.acl.found=false, super user admin)
# and PLAIN logins over verified TLS (kafka.sh start --tls --acl).
#  1. pmhcd's principal gets exactly the ACLs of config/pmhcd-kafka-acls.sh,
#     run as it is (kafka-acls.sh is Kafka's own AclCommand, from the cached
#     release); docs/operations.md lists the same commands. With those alone
#     pmhcd runs end to end: the roster from cad.units, calls in,
#     recommendations out, dispositions and unit statuses stored, a bad input
#     in the DLQ, and the shared-holds reader of pmhc.recommendations (the next
#     instance learns the first one's hold).
#  2. A dispatcher screen's principal, allowed to read pmhc.recommendations, is
#     refused the DLQ (TOPIC_AUTHORIZATION_FAILED).
#  3. Without Read on its consumer group pmhcd says so, naming the group, the
#     cause and the ACL to grant, stays up, and reads once it is granted.
#  4. Without Write on the DLQ a bad input is held, not lost: the log names the
#     authorization failure and the topic. Granted while pmhcd runs, it is
#     delivered; held across a stop, its offset stays uncommitted and the next
#     start delivers it.
#  5. pmhcd --backfill is refused its group until the script's --backfill
#     grants it, then stores the history and exits 0; --backfill --remove
#     leaves the live ACLs as they were.
#
# Starts its own servers (tls_lib.sh: pg-tmp.sh --ssl, kafka.sh --tls --acl).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck disable=SC2034  # read by tls_lib.sh
TLS_KAFKA_OPTS=(--acl --sasl-user pmhcd --sasl-user screen)
source "$HERE/tls_lib.sh" # the CA, the certificates, both servers, lib.sh

K=$T/kafka
GROUP=pmhcd-tls # tls_config's kafka.group_id
ACLS=(bash "$SUPPORT/kafka.sh" acls "$K")
ADMIN=(--bootstrap-server "$TLS_BROKERS" --command-config "$K/admin.properties")
LOG=$T/run/pmhcd.log

# as USER: the librdkafka options of pmhc-consume and kcat for USER over SASL_SSL, verified.
as() {
  printf '%s\n' -b "$TLS_BROKERS" -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN -X "sasl.username=$1" \
    -X "sasl.password=$(<"$K/users/$1")" -X "ssl.ca.location=$T/tls/ca.crt" -X ssl.endpoint.identification.algorithm=https
}
mapfile -t SCREEN < <(as screen)
mapfile -t PMHCD_USER < <(as pmhcd)

# grant_pmhcd: the operators' script, as it is, against this cluster.
grant_pmhcd() {
  KAFKA_ACLS="bash $SUPPORT/kafka.sh acls $K" bash "$HERE/../../config/pmhcd-kafka-acls.sh" "${ADMIN[@]}" \
    --group "$GROUP" >>"$T/run/acls.log" 2>&1 || { cat "$T/run/acls.log" >&2; fail "pmhcd-kafka-acls.sh failed"; }
}
# acl_list PRINCIPAL: its ACLs as the broker has them, "TYPE NAME PATTERN OPERATION" a line, sorted.
acl_list() {
  "${ACLS[@]}" "${ADMIN[@]}" --list --principal "$1" 2>>"$T/run/acls.log" |
    sed -n 's/.*resourceType=\([A-Z_]*\), name=\([^,]*\), patternType=\([A-Z]*\)).*/R \1 \2 \3/p
            s/.*operation=\([A-Z_]*\),.*/O \1/p' |
    awk '$1 == "R" { r = $2 " " $3 " " $4 } $1 == "O" { print r " " $2 }' | sort
}
# revoke ARGS...: remove one of pmhcd's ACLs, then wait until the broker no longer lists it.
revoke() {
  local want
  "${ACLS[@]}" "${ADMIN[@]}" --remove --force --allow-principal User:pmhcd "$@" >>"$T/run/acls.log" 2>&1 ||
    fail "kafka-acls.sh --remove $* failed"
  want=$(printf '%s\n' "$EXPECTED" | grep -v -x -F "$REVOKED")
  for _ in $(seq 1 20); do # each look is a JVM of its own, a second or two
    [ "$(acl_list User:pmhcd)" = "$want" ] && return 0
  done
  fail "the broker still lists $REVOKED"
}
# raw TOPIC FORMAT: every message of TOPIC (one partition), read as ANONYMOUS over PLAINTEXT (a super user).
raw() { timeout 20 kcat -C -b "$PMHC_BROKERS" -t "$1" -o beginning -e -q -f "$2" 2>/dev/null; }
# junk KEY: bytes that are no call onto cad.calls (as the CAD); prints their offset.
junk() {
  local before
  before=$(raw cad.calls '%o\n' | tail -n 1)
  printf '\377\377\377not a call %s' "$1" | kcat -P -b "$PMHC_BROKERS" -t cad.calls -k "$1" || fail "kcat could not send"
  echo $((${before:--1} + 1))
}
in_dlq() { raw pmhc.dlq '%k\n' | grep -c -x -F "$1" || true; }
call() { # call ID BEAT: a CIT call (history of violence) in BEAT of district 52, as the CAD
  printf '{"type":"call","call_id":"%s","psap_id":"TPS","revision":1,"received_at_ms":1763870400000,"source":"SOURCE_911","nature_code":"EDP","location":{"beat":"%s","district":"52"},"screening":{"history_of_violence":"ANSWER_YES"}}\n' \
    "$1" "$2" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
}
diagnose() {
  echo "--- kafka-acls.sh output:"
  tail -n 20 "$T/run/acls.log" 2>/dev/null || true
}

# ---- 0. the authorizer is on: without ACLs pmhcd's principal reads nothing
rc=0
"$PMHC_CONSUME" "${PMHCD_USER[@]}" --from-beginning --idle-ms 1000 >/dev/null 2>"$T/run/noacl.err" || rc=$?
expect_eq "without ACLs pmhcd's principal may not read pmhc.recommendations (exit 69)" "$rc" 69
grep -q 'Topic authorization failed' "$T/run/noacl.err" || fail "no authorization failure named: $(cat "$T/run/noacl.err")"

# ---- 1. the documented ACLs, and nothing more, run pmhcd end to end
while read -r line; do
  grep -q -x -F "  $line" "$HERE/../../docs/operations.md" ||
    fail "docs/operations.md does not list the command: $line"
done < <(bash "$HERE/../../config/pmhcd-kafka-acls.sh" --dry-run --bootstrap-server BROKER \
  --command-config admin.properties)
ok "docs/operations.md lists the commands pmhcd-kafka-acls.sh runs, word for word"
grant_pmhcd
EXPECTED="GROUP $GROUP LITERAL READ
GROUP $GROUP-reader- PREFIXED DESCRIBE
TOPIC cad.calls LITERAL READ
TOPIC cad.dispositions LITERAL READ
TOPIC cad.units LITERAL READ
TOPIC pmhc.dlq LITERAL WRITE
TOPIC pmhc.recommendations LITERAL READ
TOPIC pmhc.recommendations LITERAL WRITE"
expect_eq "pmhcd's principal has exactly these ACLs" "$(acl_list User:pmhcd)" "$EXPECTED"
# The dispatcher screens' principal, as docs/operations.md grants it.
"${ACLS[@]}" "${ADMIN[@]}" --add --allow-principal User:screen --operation Read --topic pmhc.recommendations \
  --group screen >>"$T/run/acls.log" 2>&1 || fail "granting the screen's ACLs failed"

"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-units.jsonl" 2>/dev/null
TLS_SASL_USER=pmhcd tls_config "$T/run/pmhcd.conf" ca ca PLAIN "" "" "" "$(<"$K/users/pmhcd")"
start_daemon
grep -q 'unit roster rebuilt from cad.units" units=12 statuses=13' "$LOG" ||
  fail "the roster was not rebuilt from cad.units"
ok "the roster is rebuilt from cad.units"
call ACL-1 55-4
wait_sql "SELECT array_to_string(unit_ids, ',') FROM pmhc.calls WHERE call_id = 'ACL-1'" CIT-7
ok "a call is decided and stored, with a unit from the roster"
printf '{"type":"disposition","call_id":"ACL-1","psap_id":"TPS","closed_at_ms":1763871000000,"code":"DISP_REFERRED"}\n' |
  "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_sql "SELECT code FROM pmhc.dispositions WHERE call_id = 'ACL-1'" REFERRED
ok "its disposition is stored"
printf '{"type":"unit","unit_id":"CIT-99","psap_id":"TPS","kind":"UNIT_CIT_OFFICER","state":"UNIT_AVAILABLE","at_ms":1763870500000,"beat":"52-9","district":"52"}\n' |
  "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_sql "SELECT count(*) FROM pmhc.unit_status WHERE unit_id = 'CIT-99'" 1
ok "a unit status is stored"
junk1=$(junk ACL/JUNK1)
for _ in $(seq 1 300); do [ "$(in_dlq ACL/JUNK1)" -ge 1 ] && break; sleep 0.1; done
expect_eq "a bad input reaches the DLQ" "$(in_dlq ACL/JUNK1)" 1
wait_sql "SELECT count(*) FROM pmhc.rejected_events WHERE source_offset = $junk1" 1
"$PMHC_CONSUME" "${SCREEN[@]}" -X group.id=screen --from-beginning -c 1 --idle-ms 20000 >"$T/run/recs.jsonl" 2>/dev/null ||
  fail "the screen's principal could not read pmhc.recommendations"
expect_eq "the recommendation is out, read by the screen's principal" "$(jq -r .call_id "$T/run/recs.jsonl")" ACL-1
if grep -Eq 'authorization|refuses' "$LOG"; then fail "an authorization was refused: $(grep -E 'authorization|refuses' "$LOG" | head -n 3)"; fi
ok "pmhcd was refused nothing"

# ---- 2. the screen may read the recommendations, not the DLQ
rc=0
"$PMHC_CONSUME" "${SCREEN[@]}" -X group.id=screen -t pmhc.dlq --type call --from-beginning --idle-ms 2000 \
  >"$T/run/screen-dlq.out" 2>"$T/run/screen-dlq.err" || rc=$?
expect_eq "the screen's principal reading the DLQ: pmhc-consume exits 69" "$rc" 69
grep 'pmhc.dlq' "$T/run/screen-dlq.err" | grep -q 'Topic authorization failed' ||
  fail "not refused as TOPIC_AUTHORIZATION_FAILED: $(cat "$T/run/screen-dlq.err")"
expect_eq "and it printed nothing of it" "$(wc -c <"$T/run/screen-dlq.out")" 0
stop_daemon
mv "$LOG" "$T/run/pmhcd-1.log"

# ---- 3. without Read on its consumer group
REVOKED="GROUP $GROUP LITERAL READ"
revoke --operation Read --group "$GROUP"
start_daemon_bg
wait_log "Kafka refuses the consumer its consumer group.* group=\"$GROUP\" code=GROUP_AUTHORIZATION_FAILED .*hint=\"grant pmhcd's principal Read on group $GROUP " 60
ok "no Read on the group: the error names the group, the cause and the ACL"
kill -0 "$DAEMON_PID" || fail "pmhcd exited"
if grep -q 'partitions assigned' "$LOG"; then fail "pmhcd joined a group it may not read"; fi
ok "pmhcd stays up and out of the group"
grant_pmhcd
for _ in $(seq 1 600); do grep -q 'partitions assigned' "$LOG" && break; sleep 0.1; done
grep -q 'partitions assigned' "$LOG" || fail "pmhcd did not join its group within 60 s of the grant"
call ACL-2 55-4
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id = 'ACL-2'" 1
ok "once granted, pmhcd joins by itself and calls flow"
refusals=$(grep -c 'Kafka refuses the consumer its consumer group' "$LOG")
[ "$refusals" -le 2 ] || fail "the refusal was logged $refusals times: once a minute at most"
ok "the refusal was logged $refusals time(s), not once per retry"

# ---- 4. without Write on the DLQ: held, named, delivered once granted
REVOKED="TOPIC pmhc.dlq LITERAL WRITE"
revoke --operation Write --topic pmhc.dlq
junk2=$(junk ACL/JUNK2)
call ACL-3 55-4
wait_log "DLQ message not delivered; sending again\" topic=pmhc.dlq source=cad.calls/0/$junk2 .*error=\"Broker: Topic authorization failed\"" 60
ok "no Write on the DLQ: the bad input is held, the log names the topic and the authorization failure"
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id = 'ACL-3'" 1
ok "the call after it is still decided and stored"
expect_eq "nothing reached the DLQ meanwhile" "$(in_dlq ACL/JUNK2)" 0
grant_pmhcd
for _ in $(seq 1 600); do [ "$(in_dlq ACL/JUNK2)" -ge 1 ] && break; sleep 0.1; done
expect_eq "granted while pmhcd runs, the bad input is delivered to the DLQ" "$(in_dlq ACL/JUNK2)" 1

REVOKED="TOPIC pmhc.dlq LITERAL WRITE"
revoke --operation Write --topic pmhc.dlq
junk3=$(junk ACL/JUNK3)
wait_log "DLQ message not delivered; sending again\" topic=pmhc.dlq source=cad.calls/0/$junk3 " 60
stop_daemon
grep -Eq 'msg="stopped".* holds_learned=[1-9][0-9]* ' "$LOG" ||
  fail "the second instance learned no hold from the first one's recommendation"
ok "the shared-holds reader learned the first instance's hold from pmhc.recommendations"
grep -q 'msg="stopped".* undelivered=1 ' "$LOG" || fail "the stop did not leave the dead letter held"
expect_eq "stopped with the dead letter undelivered: nothing in the DLQ" "$(in_dlq ACL/JUNK3)" 0
mv "$LOG" "$T/run/pmhcd-2.log"
grant_pmhcd
start_daemon
for _ in $(seq 1 300); do [ "$(in_dlq ACL/JUNK3)" -ge 1 ] && break; sleep 0.1; done
expect_eq "its offset was not committed: the next start delivers it" "$(in_dlq ACL/JUNK3)" 1
expect_eq "with its source offset" "$(raw pmhc.dlq '%k %h\n' | grep '^ACL/JUNK3 ' | grep -o 'pmhc-source-offset=[0-9]*')" \
  "pmhc-source-offset=$junk3"
expect_eq "one rejected_events row for each bad input" \
  "$(sql "SELECT count(*) FROM pmhc.rejected_events WHERE source_offset IN ($junk1, $junk2, $junk3)")" 3
expect_eq "every call stored once" "$(sql "SELECT count(*) FROM pmhc.calls WHERE call_id LIKE 'ACL-%'")" 3
stop_daemon
grep -q 'msg="stopped".* undelivered=0 stalled=0 ' "$LOG" || fail "pmhcd stopped with messages still held"
for f in "$T"/run/pmhcd*.log; do
  if grep -qF "$(<"$K/users/pmhcd")" "$f"; then fail "the SASL password is in $f"; fi
done
ok "nothing left held; the password never logged"

# ---- 5. a backfill: Read on cad.history and on its own group, from the script's --backfill
while read -r line; do
  grep -q -x -F "  $line" "$HERE/../../docs/operations.md" ||
    fail "docs/operations.md does not list the command: $line"
done < <(bash "$HERE/../../config/pmhcd-kafka-acls.sh" --dry-run --bootstrap-server BROKER \
  --command-config admin.properties --backfill)
ok "docs/operations.md lists the commands of pmhcd-kafka-acls.sh --backfill, word for word"
printf '{"type":"call","call_id":"ACL-H1","psap_id":"TPS","revision":1,"received_at_ms":1700000000000,"source":"SOURCE_911","nature_code":"EDP","location":{"beat":"55-4","district":"52"}}\n' \
  >"$T/run/history.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --history cad.history "$T/run/history.jsonl" 2>/dev/null || fail "pmhc-produce --history failed"
"$PMHCD" --backfill --config "$T/run/pmhcd.conf" >"$T/run/backfill-1.log" 2>&1 &
backfill=$!
LOG=$T/run/backfill-1.log wait_log "Kafka refuses the consumer its consumer group.* group=\"$GROUP-backfill\"" 60
kill -TERM "$backfill"
wait "$backfill" || true # stopped by the test, not what is tested: nothing was read
expect_eq "refused its group, the backfill stored nothing" "$(sql "SELECT count(*) FROM pmhc.calls WHERE call_id = 'ACL-H1'")" 0
KAFKA_ACLS="bash $SUPPORT/kafka.sh acls $K" bash "$HERE/../../config/pmhcd-kafka-acls.sh" "${ADMIN[@]}" \
  --group "$GROUP" --backfill >>"$T/run/acls.log" 2>&1 || fail "pmhcd-kafka-acls.sh --backfill failed"
rc=0
timeout 120 "$PMHCD" --backfill --config "$T/run/pmhcd.conf" >"$T/run/backfill-2.log" 2>&1 || rc=$?
expect_eq "with the script's --backfill ACLs, pmhcd --backfill exits 0" "$rc" 0
expect_eq "and the history is stored" "$(sql "SELECT count(*) FROM pmhc.calls WHERE call_id = 'ACL-H1'")" 1
KAFKA_ACLS="bash $SUPPORT/kafka.sh acls $K" bash "$HERE/../../config/pmhcd-kafka-acls.sh" "${ADMIN[@]}" \
  --group "$GROUP" --backfill --remove >>"$T/run/acls.log" 2>&1 || fail "pmhcd-kafka-acls.sh --backfill --remove failed"
expect_eq "--backfill --remove leaves exactly the live ACLs" "$(acl_list User:pmhcd)" "$EXPECTED"

echo "kafka_acl: $checks checks passed"
