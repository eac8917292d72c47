#!/usr/bin/env bash
# A row PostgreSQL refuses must not carry the row's contents anywhere: only the
# server's primary message, SQLSTATE and the names of the constraint, column and
# table reach the log (at debug level too), the DLQ's pmhc-reason header and
# pmhc.rejected_events. The server's DETAIL ("Failing row contains (...)") and a
# COPY's CONTEXT quote the narrative, which is stored here on purpose.
source "$(dirname "$0")/lib.sh"

NARRATIVE="caller-says-Narrative-Secret-7731"
SUBJECT="RMS-Secret-4242"

write_config 'log = { level = "debug"; };'
sed -i 's|^privacy = {|privacy = { store_narrative = true;|' "$PMHC_TEST_DIR/pmhcd.conf"
start_daemon
# A DBA's constraint that this one narrative breaks: the refusal's DETAIL quotes the row.
sql "ALTER TABLE pmhc.calls ADD CONSTRAINT no_secret CHECK (narrative !~ 'Secret') NOT VALID"

{
  gen_calls 3 A
  printf '{"type":"call","call_id":"T-1","psap_id":"P","revision":1,"source":"SOURCE_911","nature_code":"MENTAL","subject_key":"%s","narrative":"%s"}\n' \
    "$SUBJECT" "$NARRATIVE"
  gen_calls 3 B
} > "$PMHC_TEST_DIR/calls.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/calls.jsonl"
wait_sql "SELECT count(*) FROM pmhc.calls" 6
wait_sql "SELECT count(*) FROM pmhc.rejected_events" 1
"$PMHC_CONSUME" -b "$PMHC_BROKERS" -t pmhc.dlq --type call --meta --from-beginning -c 1 --idle-ms 10000 \
  > "$PMHC_TEST_DIR/dlq.jsonl" || fail "nothing on pmhc.dlq"
expect_eq "the DLQ holds the refused call" "$(jq -r .call_id "$PMHC_TEST_DIR/dlq.jsonl")" T-1

reason=$(sql "SELECT reason FROM pmhc.rejected_events")
header=$(jq -r '._headers["pmhc-reason"]' "$PMHC_TEST_DIR/dlq.jsonl")
echo "rejected_events.reason: $reason"
echo "pmhc-reason header:     $header"
for where in "$reason" "$header"; do
  case $where in *no_secret*) ;; *) fail "the reason does not name the constraint: $where" ;; esac
done
ok "the reason names the constraint"
# Lines that hold the narrative, the subject key, or the server's quoting of a row.
leaks() {
  awk -v n="$NARRATIVE" -v s="$SUBJECT" \
    'index($0, n) || index($0, s) || /Failing row|CONTEXT/ { c++ } END { print c + 0 }'
}
expect_eq "no narrative, subject key or row in rejected_events.reason" "$(leaks <<<"$reason")" 0
expect_eq "none in the DLQ's pmhc-reason header" "$(leaks <<<"$header")" 0
grep -q 'no_secret' "$PMHC_TEST_DIR/pmhcd.log" || fail "the log never mentions the refusal"
expect_eq "none in pmhcd's log, at debug level" "$(leaks <"$PMHC_TEST_DIR/pmhcd.log")" 0
stop_daemon
echo "terse: $checks checks passed"
