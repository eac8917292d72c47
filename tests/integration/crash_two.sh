#!/usr/bin/env bash
# crash.sh with two instances in one group, and partitions that move while
# nothing can be written: in each round either PostgreSQL is stopped and one
# instance is SIGKILLed, so the other takes its partitions and decides them
# (again) from memory during the outage; or the writer is held by a lock on
# pmhcd's tables and a new instance joins, taking partitions from both, after
# which one of the old ones is SIGKILLed. Every move hands over partitions whose
# last calls are decided and published but not stored: the new owner must
# replay them, since the old one may commit only what is durable. Afterwards the
# checks of crash.sh, against the stream: every call, its newest revision, one
# decision per fresh (call, revision), every latest disposition, every fresh
# (call, revision) recommended, replays seen, no process republishing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/crash_lib.sh"

N=${PMHC_CRASH2_CALLS:-30000}
ROUNDS=${PMHC_CRASH2_ROUNDS:-6}
RATE=${PMHC_CRASH2_RATE:-2500}
COMMIT_MS=1000
HOLD_MS=$((COMMIT_MS * 5 / 2))
started=$(date +%s)

# A short shutdown_timeout: a revoked instance waits that long for PostgreSQL before it lets go.
write_config 'limits = { batch_max_ms = 20; shutdown_timeout = 2; };'
sed -i -e '/^limits = { batch_max_ms = 20; shutdown_timeout = 10; };$/d' \
  -e "s/\"session.timeout.ms=6000\"/\"session.timeout.ms=3000\", \"heartbeat.interval.ms=500\", \"auto.commit.interval.ms=$COMMIT_MS\"/" \
  "$PMHC_TEST_DIR/pmhcd.conf"
STREAM=$PMHC_TEST_DIR/stream.jsonl
crash_stream "$N" > "$STREAM"
crash_split "$STREAM" $((ROUNDS + 1))
echo "$(wc -l < "$STREAM") messages for $N calls, in $((ROUNDS + 1)) slices"
RECS=$PMHC_TEST_DIR/recs-live.jsonl
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning --meta > "$RECS" 2>/dev/null &

declare -A PID
launched=0
# launch: one more instance, pN, logging to pN.log; its name in $LAUNCHED.
launch() {
  launched=$((launched + 1))
  LAUNCHED=p$launched
  "$PMHCD" --config "$PMHC_TEST_DIR/pmhcd.conf" >>"$PMHC_TEST_DIR/$LAUNCHED.log" 2>&1 &
  PID[$LAUNCHED]=$!
  ln -sf "$LAUNCHED.log" "$PMHC_TEST_DIR/pmhcd.log"
}
assignments() { grep -c 'partitions assigned' "$PMHC_TEST_DIR/$1.log" 2>/dev/null || true; }
# until_owns NAME [AFTER]: until NAME logged more than AFTER assignments, the newest not empty.
until_owns() {
  local until=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$until" ]; do
    if [ "$(assignments "$1")" -gt "${2:-0}" ] &&
      grep 'partitions assigned' "$PMHC_TEST_DIR/$1.log" | tail -1 | grep -q 'count=[1-9]'; then
      return 0
    fi
    kill -0 "${PID[$1]}" 2>/dev/null || fail "instance $1 exited"
    sleep 0.1
  done
  fail "instance $1 got no partitions within 60 s"
}
sigkill() {
  kill -KILL "${PID[$1]}"
  wait "${PID[$1]}" 2>/dev/null || true
}
decisions() { sql "SELECT count(*) FROM pmhc.decisions"; }

launch
A=$LAUNCHED
launch
B=$LAUNCHED
until_owns "$A"
until_owns "$B"
moves=0
for k in $(seq 1 "$ROUNDS"); do
  before=$(decisions)
  "$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate "$RATE" -X enable.idempotence=true "$STREAM.$k" \
    2>>"$PMHC_TEST_DIR/produce.log" &
  producer=$!
  wait_sql "SELECT count(*) > $before + 200 FROM pmhc.decisions" t 60
  from=$(lines "$RECS")
  if [ $((k % 2)) -eq 1 ]; then
    # PostgreSQL stopped; B killed, A takes its partitions and decides them from memory.
    hold_writer server
    until_published "$RECS" $((from + 100)) "$HOLD_MS"
    had=$(assignments "$A")
    killed=$(lines "$RECS")
    sigkill "$B"
    until_owns "$A" "$had"
    until_published "$RECS" $((killed + 100)) 0
    echo "round $k ($(date +%T)): PostgreSQL down; $B SIGKILLed, $A took its partitions; $(($(lines "$RECS") - killed)) published since"
    release_writer
    launch
    B=$LAUNCHED
    until_owns "$B"
  else
    # The writer held by a lock; a new instance C joins and takes partitions, then A is killed.
    hold_writer lock
    until_published "$RECS" $((from + 100)) "$HOLD_MS"
    joined=$(lines "$RECS")
    launch
    C=$LAUNCHED
    until_owns "$C"
    until_published "$RECS" $((joined + 100)) 0
    had=$(assignments "$C")
    killed=$(lines "$RECS")
    sigkill "$A"
    until_owns "$C" "$had"
    until_published "$RECS" $((killed + 100)) 0
    echo "round $k ($(date +%T)): writer locked; $C joined and took partitions, $A SIGKILLed, $C took those too"
    release_writer
    A=$C
  fi
  moves=$((moves + 1))
  wait "$producer" || fail "pmhc-produce failed: $(tail -5 "$PMHC_TEST_DIR/produce.log")"
done
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate "$RATE" -X enable.idempotence=true "$STREAM.$((ROUNDS + 1))" \
  2>>"$PMHC_TEST_DIR/produce.log" || fail "pmhc-produce failed: $(tail -5 "$PMHC_TEST_DIR/produce.log")"
ok "$N calls produced; partitions moved $moves times with the writer held, $launched processes"

crash_expect "$STREAM"
until_sql "SELECT count(*) FROM pmhc.decisions WHERE psap_id = 'CR'" "$(wc -l < "$STREAM.fresh")" 60
for name in "$A" "$B"; do kill -TERM "${PID[$name]}"; done
for name in "$A" "$B"; do wait "${PID[$name]}" || fail "instance $name exited $? after SIGTERM"; done
crash_check_store "$STREAM"
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning --meta --idle-ms 3000 > "$PMHC_TEST_DIR/recs.jsonl" 2>/dev/null
crash_check_recommendations "$STREAM" "$PMHC_TEST_DIR/recs.jsonl" "$launched"
echo "crash_two: $checks checks passed ($ROUNDS partition moves with the writer held, $N calls, $REPLAYS replayed (call, revision), $(($(date +%s) - started)) s)"
