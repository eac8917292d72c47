# Shared by the integration tests; sourced, not run. Runs inside with-servers.sh,
# which exports PMHC_BROKERS, PMHC_TEST_DIR and three conninfos: the daemon's
# (PMHC_PG_CONNINFO, a LOGIN member of pmhc_writer), the DBA's
# (PMHC_PG_DBA_CONNINFO, which sql() uses to check raw tables) and an
# analyst's (PMHC_PG_ANALYST_CONNINFO, analyst_sql()). The binaries come from
# meson as PMHCD, PMHC_PRODUCE and PMHC_CONSUME.

set -euo pipefail

: "${PMHCD:?}" "${PMHC_PRODUCE:?}" "${PMHC_CONSUME:?}"
: "${PMHC_BROKERS:?}" "${PMHC_PG_CONNINFO:?}" "${PMHC_PG_DBA_CONNINFO:?}" "${PMHC_PG_ANALYST_CONNINFO:?}"
: "${PMHC_TEST_DIR:?}"

DATA=$(cd "$(dirname "${BASH_SOURCE[0]}")/../data" && pwd)
checks=0

# A test that fails half-way must not leave pmhcd (or a producer or consumer it
# started) running on after with-servers.sh has stopped the servers.
cleanup_children() {
  if [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
  fi
  local j
  for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done
}
trap cleanup_children EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$PMHC_TEST_DIR/pmhcd.log" ]; then
    echo "--- last lines of pmhcd.log:" >&2
    tail -n 30 "$PMHC_TEST_DIR/pmhcd.log" >&2
  fi
  # A test may define diagnose() to show what else it knows at the moment of failure.
  if declare -F diagnose >/dev/null; then
    diagnose >&2
  fi
  exit 1
}

ok() {
  checks=$((checks + 1))
  echo "ok $checks - $*"
}

# expect_eq WHAT GOT WANT
expect_eq() {
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
  ok "$1"
}

