#!/usr/bin/env bash
# What an operator sees: /metrics in the Prometheus text format, every line
# valid, and /healthz and /readyz. Scraped during a PostgreSQL outage, the
# backlog gauges rise (events, bytes, the oldest unstored event's age),
# pmhc_postgres_up falls and /readyz turns 503 while /healthz stays 200 (an
# outage is retried, not escalated); once the server is back, the backlog
# drains to 0 and every counter matches what was produced. And what pmhcd tells
# systemd (a stand-in for its notification socket): READY, WATCHDOG pings,
# RELOADING and READY around a SIGHUP, STOPPING.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

N1=200
N2=300
write_config
use_http
NOTIFY_LOG="$PMHC_TEST_DIR/notify.log"
"$PMHC_NOTIFY_LISTEN" "$PMHC_TEST_DIR/notify.sock" > "$NOTIFY_LOG" &
for _ in $(seq 1 50); do [ -S "$PMHC_TEST_DIR/notify.sock" ] && break; sleep 0.1; done
export NOTIFY_SOCKET="$PMHC_TEST_DIR/notify.sock" WATCHDOG_USEC=1000000
start_daemon
unset NOTIFY_SOCKET WATCHDOG_USEC
until_http /readyz 200
expect_eq "/healthz at start" "$(http_code /healthz)" 200
expect_eq "systemd told READY=1 once" "$(grep -c '^READY=1 STATUS=consuming$' "$NOTIFY_LOG")" 1
# WATCHDOG_USEC is 1 s: a ping every half second, so two more within 3 s.
pings() { grep -c '^WATCHDOG=1$' "$NOTIFY_LOG" || true; }
before=$(pings)
for _ in $(seq 1 30); do [ "$(pings)" -ge $((before + 2)) ] && break; sleep 0.1; done
[ "$(pings)" -ge $((before + 2)) ] || fail "no watchdog pings at half of WATCHDOG_USEC: $(sort "$NOTIFY_LOG" | uniq -c)"
ok "watchdog pinged from the loop ($(grep -c '^WATCHDOG=1$' "$NOTIFY_LOG") pings)"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q '^READY=1 STATUS=configuration reloaded$' "$NOTIFY_LOG" && break; sleep 0.1; done
expect_eq "RELOADING=1 then READY=1 around a reload" \
  "$(grep -E '^(RELOADING|READY)=1' "$NOTIFY_LOG" | tail -n 2 | tr '\n' ';')" "RELOADING=1;READY=1 STATUS=configuration reloaded;"

