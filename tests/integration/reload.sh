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
write_config 'flowchart = (
  { id = "not-mh"; none = [ "MH" ]; response = "STANDARD"; dispatch_code = ""; },
  { id = "self-harm-cor"; all = [ "SELF_HARM" ]; response = "CO_RESPONDER"; dispatch_code = "MH-COR2"; },
  { id = "rest"; response = "CIT"; dispatch_code = "MH-CIT"; } );'
# write_config made a new key file: a key change needs a restart, and says so.
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q 'configuration reloaded' "$PMHC_TEST_DIR/pmhcd.log" && break; sleep 0.1; done
grep -q 'configuration reloaded' "$PMHC_TEST_DIR/pmhcd.log" || fail "good config not reloaded"
grep -q 'take effect only after a restart.*privacy.subject_key' "$PMHC_TEST_DIR/pmhcd.log" \
  || fail "key change not flagged as needing a restart"
ok "good config reloaded; a changed key is flagged as needing a restart"
call R-3
wait_sql "SELECT rule_id || ' ' || dispatch_code || ' ' || (rules_version <> '$v1') FROM pmhc.calls WHERE call_id = 'R-3'" \
  "self-harm-cor MH-COR2 true"
ok "new rules decide R-3, with a new rules_version"
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning -c 3 --idle-ms 10000 > "$PMHC_TEST_DIR/recs.jsonl"
expect_eq "recommendation carries the new rules_version" \
  "$(jq -r 'select(.call_id == "R-3") | .rules_version' "$PMHC_TEST_DIR/recs.jsonl")" \
  "$(sql "SELECT rules_version FROM pmhc.calls WHERE call_id = 'R-3'")"
stop_daemon
echo "reload: $checks checks passed"
