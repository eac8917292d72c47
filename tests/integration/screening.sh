#!/usr/bin/env bash
# The decision keeps its answers, the call-taker is stored only as a keyed
# hash, and the analysts see screening fidelity and the nature codes their
# table does not know (issue: safer routing).
source "$(dirname "$0")/lib.sh"

write_config
start_daemon
call() { # ID CALL_TAKER NATURE SCREENING-JSON
  printf '{"type":"call","call_id":"%s","psap_id":"FID","revision":1,"received_at_ms":1763870400000,"source":"SOURCE_911","nature_code":"%s","call_taker_id":"%s","screening":%s}\n' \
    "$1" "$3" "$2" "$4"
}
{
  call S-1 CT-SECRET-7 EDP '{"mental_health_issue":"ANSWER_YES","weapon_involved":"ANSWER_NO","attempt_in_progress":"ANSWER_YES"}'
  call S-2 CT-SECRET-7 EDP '{"about_mental_state":"ANSWER_YES","weapon_involved":"ANSWER_NO","violence_in_progress":"ANSWER_NO"}'
  call S-3 CT-SECRET-8 ZZ-NOT-A-CODE '{"mental_health_issue":"ANSWER_NO"}'
  call S-4 "" EDP '{}'
  printf '{"type":"disposition","call_id":"S-1","psap_id":"FID","closed_at_ms":1763874000000,"code":"DISP_TRANSPORTED_CRISIS_CENTER"}\n'
  printf '{"type":"disposition","call_id":"S-2","psap_id":"FID","closed_at_ms":1763874000000,"code":"DISP_RESOLVED_ON_SCENE"}\n'
} > "$PMHC_TEST_DIR/in.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/in.jsonl"
wait_sql "SELECT count(*) FROM pmhc.calls WHERE psap_id = 'FID'" 4
wait_sql "SELECT count(*) FROM pmhc.dispositions WHERE psap_id = 'FID'" 2

expect_eq "the twelve answers stored with the call (Q1 yes, Q4 no, Q12 yes)" \
  "$(sql "SELECT answers FROM pmhc.calls WHERE call_id = 'S-1'")" "Y??N???????Y"
expect_eq "and with its decision" "$(sql "SELECT answers FROM pmhc.decisions WHERE call_id = 'S-1'")" "Y??N???????Y"
expect_eq "a call with no answers stores twelve unknowns" "$(sql "SELECT answers FROM pmhc.calls WHERE call_id = 'S-4'")" "????????????"
expect_eq "the call-taker is a 32-byte keyed hash, the same for the same id" \
  "$(sql "SELECT count(DISTINCT call_taker_hash) || ' ' || min(octet_length(call_taker_hash)) FROM pmhc.calls WHERE call_id IN ('S-1', 'S-2')")" "1 32"
expect_eq "no call-taker, no hash" "$(sql "SELECT call_taker_hash IS NULL FROM pmhc.calls WHERE call_id = 'S-4'")" t
expect_eq "the call-taker id itself is nowhere in the database" \
  "$(sql "SELECT (SELECT count(*) FROM pmhc.calls c WHERE c::text LIKE '%CT-SECRET%') + (SELECT count(*) FROM pmhc.decisions d WHERE d::text LIKE '%CT-SECRET%')")" 0
grep -q 'CT-SECRET' "$PMHC_TEST_DIR/pmhcd.log" && fail "the call-taker id reached the log"
ok "the call-taker id is not in the log"

expect_eq "the nature code the table does not know is shown" \
  "$(sql "SELECT nature_code_mapped || ' ' || calls FROM pmhc.unknown_nature_codes WHERE psap_id = 'FID'")" "ZZ-NOT-A-CODE 1"
expect_eq "a known code is known" "$(sql "SELECT nature_known FROM pmhc.calls WHERE call_id = 'S-1'")" t
# Q4 (weapon) was asked on S-1 and S-2, not on S-4: 2 of the 3 MH calls.
expect_eq "how often the weapon question was asked on MH calls" \
  "$(sql "SELECT mh_calls || ' ' || asked_share FROM pmhc.screening_fidelity WHERE psap_id = 'FID' AND question = 4")" "3 0.6667"
# S-1 screened MH and went to a crisis center: agreed. S-2 screened MH, resolved on scene: did not.
expect_eq "screening against the disposition" \
  "$(sql "SELECT with_disposition || ' ' || screening_agreed_share FROM pmhc.screening_fidelity WHERE psap_id = 'FID' AND question = 1")" "2 0.5000"
stop_daemon
grep -q 'unknown_nature_codes=1 ' "$PMHC_TEST_DIR/pmhcd.log" || fail "the stats line does not count the unknown nature code"
ok "the stats line counts the unknown nature code"
echo "screening: $checks checks passed"
