#!/usr/bin/env bash
# SIGHUP against the running daemon: a bad file is refused and the running
# rules stay in force; a good one takes effect for the next call, and each
# recommendation says which rules decided it.
source "$(dirname "$0")/lib.sh"

write_config
start_daemon
# A suicidal 988 caller with weapon, violence and medical answered NO: since the safer
# routing (branch routing) the default sends a mobile crisis team only when those are
# ruled out, so the call answers them (it answered none before).
call() {
  printf '{"type":"call","call_id":"%s","psap_id":"P","revision":1,"source":"SOURCE_988","nature_code":"SUICTHRT","screening":{"danger_to_self":"ANSWER_YES","weapon_involved":"ANSWER_NO","violence_in_progress":"ANSWER_NO","danger_to_others":"ANSWER_NO","medical_emergency":"ANSWER_NO","attempt_in_progress":"ANSWER_NO"}}\n' "$1" \
    | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
}
call R-1
wait_sql "SELECT rule_id FROM pmhc.calls WHERE call_id = 'R-1'" "mh-988"
v1=$(sql "SELECT rules_version FROM pmhc.calls WHERE call_id = 'R-1'")
ok "default rules decide R-1 (988 → mobile crisis)"

# A broken flowchart: refused, and the old rules keep deciding.
cp "$PMHC_TEST_DIR/pmhcd.conf" "$PMHC_TEST_DIR/good.conf"
write_config 'flowchart = ( { id = "x"; all = [ "NOPE" ]; response = "CIT"; dispatch_code = "X"; } );'
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q 'reload refused' "$PMHC_TEST_DIR/pmhcd.log" && break; sleep 0.1; done
grep -q "unknown flag 'NOPE'" "$PMHC_TEST_DIR/pmhcd.log" || fail "refusal does not name the problem"
ok "bad config refused on SIGHUP, with the reason logged"
call R-2
wait_sql "SELECT rule_id || ' ' || (rules_version = '$v1') FROM pmhc.calls WHERE call_id = 'R-2'" "mh-988 true"
ok "running rules stayed in force"

# A good change: 988 self-harm calls now go to a co-responder team.
new_rules='flowchart = (
  { id = "not-mh"; none = [ "MH" ]; response = "STANDARD"; dispatch_code = ""; },
  { id = "self-harm-cor"; all = [ "SELF_HARM" ]; response = "CO_RESPONDER"; dispatch_code = "MH-COR2"; },
  { id = "rest"; response = "CIT"; dispatch_code = "MH-CIT"; } );'

# The good change together with one restart-only setting: refused as a whole, the
# setting named, and nothing of the file applied (the old rules keep deciding).
refused() { awk '/reload refused: these settings take effect only after a restart/ { n++ } END { print n + 0 }' "$PMHC_TEST_DIR/pmhcd.log"; }
expect_refused() {
  local setting=$1 before
  before=$(refused)
  kill -HUP "$DAEMON_PID"
  for _ in $(seq 1 100); do [ "$(refused)" -gt "$before" ] && break; sleep 0.1; done
  [ "$(refused)" -gt "$before" ] || fail "a reload changing $setting was not refused"
  grep 'reload refused: these settings' "$PMHC_TEST_DIR/pmhcd.log" | tail -1 | grep -q "settings=$setting\( \|$\)" ||
    fail "the refusal does not name $setting: $(grep 'reload refused' "$PMHC_TEST_DIR/pmhcd.log" | tail -1)"
}
cp "$PMHC_TEST_DIR/subject.key" "$PMHC_TEST_DIR/subject.key.old"
head -c 32 /dev/urandom > "$PMHC_TEST_DIR/subject.key"
write_config "$new_rules"
expect_refused privacy.subject_key
cp "$PMHC_TEST_DIR/subject.key.old" "$PMHC_TEST_DIR/subject.key"
write_config "$new_rules"
sed -i 's|^privacy = {|privacy = { store_narrative = true;|' "$PMHC_TEST_DIR/pmhcd.conf"
expect_refused privacy.store_narrative
for t in calls units dispositions recommendations dlq history; do
  write_config "$new_rules
topics = { $t = \"other.$t\"; };"
  expect_refused "topics.$t"
done
ok "a reload changing the subject key, narrative storage or any topic is refused, the setting named"

# After all of that the first configuration still runs: old rules, old key, no narrative.
printf '{"type":"call","call_id":"R-K","psap_id":"P","revision":1,"source":"SOURCE_988","nature_code":"SUICTHRT","subject_key":"RMS-R1","narrative":"said the bridge","screening":{"danger_to_self":"ANSWER_YES","weapon_involved":"ANSWER_NO","violence_in_progress":"ANSWER_NO","danger_to_others":"ANSWER_NO","medical_emergency":"ANSWER_NO","attempt_in_progress":"ANSWER_NO"}}\n' |
  "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
wait_sql "SELECT rule_id || ' ' || (rules_version = '$v1') || ' ' || (narrative IS NULL) FROM pmhc.calls WHERE call_id = 'R-K'" \
  "mh-988 true true"
# The key as pmhcd reads it: the file's bytes less one trailing newline.
old_key=$(od -An -tx1 -v "$PMHC_TEST_DIR/subject.key.old" | tr -d ' \n')
old_key=${old_key%0a}
expect_eq "the subject is pseudonymized with the key pmhcd started with" \
  "$(sql "SELECT encode(subject_hash, 'hex') FROM pmhc.calls WHERE call_id = 'R-K'")" \
  "$(printf '%s' RMS-R1 | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$old_key" | sed 's/.*= //')"
ok "after the refused reloads the running rules, key and narrative setting stayed"

write_config "$new_rules"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q 'configuration reloaded' "$PMHC_TEST_DIR/pmhcd.log" && break; sleep 0.1; done
grep -q 'configuration reloaded' "$PMHC_TEST_DIR/pmhcd.log" || fail "good config not reloaded"
ok "good config reloaded"
call R-3
wait_sql "SELECT rule_id || ' ' || dispatch_code || ' ' || (rules_version <> '$v1') FROM pmhc.calls WHERE call_id = 'R-3'" \
  "self-harm-cor MH-COR2 true"
ok "new rules decide R-3, with a new rules_version"
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning -c 4 --idle-ms 10000 > "$PMHC_TEST_DIR/recs.jsonl"
expect_eq "recommendation carries the new rules_version" \
  "$(jq -r 'select(.call_id == "R-3") | .rules_version' "$PMHC_TEST_DIR/recs.jsonl")" \
  "$(sql "SELECT rules_version FROM pmhc.calls WHERE call_id = 'R-3'")"
stop_daemon
echo "reload: $checks checks passed"
