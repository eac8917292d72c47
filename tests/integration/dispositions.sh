#!/usr/bin/env bash
# Dispositions through the real Kafka protocol: stored with their call even
# when they arrive first; a later one (by closed_at, then arrival) replaces an
# earlier one; a disposition ends the holds on its call's units at once; a bad
# one goes to the DLQ and an unknown code is degraded, never lost.
source "$(dirname "$0")/lib.sh"

"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-units.jsonl"
write_config
start_daemon

T=1763870400000
call() {  # call ID BEAT: a CIT call (history of violence) in BEAT of district 52
  printf '{"type":"call","call_id":"%s","psap_id":"TPS","revision":1,"received_at_ms":%d,"source":"SOURCE_911","nature_code":"EDP","location":{"beat":"%s","district":"52"},"screening":{"history_of_violence":"ANSWER_YES"}}\n' \
    "$1" "$T" "$2" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
}
disposition() {  # disposition ID CLOSED_AT CODE [extra JSON members]; a numeric CODE is sent as a number
  local code="\"$3\""
  case "$3" in *[!0-9]*) ;; *) code=$3 ;; esac
  printf '{"type":"disposition","call_id":"%s","psap_id":"TPS","closed_at_ms":%d,"code":%s%s}\n' \
    "$1" "$2" "$code" "${4:-}" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
}
units_of() { sql "SELECT array_to_string(unit_ids, ',') FROM pmhc.calls WHERE call_id = '$1'"; }

# 1. A disposition that arrives before its call is kept and joins when the call comes.
disposition D-1 $((T + 600000)) DISP_REFERRED ',"connected_to_services":true,"service_name":"Gerstein Crisis Centre","unit_ids":["COR-2"]'
wait_sql "SELECT code FROM pmhc.dispositions WHERE call_id = 'D-1'" REFERRED
call D-1 55-4   # takes CIT-7 (same beat), leaving CIT-3 for D-3
wait_sql "SELECT c.rule_id || ' ' || d.code || ' ' || d.service_name FROM pmhc.calls c
          JOIN pmhc.dispositions d USING (psap_id, call_id) WHERE call_id = 'D-1'" \
  "mh-history-violence REFERRED Gerstein Crisis Centre"
ok "disposition before its call: kept, and joined once the call arrived"

# 2. The replacement rule.
disposition D-2 $((T + 1000)) DISP_RESOLVED_ON_SCENE
wait_sql "SELECT code FROM pmhc.dispositions WHERE call_id = 'D-2'" RESOLVED_ON_SCENE
disposition D-2 $((T + 900)) DISP_ARREST ',"arrest":true'
disposition D-2 $((T + 1000)) DISP_TRANSPORTED_ER
wait_sql "SELECT code FROM pmhc.dispositions WHERE call_id = 'D-2'" TRANSPORTED_ER
expect_eq "an older disposition arriving late changed nothing" \
  "$(sql "SELECT arrest FROM pmhc.dispositions WHERE call_id = 'D-2'")" f
disposition D-2 $((T + 2000)) DISP_INVOLUNTARY_HOLD
wait_sql "SELECT code FROM pmhc.dispositions WHERE call_id = 'D-2'" INVOLUNTARY_HOLD
ok "a later closed_at replaces; equal closed_at: the later arrival replaces"

# 3. A disposition ends the holds on its call's units at once.
call D-3 52-1
wait_sql "SELECT array_to_string(unit_ids, ',') FROM pmhc.calls WHERE call_id = 'D-3'" CIT-3
call D-4 52-1
wait_sql "SELECT fallback_used FROM pmhc.calls WHERE call_id = 'D-4'" t
expect_eq "D-4 found no CIT officer free" "$(units_of D-4 | grep -c CIT || true)" 0
disposition D-3 $((T + 5000)) DISP_RESOLVED_ON_SCENE
wait_sql "SELECT count(*) FROM pmhc.dispositions WHERE call_id = 'D-3'" 1
call D-5 52-1
wait_sql "SELECT array_to_string(unit_ids, ',') FROM pmhc.calls WHERE call_id = 'D-5'" CIT-3
ok "D-3's disposition freed CIT-3 for D-5 before its hold ran out"

# 4. Bad input: rejected to the DLQ, or degraded and stored.
disposition "" $((T + 1)) DISP_REFERRED
disposition D-6 $((T + 1)) 99
wait_sql "SELECT count(*) FROM pmhc.rejected_events WHERE source_topic = 'cad.dispositions'" 1
expect_eq "rejected disposition's reason" \
  "$(sql "SELECT reason FROM pmhc.rejected_events WHERE source_topic = 'cad.dispositions'")" "call_id is empty"
wait_sql "SELECT code FROM pmhc.dispositions WHERE call_id = 'D-6'" UNSPECIFIED
ok "an unknown disposition code is stored as UNSPECIFIED, not lost"
grep -q 'disposition degraded but stored.*code has unknown value 99' "$PMHC_TEST_DIR/pmhcd.log" \
  || fail "degraded disposition not logged"
ok "the degradation is logged with its reason"

stop_daemon
echo "dispositions: $checks checks passed"
