#!/usr/bin/env bash
# Errors that no row causes and that do not clear. First pmhcd's role loses
# INSERT on pmhc.calls (42501, revoked by a DBA): pmhcd logs it at level fatal with the
# statement's name and the SQLSTATE (never a row), /healthz turns 503, and
# after limits.stall_exit it exits 75 (EX_TEMPFAIL) for systemd to restart
# it, having committed no offset of what it did not store: with the grant
# back, a restart stores every call produced, once. Then pmhc.calls is renamed
# away (42P01) and back: escalated, then cleared by the next write that
# succeeds, without a restart.
source "$(dirname "$0")/lib.sh"

STALL=5
N1=50
N2=120
N3=80
write_config
sed -i "s/shutdown_timeout = 10;/shutdown_timeout = 10; stall_exit = $STALL;/" "$PMHC_TEST_DIR/pmhcd.conf"
use_http
{ gen_calls "$N1" A; gen_calls "$N2" B; gen_calls "$N3" C; } > "$PMHC_TEST_DIR/calls.jsonl"

# pmhcd runs as pmhcd_daemon, a LOGIN member of pmhc_writer (with-servers.sh):
# a DBA revoking INSERT from pmhc_writer by mistake takes it from the daemon.
start_daemon
until_http /readyz 200
head -n "$N1" "$PMHC_TEST_DIR/calls.jsonl" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
until_stored "$N1" 60

# until_fatal SQLSTATE: the fatal line of an escalation for SQLSTATE, into $line.
until_fatal() {
  for _ in $(seq 1 200); do
    grep -q "level=fatal.*escalated.*sqlstate=$1" "$PMHC_TEST_DIR/pmhcd.log" && break
    sleep 0.1
  done
  line=$(grep -m1 "level=fatal.*escalated.*sqlstate=$1" "$PMHC_TEST_DIR/pmhcd.log") ||
    fail "no fatal line for SQLSTATE $1"
  [[ "$line" == *'statement="'* ]] || fail "the fatal line does not name the statement: $line"
  [[ "$line" != *'-00000'* ]] || fail "the fatal line carries a row: $line"
  ok "fatal line: $(grep -o 'statement="[^"]*" sqlstate=[^ ]*' <<<"$line")"
}

sql "REVOKE INSERT ON pmhc.calls FROM pmhc_writer"
t0=$(date +%s)
sed -n "$((N1 + 1)),$((N1 + N2))p" "$PMHC_TEST_DIR/calls.jsonl" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
until_fatal 42501
until_http /healthz 503 10
body=$(curl -s "$HTTP_URL/healthz")
[[ "$body" == *"SQLSTATE 42501"* ]] || fail "/healthz does not say why: $body"
ok "/healthz 503: $body"
scrape
expect_eq "pmhc_healthy while escalated" "$(metric pmhc_healthy)" 0
awk -v s="$(metric pmhc_stalled_seconds)" 'BEGIN { exit !(s > 0) }' || fail "pmhc_stalled_seconds is $(metric pmhc_stalled_seconds)"

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

# The grant back, a restart: everything produced so far is stored, exactly once.
sql "GRANT INSERT ON pmhc.calls TO pmhc_writer"
mv "$PMHC_TEST_DIR/pmhcd.log" "$PMHC_TEST_DIR/pmhcd.1.log"
start_daemon
until_stored $((N1 + N2)) 60
until_http /healthz 200
expect_eq "every call produced is stored after the restart" \
  "$(sql "SELECT call_id FROM pmhc.calls ORDER BY 1" | md5sum)" \
  "$(head -n $((N1 + N2)) "$PMHC_TEST_DIR/calls.jsonl" | jq -r .call_id | sort | md5sum)"

# A table renamed away and back: escalated, then cleared by a write, no restart.
sql "ALTER TABLE pmhc.calls RENAME TO calls_away"
tail -n "$N3" "$PMHC_TEST_DIR/calls.jsonl" | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
until_fatal 42P01
until_http /healthz 503 10
sql "ALTER TABLE pmhc.calls_away RENAME TO calls"
until_http /healthz 200 30
grep -q 'PostgreSQL takes writes again; escalation cleared' "$PMHC_TEST_DIR/pmhcd.log" || fail "the clearing is not logged"
ok "cleared by the next write that succeeded"
until_stored $((N1 + N2 + N3)) 60
kill -0 "$DAEMON_PID" || fail "pmhcd exited"
expect_eq "every call produced is stored" \
  "$(sql "SELECT call_id FROM pmhc.calls ORDER BY 1" | md5sum)" "$(jq -r .call_id "$PMHC_TEST_DIR/calls.jsonl" | sort | md5sum)"
expect_eq "one decision per call" "$(sql "SELECT count(*) FROM pmhc.decisions")" $((N1 + N2 + N3))
expect_eq "nothing blamed on a row" "$(sql "SELECT count(*) FROM pmhc.rejected_events")" 0
stop_daemon
echo "escalate: $checks checks passed"
