#!/usr/bin/env bash
# Memory stays bounded in bytes through a PostgreSQL outage (SPEC section 8):
# large calls (about 200 KB each, 160 MB in all, ten times limits.backlog_mb = 16)
# arrive while PostgreSQL is down for 60 s. pmhcd pauses consumption once the
# backlog holds 16 MiB and resumes when it is written. Its peak RSS (VmHWM)
# stays under the RSS it had before the outage plus the backlog budget plus
# librdkafka's prefetch (queued.max.messages.kbytes, set to 8 MiB here) plus
# 24 MiB of slack for malloc, librdkafka's buffers and the batch being
# filled. Once PostgreSQL is back every call is stored.
source "$(dirname "$0")/lib.sh"

N=${PMHC_BACKLOG_CALLS:-800}
DOWN=${PMHC_BACKLOG_DOWN_SECONDS:-60}
BUDGET_MB=16
PREFETCH_KB=8192
SLACK_MB=24

write_config
sed -i -e "s|limits = { |limits = { backlog_mb = $BUDGET_MB; |" \
  -e "s|\"topic.metadata.refresh.interval.ms=1000\" )|\"topic.metadata.refresh.interval.ms=1000\", \"queued.max.messages.kbytes=$PREFETCH_KB\" )|" \
  "$PMHC_TEST_DIR/pmhcd.conf"
start_daemon
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DAEMON_PID/status"; }

gen_calls 200 W | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
wait_sql "SELECT count(*) FROM pmhc.calls" 200
baseline=$(kb VmRSS)
echo "RSS before the outage: $baseline kB"

pg_down
t0=$(date +%s)
awk -v n="$N" 'BEGIN {
  pad = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  while (length(pad) < 200000) pad = pad pad
  for (i = 0; i < n; i++)
    printf "{\"type\":\"call\",\"call_id\":\"BIG-%06d\",\"psap_id\":\"LOAD\",\"revision\":1,\"received_at_ms\":1763870400000,\"source\":\"SOURCE_911\",\"nature_code\":\"EDP\",\"narrative\":\"%s\"}\n", i, pad
}' > "$PMHC_TEST_DIR/big.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/big.jsonl" 2>/dev/null || fail "pmhc-produce failed"
for _ in $(seq 1 600); do
  grep -q 'backlog full; consumption paused' "$PMHC_TEST_DIR/pmhcd.log" && break
  sleep 0.1
done
grep -q 'backlog full; consumption paused' "$PMHC_TEST_DIR/pmhcd.log" || fail "consumption never paused"
ok "consumption paused at the byte budget: $(grep -o 'backlog full.*backlog_bytes=[0-9]*' "$PMHC_TEST_DIR/pmhcd.log" | head -1 | grep -o 'backlog_bytes=[0-9]*')"
left=$((DOWN - ($(date +%s) - t0)))
[ "$left" -gt 0 ] && sleep "$left" # the outage's length, not a check
pg_up
wait_sql "SELECT count(*) FROM pmhc.calls" $((N + 200)) 180
ok "every call stored after the outage"
expect_eq "each stored once" "$(sql "SELECT count(DISTINCT call_id) FROM pmhc.decisions WHERE call_id LIKE 'BIG-%'")" "$N"
grep -q 'consumption resumed' "$PMHC_TEST_DIR/pmhcd.log" || fail "consumption never resumed"
peak=$(kb VmHWM)
bound=$((baseline + BUDGET_MB * 1024 + PREFETCH_KB + SLACK_MB * 1024))
echo "peak RSS $peak kB; bound $bound kB (baseline $baseline + budget $((BUDGET_MB * 1024)) + prefetch $PREFETCH_KB + slack $((SLACK_MB * 1024))); input $((N * 200)) kB"
[ "$peak" -le "$bound" ] || fail "peak RSS $peak kB over the bound $bound kB"
ok "peak RSS within the budget"
stop_daemon
echo "backlog_memory: $checks checks passed"
