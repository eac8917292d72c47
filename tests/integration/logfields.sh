#!/usr/bin/env bash
# Identifiers come from outside: a call_id holding a double quote and a newline
# must not forge a log field or a log line. Every line pmhcd writes starts with
# its timestamp, and the identifier appears escaped inside its quoted field.
source "$(dirname "$0")/lib.sh"

write_config 'log = { level = "debug"; };'
start_daemon
# Source 99 is unknown: the call is degraded, so it is logged at warn as well as debug.
printf '%s\n' '{"type":"call","call_id":"F-1\" forged=\"yes\n2026-01-01T00:00:00.000Z level=error msg=\"forged line\"","psap_id":"P","revision":1,"source":99,"nature_code":"MENTAL"}' |
  "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
gen_calls 1 AFTER | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id LIKE 'AFTER-%'" 1
grep -q 'input degraded but routed' "$PMHC_TEST_DIR/pmhcd.log" || fail "the degraded call was not logged"

expect_eq "every log line starts with its timestamp" \
  "$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z level=' "$PMHC_TEST_DIR/pmhcd.log")" 0
expect_eq "no forged line" "$(grep -c '^2026-01-01T00:00:00.000Z' "$PMHC_TEST_DIR/pmhcd.log")" 0
expect_eq "no forged field" "$(grep -c ' forged="yes' "$PMHC_TEST_DIR/pmhcd.log")" 0
grep -qF 'input degraded but routed" call="P/F-1\" forged=\"yes\n2026-01-01T00:00:00.000Z level=error msg=\"forged line\"" ' \
  "$PMHC_TEST_DIR/pmhcd.log" || fail "the identifier is not logged escaped in its field"
ok "the identifier is logged escaped, inside its quoted field"
stop_daemon
echo "logfields: $checks checks passed"
