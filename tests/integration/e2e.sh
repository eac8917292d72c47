#!/usr/bin/env bash
# End to end through the real Kafka protocol and a real PostgreSQL: sample calls
# produced with pmhc-produce → pmhcd → rows in pmhc.calls/decisions and
# recommendations read back with a real consumer; a malformed message → DLQ;
# a clean stop, a restart that replays nothing twice, and a stale revision.
source "$(dirname "$0")/lib.sh"

write_config
# pmhcd's own connection defaults only fill gaps: the operator's conninfo wins.
sed -i 's|conninfo = "\([^"]*\)"|conninfo = "\1 application_name=pmhcd-e2e"|' "$PMHC_TEST_DIR/pmhcd.conf"
start_daemon
expect_eq "the operator's conninfo wins over pmhcd's connection defaults" \
  "$(sql "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'pmhcd-e2e'")" t

"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-calls.jsonl"
printf '\xff\xff\xff\xff not a call' | kcat -P -b "$PMHC_BROKERS" -t cad.calls -k 'TPS/garbage'

# 18 calls and 19 decisions since the sample calls gained the eight calls of the safer
# routes (branch routing); there were 10 and 11.
wait_sql "SELECT count(*) FROM pmhc.calls" 18
wait_sql "SELECT count(*) FROM pmhc.rejected_events" 1
ok "18 calls and 1 rejected event stored"

# Every expected decision, in the audit trail and (for the newest revision) in calls.
while read -r id rev rule response code; do
  case "$id" in '#'*|'') continue ;; esac
  [ "$code" = "-" ] && code=""
  got=$(sql "SELECT rule_id || ' ' || response || ' ' || dispatch_code FROM pmhc.decisions
             WHERE psap_id = 'TPS' AND call_id = '$id' AND revision = $rev")
  expect_eq "decision $id rev $rev" "$got" "$rule $response $code"
done < "$DATA/sample-calls.expected"
expect_eq "decisions rows" "$(sql 'SELECT count(*) FROM pmhc.decisions')" 19
expect_eq "the new responses stored by name" \
  "$(sql "SELECT string_agg(DISTINCT response, ',' ORDER BY response) FROM pmhc.calls
          WHERE call_id IN ('24-000112', '24-000115', '24-000117')")" \
  "CALL_DIVERSION,EMS_AND_CIT_WITH_BACKUP,EMS_AND_MOBILE_CRISIS"
expect_eq "a premise violence history is stored as PREMISE_VIOLENCE, not HISTORY_VIOLENCE" \
  "$(sql "SELECT flags FROM pmhc.calls WHERE call_id = '24-000118'")" "{MH,PREMISE_VIOLENCE}"
expect_eq "call 101 holds its newest revision" \
  "$(sql "SELECT revision || ' ' || rule_id FROM pmhc.calls WHERE call_id = '24-000101'")" "2 mh-weapon-violence"
expect_eq "flags stored" "$(sql "SELECT flags FROM pmhc.calls WHERE call_id = '24-000102'")" "{MH,WEAPON,PREMISE_MH}"
expect_eq "no position stays NULL" "$(sql "SELECT lat IS NULL FROM pmhc.calls WHERE call_id = '24-000103'")" "t"
expect_eq "subject key stored only as its 32-byte HMAC" \
  "$(sql "SELECT count(*) FROM pmhc.calls WHERE octet_length(subject_hash) = 32")" 3
expect_eq "same person, same hash" \
  "$(sql "SELECT count(DISTINCT subject_hash) FROM pmhc.calls WHERE call_id IN ('24-000101','24-000108')")" 1
expect_eq "key never in clear" "$(sql "SELECT count(*) FROM pmhc.calls WHERE position('RMS-' in coalesce(narrative,'') || nature_text) > 0")" 0
expect_eq "narrative not stored by default" "$(sql 'SELECT count(*) FROM pmhc.calls WHERE narrative IS NOT NULL')" 0
expect_eq "rules_version recorded" "$(sql 'SELECT count(DISTINCT rules_version) FROM pmhc.calls')" 1
# rules_version is 64 lowercase hex digits, nothing else (migration 007).
for table in calls decisions; do
  for bad in "repeat('g', 64)" "repeat('a', 63)" "repeat('A', 64)" "repeat('a', 62) || 'é'"; do
    refused=$(sql "UPDATE pmhc.$table SET rules_version = $bad" 2>&1 || true)
    expect_eq "rules_version $bad refused in $table" "$(grep -c "${table}_rules_version_check" <<<"$refused")" 1
  done
done

# The recommendations, through a real consumer from the beginning of the topic.
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning -c 19 --idle-ms 15000 > "$PMHC_TEST_DIR/recs.jsonl" \
  || fail "fewer than 19 recommendations on pmhc.recommendations"
expect_eq "recommendations published" "$(wc -l < "$PMHC_TEST_DIR/recs.jsonl")" 19
while read -r id rev rule response code; do
  case "$id" in '#'*|'') continue ;; esac
  got=$(jq -r --arg id "$id" --argjson rev "$rev" \
    'select(.call_id == $id and .revision == $rev) | "\(.rule_id) \(.response)"' "$PMHC_TEST_DIR/recs.jsonl")
  expect_eq "recommendation $id rev $rev" "$got" "$rule RESPONSE_$response"
