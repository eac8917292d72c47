#!/usr/bin/env bash
# Offsets move only after COMMIT, proven where it matters: 50,000 calls with
# revisions and dispositions stream in, in slices; in each of 20 rounds the
# writer is held (a lock on pmhcd's tables, or every fourth round PostgreSQL
# stopped) for more than twice the consumer's auto.commit.interval.ms while pmhcd
# keeps deciding and publishing, and pmhcd is SIGKILLed with all of that
# undurable. Had an offset been stored before its rows were committed, the
# auto-commit would have committed it during the hold, and the restart would
# never see those calls again. Then, against the stream itself: every call with
# its newest revision, exactly one decision per fresh (call, revision), every
# latest disposition; every fresh (call, revision) recommended; replays seen
# (decided again by the next process); no process publishing a revision twice
# or an older one after a newer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/crash_lib.sh"

N=${PMHC_CRASH_CALLS:-50000}
KILLS=${PMHC_CRASH_KILLS:-20}
RATE=${PMHC_CRASH_RATE:-2500}
COMMIT_MS=1000
HOLD_MS=$((COMMIT_MS * 5 / 2))
started=$(date +%s)

write_config
# A killed member holds its partitions until its session ends: keep that short.
# Offsets are committed every second, so a hold of 2.5 s spans two commits.
sed -i "s/\"session.timeout.ms=6000\"/\"session.timeout.ms=3000\", \"heartbeat.interval.ms=500\", \"auto.commit.interval.ms=$COMMIT_MS\"/" \
  "$PMHC_TEST_DIR/pmhcd.conf"
STREAM=$PMHC_TEST_DIR/stream.jsonl
crash_stream "$N" > "$STREAM"
crash_split "$STREAM" $((KILLS + 1))
echo "$(wc -l < "$STREAM") messages for $N calls, in $((KILLS + 1)) slices"

"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning --meta > "$PMHC_TEST_DIR/recs-live.jsonl" 2>/dev/null &

# launch K: process K of pmhcd, logging to pmhcd.K.log (pmhcd.log names the newest
# for lib.sh's fail); returns once it owns partitions.
launch() {
  "$PMHCD" --config "$PMHC_TEST_DIR/pmhcd.conf" >>"$PMHC_TEST_DIR/pmhcd.$1.log" 2>&1 &
  DAEMON_PID=$!
  ln -sf "pmhcd.$1.log" "$PMHC_TEST_DIR/pmhcd.log"
  for _ in $(seq 1 600); do
    grep -q 'partitions assigned.* count=[1-9]' "$PMHC_TEST_DIR/pmhcd.$1.log" && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "pmhcd $1 exited"
    sleep 0.1
  done
  fail "pmhcd $1 got no partitions within 60 s"
}
decisions() { sql "SELECT count(*) FROM pmhc.decisions"; }

held=0
for k in $(seq 1 "$KILLS"); do
  launch "$k"
  before=$(decisions)
  "$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate "$RATE" -X enable.idempotence=true "$STREAM.$k" \
    2>>"$PMHC_TEST_DIR/produce.log" &
  producer=$!
  # Hold a writer that is storing this slice, not one still catching up.
  wait_sql "SELECT count(*) > $before + 200 FROM pmhc.decisions" t 60
  kind=lock
  [ $((k % 4)) -eq 0 ] && kind=server
  from=$(lines "$PMHC_TEST_DIR/recs-live.jsonl")
  hold_writer "$kind"
  until_published "$PMHC_TEST_DIR/recs-live.jsonl" $((from + 100)) "$HOLD_MS"
  during=$(($(lines "$PMHC_TEST_DIR/recs-live.jsonl") - from))
  kill -KILL "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  release_writer
  held=$((held + during))
  echo "round $k: writer held ($kind), $during recommendations published undurable, pmhcd SIGKILLed"
  wait "$producer" || fail "pmhc-produce failed: $(tail -5 "$PMHC_TEST_DIR/produce.log")"
done

launch $((KILLS + 1))
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate "$RATE" -X enable.idempotence=true "$STREAM.$((KILLS + 1))" \
  2>>"$PMHC_TEST_DIR/produce.log" || fail "pmhc-produce failed: $(tail -5 "$PMHC_TEST_DIR/produce.log")"
ok "$N calls produced; pmhcd killed $KILLS times with the writer held, $held recommendations published undurable"

crash_expect "$STREAM"
until_sql "SELECT count(*) FROM pmhc.decisions WHERE psap_id = 'CR'" "$(wc -l < "$STREAM.fresh")" 60
stop_daemon
crash_check_store "$STREAM"
# The whole topic, read until it is idle.
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning --meta --idle-ms 3000 > "$PMHC_TEST_DIR/recs.jsonl" 2>/dev/null
crash_check_recommendations "$STREAM" "$PMHC_TEST_DIR/recs.jsonl" $((KILLS + 1))
stale=$(cat "$PMHC_TEST_DIR"/pmhcd.*.log | grep -c 'stale revisions ignored' || true)
echo "batches that met rows already stored (replays): $stale"
echo "crash: $checks checks passed ($KILLS kills over $N calls, $REPLAYS replayed (call, revision), $(($(date +%s) - started)) s)"