# Each scrape's every line checked; promtool too where it is installed.
check_expo() {
  scrape || fail "/metrics did not answer"
  awk -f "$HERE/expo_check.awk" "$PMHC_TEST_DIR/metrics.txt" > "$PMHC_TEST_DIR/expo.out" ||
    fail "/metrics is not valid exposition: $(cat "$PMHC_TEST_DIR/expo.out")"
  if command -v promtool >/dev/null; then
    promtool check metrics < "$PMHC_TEST_DIR/metrics.txt" >/dev/null 2>&1 && promtool_ok=$((${promtool_ok:-0} + 1)) ||
      fail "promtool refuses /metrics: $(promtool check metrics < "$PMHC_TEST_DIR/metrics.txt" 2>&1 | head -5)"
  fi
}
check_expo
ok "/metrics parses: $(cat "$PMHC_TEST_DIR/expo.out")"
rules=$(sed -n 's/.*msg="pmhcd running".* rules_version=\([^ ]*\).*/\1/p' "$PMHC_TEST_DIR/pmhcd.log" | head -1)
[ -n "$(metric "pmhc_info{version=\"$("$PMHCD" --version | cut -d' ' -f2)\",rules_version=\"$rules\"}")" ] ||
  fail "no pmhc_info with rules_version=$rules: $(grep pmhc_info "$PMHC_TEST_DIR/metrics.txt")"
ok "rules_version is a label of pmhc_info ($rules)"

gen_calls "$N1" A | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
until_stored "$N1" 60

# The outage: writes fail, the backlog grows while decisions go on.
pg_down
gen_calls "$N2" B | "$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null
seen=""
for _ in $(seq 1 300); do
  check_expo
  if [ "$(metric pmhc_backlog_events)" = "$N2" ] && [ "$(metric pmhc_postgres_up)" = 0 ] &&
    awk -v b="$(metric pmhc_backlog_bytes)" -v a="$(metric pmhc_oldest_unstored_event_age_seconds)" \
      'BEGIN { exit !(b > 0 && a >= 1) }'; then
    seen=yes
    break
  fi
  sleep 0.1
done
[ -n "$seen" ] || fail "backlog gauges did not rise during the outage: $(grep -E '^pmhc_(backlog|oldest|postgres)' "$PMHC_TEST_DIR/metrics.txt")"
ok "during the outage: backlog_events=$N2 backlog_bytes=$(metric pmhc_backlog_bytes) oldest_age_s=$(metric pmhc_oldest_unstored_event_age_seconds) postgres_up=0"
expect_eq "calls decided during the outage" "$(metric pmhc_calls_total)" $((N1 + N2))
until_http /readyz 503 10
ok "/readyz during the outage: $(curl -s "$HTTP_URL/readyz")"
expect_eq "/healthz during an outage (retried, not escalated)" "$(http_code /healthz)" 200
expect_eq "pmhc_ready during the outage" "$(metric pmhc_ready)" 0

pg_up
until_stored $((N1 + N2)) 60
until_http /readyz 200 30
for _ in $(seq 1 100); do
  check_expo
  [ "$(metric pmhc_backlog_events)" = 0 ] && [ "$(metric pmhc_postgres_up)" = 1 ] && break
  sleep 0.1
done
expect_eq "backlog after recovery" "$(metric pmhc_backlog_events) $(metric pmhc_backlog_bytes) $(metric pmhc_oldest_unstored_event_age_seconds)" "0 0 0"
expect_eq "pmhc_postgres_up after recovery" "$(metric pmhc_postgres_up)" 1
expect_eq "pmhc_stored_total" "$(metric pmhc_stored_total)" $((N1 + N2))
expect_eq "stored in PostgreSQL" "$(sql "SELECT count(*) FROM pmhc.decisions")" $((N1 + N2))
decided=$(awk '$1 ~ /^pmhc_decisions_total\{/ { s += $2 } END { print s + 0 }' "$PMHC_TEST_DIR/metrics.txt")
expect_eq "decisions by response add up to the calls" "$decided" $((N1 + N2))
expect_eq "decisions by response match the table" \
  "$(awk -F'[{}"]' '$1 == "pmhc_decisions_total" && $NF+0 > 0 { print $3, $NF+0 }' "$PMHC_TEST_DIR/metrics.txt" | sed 's/^ *//' | sort | tr '\n' ';')" \
  "$(sql "SELECT response || ' ' || count(*) FROM pmhc.decisions GROUP BY response" | sed 's/^RESPONSE_//' | sort | tr '\n' ';')"
expect_eq "no DLQ" "$(metric pmhc_dlq_messages_total)" 0
count=$(metric pmhc_batch_write_seconds_count)
[ "${count:-0}" -gt 0 ] || fail "no batch write latency observed"
expect_eq "histogram +Inf bucket = count" "$(metric 'pmhc_batch_write_seconds_bucket{le="+Inf"}')" "$count"
expect_eq "pmhc_kafka_up" "$(metric pmhc_kafka_up)" 1
# Each partition's lag appears with its first commit (auto-commit, every 5 s) and is 0 once all is committed.
lag() { awk '$1 ~ /^pmhc_kafka_consumer_lag\{topic="cad.calls",partition="[0-9]+"\}$/ { n++; s += $2 } END { print n + 0, s + 0 }' "$PMHC_TEST_DIR/metrics.txt"; }
for _ in $(seq 1 200); do
  check_expo
  [ "$(lag)" = "4 0" ] && break
  sleep 0.1
done
expect_eq "lag of each of the 4 partitions of cad.calls, and their sum, once all is committed" "$(lag)" "4 0"
expect_eq "unknown path" "$(http_code /nothing)" 404
stop_daemon
expect_eq "STOPPING=1 at the stop" "$(grep -c '^STOPPING=1$' "$NOTIFY_LOG")" 1
echo "metrics: $checks checks passed (promtool check metrics passed ${promtool_ok:-0} scrapes; 0 when not installed)"
