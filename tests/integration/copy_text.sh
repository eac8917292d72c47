#!/usr/bin/env bash
# Text reaches PostgreSQL through COPY's text format, in which a tab, a
# newline, a carriage return and a backslash mean something, and through
# array literals, in which a quote, a backslash, a comma and braces do. A call
# carrying all of them, a trailing backslash and UTF-8 is stored exactly as
# sent, on the live path (COPY into staging, then a merge) and on the backfill
# path (COPY into the tables).
source "$(dirname "$0")/lib.sh"

# JSON escapes: \t \n \r \\ and \" reach the protobuf as the bytes themselves.
nasty='tab\there\nnew line\rCR back\\slash \\N not null \\x41 {brace} \"quote\", comma'
call() { # call ID
  printf '{"type":"call","call_id":"%s","psap_id":"TXT","revision":1,"received_at_ms":1763870400000,"source":"SOURCE_911","nature_code":"EDP","nature_text":"%s","premise_flags":["plain","%s","a,b","{x}","\\"q\\"","back\\\\slash","NULL","","end\\\\","café ☎"],"location":{"beat":"B\\t1","district":"D\\\\2"},"screening":{"weapon_involved":"ANSWER_NO"}}\n' \
    "$1" "$nasty" "$nasty"
}
# The same values as SQL literals.
want_text="E'tab\\there\\nnew line\\rCR back\\\\slash \\\\N not null \\\\x41 {brace} \"quote\", comma'"
check() { # LABEL CALL_ID
  expect_eq "$1: nature_text as sent" \
    "$(sql "SELECT nature_text = $want_text FROM pmhc.calls WHERE call_id = '$2'")" t
  expect_eq "$1: every premise flag as sent, none taken for NULL or split" \
    "$(sql "SELECT premise_flags = ARRAY['plain', $want_text, 'a,b', '{x}', '\"q\"', E'back\\\\slash', 'NULL', '',
            E'end\\\\', 'café ☎'] FROM pmhc.calls WHERE call_id = '$2'")" t
  expect_eq "$1: beat and district as sent" \
    "$(sql "SELECT beat = E'B\\t1' AND district = E'D\\\\2' FROM pmhc.calls WHERE call_id = '$2'")" t
}

write_config
start_daemon
call LIVE-TXT | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id = 'LIVE-TXT'" 1
check live LIVE-TXT
stop_daemon

call HIST-TXT > "$PMHC_TEST_DIR/history.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --history cad.history "$PMHC_TEST_DIR/history.jsonl" 2>/dev/null
# At debug level the batch says it went straight into the tables, not through the merge.
write_config 'log = { level = "debug"; };'
timeout 60 "$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2>"$PMHC_TEST_DIR/backfill.log" ||
  fail "pmhcd --backfill exited $?"
grep -q 'msg="batch written" calls=1 calls_path=copy' "$PMHC_TEST_DIR/backfill.log" ||
  fail "the history call did not go straight into the tables by COPY"
check backfill HIST-TXT
expect_eq "nothing refused" "$(sql "SELECT count(*) FROM pmhc.rejected_events")" 0
echo "copy_text: $checks checks passed"
