#!/usr/bin/env bash
# A backfill SIGKILLed half-way, before its final pass (migration 014): the
# batches it committed are stored with the hourly summary left out of date, the
# repeat flags only guessed (migration 016), and notes saying so. The next pmhcd --backfill reads the
# rest and its pass covers both runs' writes: afterwards every derived value is
# what a recomputation from scratch gives, and no note is left.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/derived_lib.sh"
: "${PMHC_GEN_HISTORY:?}"

# Large enough for several batches (each at most 20,000 events), so that the kill
# lands between two of them.
N=${PMHC_BACKFILL_KILL_CALLS:-60000}
"$PMHC_GEN_HISTORY" --calls "$N" --seed 3 --tz America/Toronto --jsonl "$PMHC_TEST_DIR/history.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --history cad.history "$PMHC_TEST_DIR/history.jsonl" 2>/dev/null
write_config
sql "INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('GEN', 'time_zone', 'America/Toronto')"

"$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2>"$PMHC_TEST_DIR/killed.log" &
DAEMON_PID=$!
for _ in $(seq 1 600); do
  [ "$(sql "SELECT count(*) > 0 FROM pmhc.calls")" = t ] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "pmhcd --backfill exited before its first batch was stored"
  sleep 0.1
done
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
stored=$(sql "SELECT count(*) FROM pmhc.calls")
[ "$stored" -gt 0 ] && [ "$stored" -lt "$N" ] \
  || fail "the kill did not land mid-way ($stored of $N calls stored): raise PMHC_BACKFILL_KILL_CALLS"
grep -q "final pass" "$PMHC_TEST_DIR/killed.log" && fail "the killed run reached its final pass"
ok "pmhcd --backfill SIGKILLed with $stored of $N calls stored, before its final pass"
[ "$(deferred_notes)" -gt 0 ] || fail "the killed run's committed batches left no note"
read -r stale_local stale_hours stale_flags <<<"$(derived_mismatches)"
expect_eq "local times are set as each call is written, deferred or not" "$stale_local" 0
[ "$stale_hours" -gt 0 ] || fail "the killed run's summary should be out of date: $stale_hours hours"
repeats=$(sql "SELECT count(*) FROM pmhc.calls WHERE repeat_encounter")
[ "$repeats" -gt 0 ] && [ $((stale_flags * 20)) -le "$repeats" ] \
  || fail "the killed run's first guesses got $stale_flags flags wrong of $repeats set"
ok "the killed run left notes, $stale_hours hours out of date and $stale_flags of its $repeats repeat flags wrong"
# A guess is only a guess: some of the killed run's flags turned wrong behind the
# triggers' back (as the DBA, triggers off), as calls read later would turn them.
sql "SET session_replication_role = replica;
     UPDATE pmhc.calls SET repeat_encounter = NOT repeat_encounter
      WHERE call_id IN (SELECT call_id FROM pmhc.calls WHERE mental_health_call AND subject_hash IS NOT NULL
                         ORDER BY call_id LIMIT 300)"
read -r _ _ wrong <<<"$(derived_mismatches)"
[ "$wrong" -ge 300 ] || fail "flipping 300 flags left only $wrong wrong"

rc=0
timeout 240 "$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2>"$PMHC_TEST_DIR/backfill.log" || rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$PMHC_TEST_DIR/backfill.log" >&2; fail "the second pmhcd --backfill exited $rc"; }
grep -q "msg=\"backfill's final pass done" "$PMHC_TEST_DIR/backfill.log" || fail "no final pass before the exit"
expect_eq "every call stored" "$(sql "SELECT count(*) FROM pmhc.calls")" "$N"
expect_eq "the pass consumed both runs' notes" "$(deferred_notes)" 0
expect_eq "local times, hourly summary and repeat flags as recomputed from scratch" "$(derived_mismatches)" "0 0 0"
echo "backfill_kill: $checks checks passed"
