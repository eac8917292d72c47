#!/usr/bin/env bash
# pmhc.dlq keeps rejected input byte for byte: raw subject keys and narratives.
# pmhc-consume --redact prints a DLQ entry without them, and without them in a
# header that quotes them (as a PostgreSQL refusal quoting the failing row did).
source "$(dirname "$0")/lib.sh"

KEY=RMS-SECRET-4711
NARR="Caller says Jane Roe hears voices at home"
ADDR="12 Hidden Lane"
write_config
start_daemon
# An empty call_id is rejected to the DLQ unchanged, everything else in it kept.
printf '{"type":"call","call_id":"","psap_id":"P","revision":1,"source":"SOURCE_911","nature_code":"EDP","nature_text":"Jane Roe again","subject_key":"%s","narrative":"%s","call_taker_id":"CT-77","location":{"address":"%s","lat":43.65,"lon":-79.38,"beat":"B1"}}\n' \
  "$KEY" "$NARR" "$ADDR" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
wait_sql "SELECT count(*) FROM pmhc.rejected_events" 1
stop_daemon

"$PMHC_CONSUME" -b "$PMHC_BROKERS" -t pmhc.dlq --type call --meta --from-beginning -c 1 --idle-ms 10000 \
  >"$PMHC_TEST_DIR/plain.jsonl"
for s in "$KEY" "$NARR" "$ADDR" CT-77 "Jane Roe again" 43.65; do
  grep -qF -- "$s" "$PMHC_TEST_DIR/plain.jsonl" || fail "the DLQ entry does not hold '$s' to begin with"
done
ok "the DLQ entry holds the subject key, the narrative and the address in clear"

"$PMHC_CONSUME" -b "$PMHC_BROKERS" -t pmhc.dlq --type call --meta --redact --from-beginning -c 1 --idle-ms 10000 \
  >"$PMHC_TEST_DIR/redacted.jsonl"
for s in "$KEY" "$NARR" "$ADDR" CT-77 "Jane Roe" 43.65 -79.38; do
  if grep -qF -- "$s" "$PMHC_TEST_DIR/redacted.jsonl"; then fail "--redact printed '$s'"; fi
done
expect_eq "--redact marks what it hid" \
  "$(jq -r '[.subject_key, .narrative, .call_taker_id, .nature_text, .location.address, .location.lat] | unique | join(",")' \
    "$PMHC_TEST_DIR/redacted.jsonl")" "[redacted]"
expect_eq "--redact keeps what is needed to find the input" \
  "$(jq -r '[.psap_id, .nature_code, .location.beat, (._headers["pmhc-reason"] | length > 0)] | join(",")' \
    "$PMHC_TEST_DIR/redacted.jsonl")" "P,EDP,B1,true"

# The same bytes again, with a header that quotes them.
kcat -C -b "$PMHC_BROKERS" -t pmhc.dlq -o beginning -c 1 -e -q -f '%s' >"$PMHC_TEST_DIR/entry.bin"
kcat -P -b "$PMHC_BROKERS" -t pmhc.dlq -k P/ \
  -H "pmhc-reason=refused by PostgreSQL: Failing row contains ($KEY, $NARR, $ADDR)" "$PMHC_TEST_DIR/entry.bin"
"$PMHC_CONSUME" -b "$PMHC_BROKERS" -t pmhc.dlq --type call --meta --redact --from-beginning -c 2 --idle-ms 10000 \
  >"$PMHC_TEST_DIR/redacted2.jsonl"
expect_eq "the header is printed, its quoted values hidden" \
  "$(jq -r 'select(._offset == 1) | ._headers["pmhc-reason"]' "$PMHC_TEST_DIR/redacted2.jsonl")" \
  "refused by PostgreSQL: Failing row contains ([redacted], [redacted], [redacted])"
for s in "$KEY" "$NARR" "$ADDR"; do
  if grep -qF -- "$s" "$PMHC_TEST_DIR/redacted2.jsonl"; then fail "--redact printed '$s' from a header"; fi
done
ok "no subject key, narrative or address in any redacted line"
echo "redact: $checks checks passed"