done < "$DATA/sample-calls.expected"
expect_eq "subject key never leaves in a recommendation" "$(grep -c 'RMS-' "$PMHC_TEST_DIR/recs.jsonl" || true)" 0
expect_eq "nor the call-taker's id" "$(grep -c 'CT-0' "$PMHC_TEST_DIR/recs.jsonl" || true)" 0
expect_eq "reasons explain the 988 call" \
  "$(jq -r 'select(.call_id == "24-000103") | .reasons[]' "$PMHC_TEST_DIR/recs.jsonl" | grep -c '^call came in on 988')" 1
# No cad.units in this test: the summary says plainly that nobody is free. Since the
# safer routing the unanswered medical questions are named too.
expect_eq "summary is a sentence" \
  "$(jq -r 'select(.call_id == "24-000101" and .revision == 2) | .summary' "$PMHC_TEST_DIR/recs.jsonl")" \
  "Mental-health call (weapon reported): send a CIT officer with patrol backup, code MH-CITB; no CIT officer free — request one; no patrol unit free — request one; not asked or unknown: violence in progress, danger to others, medical emergency, attempt in progress."
expect_eq "a civilian need unfilled: request one, never police instead" \
  "$(jq -r 'select(.call_id == "24-000111") | .summary' "$PMHC_TEST_DIR/recs.jsonl")" \
  "988 mental-health call (danger to self): send a mobile crisis team, not police, code MH-MCT; no mobile crisis team free — request one."
expect_eq "a call diversion needs no unit" \
  "$(jq -r 'select(.call_id == "24-000113") | "\(.response) \(.unit_ids // [] | length) \(.summary)"' "$PMHC_TEST_DIR/recs.jsonl")" \
  "RESPONSE_CALL_DIVERSION 0 Mental-health call: keep the caller on the phone with a crisis counselor (911 telecounselor or warm transfer to 988), no unit, code MH-DIV."

# The malformed message went to the DLQ unchanged, with its reason headers.
"$PMHC_CONSUME" -b "$PMHC_BROKERS" -t pmhc.dlq --type call --meta --from-beginning -c 1 --idle-ms 10000 \
  > "$PMHC_TEST_DIR/dlq.jsonl" || fail "nothing on pmhc.dlq"
expect_eq "DLQ reason header" "$(jq -r '._headers["pmhc-reason"]' "$PMHC_TEST_DIR/dlq.jsonl")" \
  "bytes do not decode as pmhc.v1.CallEvent"
expect_eq "DLQ source topic header" "$(jq -r '._headers["pmhc-source-topic"]' "$PMHC_TEST_DIR/dlq.jsonl")" "cad.calls"
expect_eq "rejected_events keeps a hash, not the payload" \
  "$(sql "SELECT reason || ' ' || size_bytes || ' ' || octet_length(payload_sha256) FROM pmhc.rejected_events")" \
  "bytes do not decode as pmhc.v1.CallEvent 15 32"

stop_daemon
ok "SIGTERM: clean stop with exit 0"
grep -q 'msg="stopped"' "$PMHC_TEST_DIR/pmhcd.log" || fail "no final stats line"

# Restart: offsets were committed, so nothing is replayed; schema migrations do not run twice.
start_daemon
expect_eq "migrations recorded once each" "$(sql 'SELECT count(*) FROM pmhc.schema_migrations')" \
  "$(ls "$DATA"/../../sql/[0-9]*.sql | wc -l)"
# A stale duplicate (revision 1 of call 101 again) changes nothing.
grep '"24-000101","psap_id":"TPS","revision":1' "$DATA/sample-calls.jsonl" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
wait_sql "SELECT count(*) FROM pmhc.calls" 18
for _ in $(seq 1 100); do grep -q 'stale revisions ignored' "$PMHC_TEST_DIR/pmhcd.log" && break; sleep 0.1; done
grep -q 'stale revisions ignored' "$PMHC_TEST_DIR/pmhcd.log" || fail "stale revision not counted"
expect_eq "stale revision left call 101 at revision 2" \
  "$(sql "SELECT revision FROM pmhc.calls WHERE call_id = '24-000101'")" 2
expect_eq "no decision row added by the stale revision" "$(sql 'SELECT count(*) FROM pmhc.decisions')" 19
stop_daemon

# A refused Kafka property is named, its value never shown: it may be a password.
write_config
sed -i 's|properties = ( |properties = ( "security.protocol=x-not-shown", |' "$PMHC_TEST_DIR/pmhcd.conf"
: > "$PMHC_TEST_DIR/pmhcd.log"
rc=0
timeout 60 "$PMHCD" --config "$PMHC_TEST_DIR/pmhcd.conf" >>"$PMHC_TEST_DIR/pmhcd.log" 2>&1 || rc=$?
expect_eq "a refused Kafka property stops pmhcd as a configuration problem" "$rc" 78
grep -q "kafka.properties\[0\]: 'security.protocol' refused (its value is not shown)" "$PMHC_TEST_DIR/pmhcd.log" ||
  fail "the refused property is not named"
grep -q 'x-not-shown' "$PMHC_TEST_DIR/pmhcd.log" && fail "the refused property's value reached the log"
ok "the refused property is named and its value is not logged"

echo "e2e: $checks checks passed"