# sql QUERY: as the DBA, who reads (and may change) everything.
sql() {
  psql "$PMHC_PG_DBA_CONNINFO" -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# analyst_sql QUERY: as an analyst (a LOGIN member of pmhc_analyst).
analyst_sql() {
  psql "$PMHC_PG_ANALYST_CONNINFO" -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# write_config [extra libconfig text appended]
write_config() {
  # The key is made once per test: a new key is a new pseudonym for everyone.
  if [ ! -f "$PMHC_TEST_DIR/subject.key" ]; then
    head -c 32 /dev/urandom > "$PMHC_TEST_DIR/subject.key"
    chmod 600 "$PMHC_TEST_DIR/subject.key" # pmhcd refuses a key others may read
  fi
  cat > "$PMHC_TEST_DIR/pmhcd.conf" <<CONF
kafka = {
  brokers = "$PMHC_BROKERS";
  group_id = "pmhcd-test";
  properties = ( "fetch.wait.max.ms=10", "session.timeout.ms=6000", "topic.metadata.refresh.interval.ms=1000" );
};
postgres = { conninfo = "$PMHC_PG_CONNINFO"; start_timeout = 20; };
privacy = { subject_key_file = "$PMHC_TEST_DIR/subject.key"; };
limits = { batch_max_ms = 20; shutdown_timeout = 10; };
${1:-}
CONF
}

start_daemon() {
  "$PMHCD" --config "$PMHC_TEST_DIR/pmhcd.conf" >>"$PMHC_TEST_DIR/pmhcd.log" 2>&1 &
  DAEMON_PID=$!
  # Running means the consumer joined: wait for its first assignment.
  for _ in $(seq 1 300); do
    if grep -q 'partitions assigned' "$PMHC_TEST_DIR/pmhcd.log" 2>/dev/null; then
      return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "pmhcd exited at start"
    sleep 0.1
  done
  fail "pmhcd did not join the consumer group within 30 s"
}

# stop_daemon: SIGTERM, then it must exit 0 within 20 s.
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  for _ in $(seq 1 200); do
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      local rc=0
      wait "$DAEMON_PID" || rc=$?
      [ "$rc" -eq 0 ] || fail "pmhcd exited $rc after SIGTERM, want 0"
      return 0
    fi
    sleep 0.1
  done
  kill -KILL "$DAEMON_PID"
  fail "pmhcd did not stop within 20 s of SIGTERM"
}

# wait_sql QUERY WANT [SECONDS]: until QUERY returns WANT.
wait_sql() {
  local got=""
  for _ in $(seq 1 $((${3:-30} * 10))); do
    got=$(sql "$1" 2>/dev/null || true)
    [ "$got" = "$2" ] && return 0
    sleep 0.1
  done
  fail "waited for '$1' = '$2'; last got '$got'"
}

# The throw-away PostgreSQL of with-servers.sh, stopped and started in place.
pg_ctl_as_owner() {
  local bin=/usr/lib/postgresql/15/bin/pg_ctl
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$bin" "$@"
  else
    "$bin" "$@"
  fi
}
pg_down() { pg_ctl_as_owner -D "$PMHC_TEST_DIR/pg/data" -m fast -w -t 60 stop >/dev/null; }
pg_up() { pg_ctl_as_owner -D "$PMHC_TEST_DIR/pg/data" -l "$PMHC_TEST_DIR/pg/postgres.log" -w -t 60 start >/dev/null; }

# until_stored N [SECONDS]: until at least N calls are stored (default 120 s).
# wait_log PATTERN SECONDS: until pmhcd's log ($LOG, default pmhcd.log in the
# test's folder) holds an extended regex, or fail.
wait_log() {
  local log=${LOG:-$PMHC_TEST_DIR/pmhcd.log}
  for _ in $(seq 1 $(($2 * 10))); do
    grep -Eq "$1" "$log" && return 0
    sleep 0.1
  done
  fail "${log##*/} never said /$1/ within $2 s"
}

# stop_within SECONDS WHAT: SIGTERM pmhcd and require exit 0 within SECONDS
# (its limits.shutdown_timeout) plus a second for the process to go; sets TOOK_MS.
stop_within() {
  local t0 rc=0
  t0=$(date +%s%3N)
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID" || rc=$?
  TOOK_MS=$(($(date +%s%3N) - t0))
  expect_eq "exit status after SIGTERM $2" "$rc" 0
  [ "$TOOK_MS" -le $(($1 * 1000 + 1000)) ] ||
    fail "SIGTERM $2 took $TOOK_MS ms; limits.shutdown_timeout is $1 s"
  ok "stopped $2 in $TOOK_MS ms (limits.shutdown_timeout = $1 s)"
}

until_stored() {
  local got=0
  for _ in $(seq 1 $((${2:-120} * 10))); do
    got=$(sql "SELECT count(*) FROM pmhc.calls")
    [ "$got" -ge "$1" ] && return 0
    sleep 0.1
  done
  fail "stuck at $got stored calls, waiting for $1"
}

# until_recommended N FILE [SECONDS]: until FILE (pmhc-consume's lines) names N distinct calls.
until_recommended() {
  for _ in $(seq 1 $((${3:-60} * 10))); do
    [ "$(jq -r .call_id "$2" | sort -u | wc -l)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 0 # the caller's expect_eq says what is missing
}

# gen_calls N PREFIX: N distinct MH calls as pmhc-produce JSON lines on stdout.
gen_calls() {
  awk -v n="$1" -v p="$2" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "{\"type\":\"call\",\"call_id\":\"%s-%06d\",\"psap_id\":\"LOAD\",\"revision\":1,\"received_at_ms\":1763870400000,\"source\":\"SOURCE_911\",\"nature_code\":\"EDP\",\"location\":{\"beat\":\"B%d\"},\"screening\":{\"weapon_involved\":\"ANSWER_NO\"}}\n", p, i, i % 20
  }'
}

# start_daemon_bg: start_daemon without waiting for the group join (for restarts
# under load, where the join waits out the killed member's session).
start_daemon_bg() {
  "$PMHCD" --config "$PMHC_TEST_DIR/pmhcd.conf" >>"$PMHC_TEST_DIR/pmhcd.log" 2>&1 &
  DAEMON_PID=$!
}

# ---- the operator's endpoints (http.listen): metrics.sh, escalate.sh, shutdown.sh ----

# use_http: serve /metrics on a free local port (HTTP_URL), with Kafka's
# statistics every second; call after write_config.
use_http() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    [ -z "$(ss -Hltn "sport = :$port")" ] && break
  done
  HTTP_URL="http://127.0.0.1:$port"
  sed -i 's/"topic.metadata.refresh.interval.ms=1000"/&, "statistics.interval.ms=1000"/' "$PMHC_TEST_DIR/pmhcd.conf"
  printf 'http = { listen = "127.0.0.1:%s"; };\n' "$port" >> "$PMHC_TEST_DIR/pmhcd.conf"
}

# http_code PATH: the status /PATH answers (000 when none).
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$HTTP_URL$1" || true; }

# scrape: /metrics into $PMHC_TEST_DIR/metrics.txt.
scrape() { curl -sf --max-time 5 "$HTTP_URL/metrics" > "$PMHC_TEST_DIR/metrics.txt"; }

# metric 'NAME{LABELS}': its value in the last scrape ('' when absent).
metric() { awk -v k="$1" '$1 == k { print $2 }' "$PMHC_TEST_DIR/metrics.txt"; }

# until_http PATH CODE [SECONDS]: until /PATH answers CODE.
until_http() {
  local got=""
  for _ in $(seq 1 $((${3:-30} * 10))); do
    got=$(http_code "$1")
    [ "$got" = "$2" ] && return 0
    sleep 0.1
  done
  fail "waited for $1 to answer $2; last got $got ($(curl -s --max-time 5 "$HTTP_URL$1" || true))"
}

# until_sql QUERY WANT [SECONDS]: wait_sql that does not fail: until QUERY returns
# WANT or the time is up (by the clock), so that the exact checks after it can say
# what is missing.
until_sql() {
  local until=$((SECONDS + ${3:-30}))
  while [ "$SECONDS" -lt "$until" ]; do
    [ "$(sql "$1" 2>/dev/null || true)" = "$2" ] && return 0
    sleep 0.2
  done
  return 0
}
