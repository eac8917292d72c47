#!/usr/bin/env bash
# An error that no row causes and that does not clear: pmhc.calls renamed
# away under pmhcd (SQLSTATE 42P01; a revoked privilege, 42501, is the same
# class, but the test's role is a superuser, which no REVOKE binds). pmhcd logs
# it at level fatal with the statement's name and the SQLSTATE, /healthz turns
# 503, and after limits.stall_exit it exits 75 (EX_TEMPFAIL) for systemd to
# restart it. It committed no offset of what it did not store: with the table
# back, a restart stores every call produced, once.
source "$(dirname "$0")/lib.sh"

STALL=5
N1=50
N2=120
write_config
sed -i "s/shutdown_timeout = 10;/shutdown_timeout = 10; stall_exit = $STALL;/" "$PMHC_TEST_DIR/pmhcd.conf"
use_http
start_daemon
until_http /readyz 200
{ gen_calls "$N1" A; gen_calls "$N2" B; } > "$PMHC_TEST_DIR/calls.jsonl"
head -n "$N1" "$PMHC_TEST_DIR/calls.jsonl" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
until_stored "$N1" 60

sql "ALTER TABLE pmhc.calls RENAME TO calls_away"
t0=$(date +%s)
tail -n "$N2" "$PMHC_TEST_DIR/calls.jsonl" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
for _ in $(seq 1 200); do
  grep -q 'level=fatal.*escalated' "$PMHC_TEST_DIR/pmhcd.log" && break
  sleep 0.1
done
line=$(grep -m1 'level=fatal.*escalated' "$PMHC_TEST_DIR/pmhcd.log") || fail "no fatal line for the renamed table"
[[ "$line" == *'sqlstate=42P01'* && "$line" == *'statement="'* ]] || fail "the fatal line lacks the SQLSTATE or the statement: $line"
[[ "$line" != *'B-0000'* ]] || fail "the fatal line carries a row: $line"
ok "fatal line: $(grep -o 'statement="[^"]*" sqlstate=[^ ]*' <<<"$line")"
until_http /healthz 503 10
body=$(curl -s "$HTTP_URL/healthz")
[[ "$body" == *"SQLSTATE 42P01"* ]] || fail "/healthz does not say why: $body"
ok "/healthz 503: $body"
scrape
expect_eq "pmhc_healthy while escalated" "$(metric pmhc_healthy)" 0
[ "$(metric pmhc_stalled_seconds | cut -d. -f1)" -ge 0 ] || fail "no pmhc_stalled_seconds"

# limits.stall_exit later, pmhcd exits 75 by itself.
rc=""
for _ in $(seq 1 $(((STALL + 20) * 10))); do
  if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
    rc=0
    wait "$DAEMON_PID" || rc=$?
    break
  fi
  sleep 0.1
done
[ -n "$rc" ] || fail "pmhcd did not exit within limits.stall_exit ($STALL s) and 20 s"
took=$(($(date +%s) - t0))
expect_eq "exit status after limits.stall_exit" "$rc" 75
[ "$took" -ge "$STALL" ] || fail "exited after $took s, before limits.stall_exit ($STALL s)"
grep -q 'level=fatal.*stalled for limits.stall_exit' "$PMHC_TEST_DIR/pmhcd.log" || fail "the exit is not logged as fatal"
ok "exited 75 after $took s (limits.stall_exit = $STALL s)"

# The table back, a restart: everything produced is stored, exactly once.
sql "ALTER TABLE pmhc.calls_away RENAME TO calls"
mv "$PMHC_TEST_DIR/pmhcd.log" "$PMHC_TEST_DIR/pmhcd.1.log"
start_daemon
until_stored $((N1 + N2)) 60
until_http /healthz 200
expect_eq "every call produced is stored" \
  "$(sql "SELECT call_id FROM pmhc.calls ORDER BY 1" | md5sum)" "$(jq -r .call_id "$PMHC_TEST_DIR/calls.jsonl" | sort | md5sum)"
expect_eq "one decision per call" "$(sql "SELECT count(*) FROM pmhc.decisions")" $((N1 + N2))
expect_eq "nothing blamed on a row" "$(sql "SELECT count(*) FROM pmhc.rejected_events")" 0
stop_daemon
echo "escalate: $checks checks passed"
