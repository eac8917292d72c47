#!/usr/bin/env bash
# Who goes, through the real Kafka protocol: unit statuses on cad.units are
# read in full (outside the consumer group) and the roster is rebuilt before
# any call is decided; each sample call gets exactly the units SPEC section 4
# ranks first, fallbacks are said plainly, holds keep two calls from sharing a
# unit, and the units are stored with the call and its decision.
# Runs with one partition so that calls are decided in the order produced.
source "$(dirname "$0")/lib.sh"

# Statuses first: the daemon must rebuild the roster from them at start.
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-units.jsonl"
write_config
start_daemon
grep -q 'unit roster rebuilt from cad.units" units=12 statuses=13' "$PMHC_TEST_DIR/pmhcd.log" \
  || fail "roster not rebuilt from all 13 statuses of 12 units before deciding"
ok "roster rebuilt at start: 12 units from 13 statuses"

# 19 decisions since the sample calls gained the eight calls of the safer routes
# (branch routing); there were 11.
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-calls.jsonl"
wait_sql "SELECT count(*) FROM pmhc.decisions" 19

while read -r id rev units fallback; do
  case "$id" in '#'*|'') continue ;; esac
  [ "$units" = "-" ] && units=""
  got=$(sql "SELECT array_to_string(unit_ids, ',') || ' ' || left(fallback_used::text, 1) FROM pmhc.decisions
             WHERE call_id = '$id' AND revision = $rev")
  expect_eq "units for $id rev $rev" "$got" "$units $fallback"
done < "$DATA/sample-calls.units-expected"
expect_eq "pmhc.calls keeps the newest revision's units" \
  "$(sql "SELECT array_to_string(unit_ids, ',') || ' ' || left(fallback_used::text, 1) FROM pmhc.calls WHERE call_id = '24-000104'")" \
  "EMS-4,P-12 t"

"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning -c 19 --idle-ms 15000 > "$PMHC_TEST_DIR/recs.jsonl"
summary() { jq -r --arg id "$1" --argjson rev "$2" 'select(.call_id == $id and .revision == $rev) | .summary' "$PMHC_TEST_DIR/recs.jsonl"; }
expect_eq "recommendation lists the units" \
  "$(jq -r 'select(.call_id == "24-000102") | .unit_ids | join(",")' "$PMHC_TEST_DIR/recs.jsonl")" "CIT-3,P-21"
expect_eq "plain summary with units" "$(summary 24-000102 1)" \
  "Mental-health call (weapon reported, mental-health history at this location): send a CIT officer with patrol backup, code MH-CITB; CIT officer CIT-3; patrol unit P-21 as backup; not asked or unknown: violence in progress, danger to others, medical emergency, attempt in progress."
# A 988 caller's mobile crisis team never becomes patrol (it did: "patrol unit P-40
# instead" under "not police", before the safer routing of branch routing).
expect_eq "a crisis team stood in for by a co-responder team, said plainly" "$(summary 24-000114 1)" \
  "Mental-health call (danger to self): send a mobile crisis team, not police, code MH-MCT; no mobile crisis team free — co-responder team COR-2 instead, so an officer goes with the clinician."
expect_eq "no crisis team and no co-responder team: request one, no police" "$(summary 24-000118 1)" \
  "988 mental-health call (violence or weapons history at this location): send a mobile crisis team, not police, code MH-MCT; no mobile crisis team free — request one."
expect_eq "fallback said plainly" "$(summary 24-000109 1)" \
  "988 mental-health call (at risk of victimization, off medication): send a co-responder team (officer and clinician), code MH-COR; no co-responder team free — request one; not asked or unknown: weapon, violence in progress, danger to others, medical emergency, attempt in progress."
expect_eq "EMS found" "$(summary 24-000104 1 | grep -o 'EMS unit EMS-4; no CIT officer free — patrol unit P-12 instead')" \
  "EMS unit EMS-4; no CIT officer free — patrol unit P-12 instead"
expect_eq "a call diversion takes no unit" "$(jq -r 'select(.call_id == "24-000113") | .unit_ids // [] | length' "$PMHC_TEST_DIR/recs.jsonl")" 0
expect_eq "response and code kept when nothing is free" \
  "$(jq -r 'select(.call_id == "24-000101" and .revision == 2) | "\(.response) \(.dispatch_code) \(.unit_ids // [] | length)"' "$PMHC_TEST_DIR/recs.jsonl")" \
  "RESPONSE_CIT_WITH_BACKUP MH-CITB 0"

# A unit going busy and coming back: a newer status releases its hold at once.
printf '{"type":"unit","unit_id":"CIT-3","psap_id":"TPS","kind":"UNIT_CIT_OFFICER","state":"UNIT_AVAILABLE","at_ms":1763870500000,"beat":"52-1","district":"52","lat":43.6460,"lon":-79.3800}\n' \
  | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
sleep 0.5
printf '{"type":"call","call_id":"24-000120","psap_id":"TPS","revision":1,"received_at_ms":1763870600000,"source":"SOURCE_911","nature_code":"EDP","location":{"beat":"52-1","district":"52"},"screening":{"history_of_violence":"ANSWER_YES"}}\n' \
  | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
wait_sql "SELECT array_to_string(unit_ids, ',') FROM pmhc.calls WHERE call_id = '24-000120'" "CIT-3"
ok "a newer status ended CIT-3's hold: it goes to the next CIT call"
wait_sql "SELECT count(*) FROM pmhc.unit_status" 14
expect_eq "unit statuses recorded, kinds and states by name" \
  "$(sql "SELECT kind || ' ' || state FROM pmhc.unit_status WHERE unit_id = 'CIT-9' ORDER BY at")" \
  "$(printf 'CIT_OFFICER AVAILABLE\nCIT_OFFICER OUT_OF_SERVICE')"

# Restart: the roster comes back from cad.units, and the holds from what was
# recommended within units.hold (pmhc.recommendations, kafka.share_holds): a restart
# no longer forgets that MCT-1 is on its way to another call.
holder=$(sql "SELECT call_id FROM pmhc.calls WHERE 'MCT-1' = ANY(unit_ids)")
[ -n "$holder" ] || fail "no call holds MCT-1 before the restart"
stop_daemon
: > "$PMHC_TEST_DIR/pmhcd.log"
start_daemon
grep -q 'unit roster rebuilt from cad.units" units=12 statuses=14' "$PMHC_TEST_DIR/pmhcd.log" \
  || fail "roster not rebuilt after restart"
# Weapon, violence and medical answered NO: a mobile crisis team (the safer default of
# branch routing sends none to a 988 call whose safety questions nobody asked).
printf '{"type":"call","call_id":"24-000121","psap_id":"TPS","revision":1,"received_at_ms":1763870700000,"source":"SOURCE_988","nature_code":"","location":{"beat":"14-1","district":"14"},"screening":{"weapon_involved":"ANSWER_NO","violence_in_progress":"ANSWER_NO","danger_to_others":"ANSWER_NO","medical_emergency":"ANSWER_NO","attempt_in_progress":"ANSWER_NO"}}\n' \
  | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id = '24-000121'" 1
expect_eq "after a restart MCT-1 is still held for $holder" \
  "$(sql "SELECT 'MCT-1' = ANY(unit_ids) FROM pmhc.calls WHERE call_id = '24-000121'")" f
# MCT-1 reports in again: the newer status ends the learned hold, as it ends any.
printf '{"type":"unit","unit_id":"MCT-1","psap_id":"TPS","kind":"UNIT_MOBILE_CRISIS","state":"UNIT_AVAILABLE","at_ms":1763870800000,"beat":"14-1","district":"14"}\n' \
  | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
sleep 0.5
printf '{"type":"call","call_id":"24-000122","psap_id":"TPS","revision":1,"received_at_ms":1763870900000,"source":"SOURCE_988","nature_code":"","location":{"beat":"14-1","district":"14"},"screening":{"weapon_involved":"ANSWER_NO","violence_in_progress":"ANSWER_NO","danger_to_others":"ANSWER_NO","medical_emergency":"ANSWER_NO","attempt_in_progress":"ANSWER_NO"}}\n' \
  | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
wait_sql "SELECT array_to_string(unit_ids, ',') || ' ' || left(fallback_used::text, 1) FROM pmhc.calls WHERE call_id = '24-000122'" "MCT-1 f"
ok "after a restart the rebuilt roster serves the next call once MCT-1 reports in"
expect_eq "a restart re-reads cad.units but records each status once" "$(sql "SELECT count(*) FROM pmhc.unit_status")" 15
stop_daemon
echo "units: $checks checks passed"
