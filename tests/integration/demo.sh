#!/usr/bin/env bash
# The README's demo, as a newcomer runs it (scripts/demo-run.sh, the part of
# scripts/demo.sh after the install and the build), on this test's servers: it
# must run to its end, store every sample call and disposition, show the
# analysts' outcomes and write a report that is a page. The demo once failed at
# its last step while every other test passed.
source "$(dirname "$0")/lib.sh"

build=$(cd "$(dirname "$PMHCD")/.." && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$PMHC_TEST_DIR/demo.out
report=$PMHC_TEST_DIR/demo-report.html

cd "$root"
if ! bash scripts/demo-run.sh "$build" "$DATA/sample-calls.jsonl" "$DATA/sample-units.jsonl" \
  "$DATA/sample-dispositions.jsonl" "$report" >"$out" 2>&1; then
  tail -n 30 "$out" >&2
  fail "the demo stopped before its end"
fi
ok "the demo ran to its end"

grep -q 'pmhcd stopped cleanly' "$out" || fail "the demo did not say pmhcd stopped cleanly"
ok "pmhcd stopped cleanly"

# Every sample call event is a new (call, revision): each one decided and stored once.
events=$(grep -c '"type":"call"' "$DATA/sample-calls.jsonl")
calls=$(grep '"type":"call"' "$DATA/sample-calls.jsonl" | jq -r '.psap_id + "/" + .call_id' | sort -u | wc -l)
expect_eq "decisions stored" "$(sql "SELECT count(*) FROM pmhc.decisions")" "$events"
expect_eq "calls stored" "$(sql "SELECT count(*) FROM pmhc.calls")" "$calls"
expect_eq "dispositions stored" "$(sql "SELECT count(*) FROM pmhc.dispositions")" \
  "$(grep -c '"type":"disposition"' "$DATA/sample-dispositions.jsonl")"

# The outcomes, read as an analyst: the demo showed the table, and it has its MH calls.
grep -q 'connected_rate' "$out" || fail "the demo did not show the outcomes"
[ "$(analyst_sql "SELECT coalesce(sum(mh_calls), 0) FROM pmhc.outcomes_by_month WHERE psap_id = 'TPS'")" -gt 0 ] ||
  fail "the analysts' outcomes count no MH call"
ok "the analysts' outcomes count the MH calls"

grep -q "report written: $report" "$out" || fail "the demo did not say where its report went"
[ -s "$report" ] || fail "no report at $report"
grep -q '<svg' "$report" || fail "the report has no chart"
grep -q '</html>' "$report" || fail "the report ends before </html>"
ok "the report is written, with its charts"

echo "demo: $checks checks passed"
