#!/usr/bin/env bash
# A row PostgreSQL refuses for its data (here a constraint a DBA added) must not
# hold back the rows around it: the batch is written row by row, the refused
# row goes to the DLQ and to pmhc.rejected_events with PostgreSQL's reason,
# everything else is stored, and pmhcd goes on.
source "$(dirname "$0")/lib.sh"

write_config
start_daemon
sql "ALTER TABLE pmhc.calls ADD CONSTRAINT no_poison CHECK (call_id !~ '^POISON') NOT VALID"

{ gen_calls 5 A; gen_calls 1 POISON; gen_calls 5 B; } > "$PMHC_TEST_DIR/calls.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/calls.jsonl"
wait_sql "SELECT count(*) FROM pmhc.calls" 10
wait_sql "SELECT count(*) FROM pmhc.rejected_events" 1
expect_eq "the refused row is recorded with PostgreSQL's reason" \
  "$(sql "SELECT reason ~ '^refused by PostgreSQL: .*no_poison' FROM pmhc.rejected_events")" t
expect_eq "its neighbours were stored" "$(sql "SELECT count(*) FROM pmhc.calls WHERE call_id ~ '^[AB]-'")" 10

"$PMHC_CONSUME" -b "$PMHC_BROKERS" -t pmhc.dlq --type call --meta --from-beginning -c 1 --idle-ms 10000 \
  > "$PMHC_TEST_DIR/dlq.jsonl" || fail "nothing on pmhc.dlq"
expect_eq "the DLQ holds the refused call" "$(jq -r '.call_id' "$PMHC_TEST_DIR/dlq.jsonl")" "POISON-000000"
expect_eq "with its source position" "$(jq -r '._headers["pmhc-source-topic"]' "$PMHC_TEST_DIR/dlq.jsonl")" "cad.calls"
expect_eq "and the same reason" "$(jq -r '._headers["pmhc-reason"] | startswith("refused by PostgreSQL")' "$PMHC_TEST_DIR/dlq.jsonl")" true

gen_calls 3 C | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
wait_sql "SELECT count(*) FROM pmhc.calls" 13
ok "pmhcd goes on storing after the refusal"
stop_daemon
echo "poison: $checks checks passed"
