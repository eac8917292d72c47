#!/usr/bin/env bash
# pmhcd --backfill (SPEC section 9): history on cad.history (calls and
# dispositions told apart by the pmhc-type header) is decided and stored as
# backfilled through COPY, no recommendation is published, no unit chosen, and
# pmhcd exits 0 once caught up. The generated history must give the very
# figures the generator computed on its own, as the live path does. Its writes
# leave the hourly summary and the repeat flags to one pass at its end
# (migration 014): after it, every derived value of pmhc.calls must be what a
# recomputation from scratch gives, and a deferred write whose pass never ran
# (a killed backfill) must show until the next backfill's pass.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/derived_lib.sh"
: "${PMHC_GEN_HISTORY:?}"

"$PMHC_GEN_HISTORY" --calls 4000 --seed 7 --tz America/Toronto \
  --jsonl "$PMHC_TEST_DIR/history.jsonl" --expect "$PMHC_TEST_DIR/expected.txt"
# The sample calls too: revision 2 of 24-000101 after revision 1, then revision 1 again (stale).
{ cat "$DATA/sample-calls.jsonl"; grep '"24-000101","psap_id":"TPS","revision":1' "$DATA/sample-calls.jsonl"; } \
  > "$PMHC_TEST_DIR/samples.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --history cad.history "$PMHC_TEST_DIR/history.jsonl" "$PMHC_TEST_DIR/samples.jsonl"
printf 'no header here' | kcat -P -b "$PMHC_BROKERS" -t cad.history -k 'x/y'
# 18 sample calls since the eight calls of the safer routes (branch routing); there were 10.
calls=$(($(grep -c '"type":"call"' "$PMHC_TEST_DIR/history.jsonl") + 18))

# At debug level each batch says whether it went straight into the tables or was merged.
write_config 'log = { level = "debug"; };'
sql "SELECT 1" >/dev/null
# The live daemon first (the schema is with-servers.sh's pmhcd --migrate; it finds no call), so that the new
# responses can be accepted before the backfill stores any (lib.sh says why).
start_daemon
stop_daemon
# The PSAP's time zone before its calls arrive, so that the local times, hours and
# flags checked below are the backfill's own, not a recomputation the definition's
# trigger would make after it.
sql "INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('GEN', 'time_zone', 'America/Toronto')"
start=$(date +%s%N)
rc=0
timeout 180 "$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2>"$PMHC_TEST_DIR/backfill.log" || rc=$?
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -eq 0 ] || { tail -20 "$PMHC_TEST_DIR/backfill.log" >&2; fail "pmhcd --backfill exited $rc"; }
grep -q 'backfill caught up with every partition' "$PMHC_TEST_DIR/backfill.log" || fail "no caught-up line"
ok "pmhcd --backfill exited 0 by itself once caught up ($took_ms ms)"
grep -q "msg=\"backfill's final pass done" "$PMHC_TEST_DIR/backfill.log" || fail "no final pass before the exit"
expect_eq "the final pass consumed every note of the deferred writes" "$(deferred_notes)" 0
expect_eq "local times, hourly summary and repeat flags as recomputed from scratch" "$(derived_mismatches)" "0 0 0"
# pmhcd writes a first guess at each repeat flag from the calls it has read
# (migration 016); the pass rewrites only the wrong ones, each a new row version
# in every index of pmhc.calls. Without the guess it rewrote every repeat flag.
# Here four partitions of 1,000 calls come nearly one after the other, so a call
# often arrives before the earlier calls of its subject: a quarter are guessed
# wrong (the killed backfill of backfill_kill, 10,000 calls in order, none).
read -r repeats changed <<<"$(sql "SELECT (SELECT count(*) FROM pmhc.calls WHERE repeat_encounter),
                                          (SELECT sum(calls_changed) FROM pmhc.backfill_passes)" | tr '|' ' ')"
[ "$repeats" -gt 0 ] && [ $((changed * 2)) -le "$repeats" ] \
  || fail "the final pass rewrote $changed of $repeats repeat flags: pmhcd's first guess should get most right"
ok "pmhcd's first guess got all but $changed of $repeats repeat flags right"
# The local-time trigger caches the PSAP's zone in the transaction; a writer's
# session that sets the cache itself gets its statement refused, not a wrong time.
if err=$(psql "$PMHC_PG_CONNINFO" -XAtq -v ON_ERROR_STOP=1 2>&1 <<'SQL'
BEGIN;
SELECT set_config('pmhc.local_zone', 'GEN' || chr(31) || 'Asia/Tokyo', true);
UPDATE pmhc.calls SET nature_text = nature_text
 WHERE psap_id = 'GEN' AND call_id = (SELECT min(call_id) FROM pmhc.calls WHERE psap_id = 'GEN');
COMMIT;
SQL
); then
  fail "a forged time-zone cache was taken"
fi
grep -q "time zone cached for the local times of this transaction is not the PSAP" <<<"$err" || fail "forged cache refused for another reason: $err"
expect_eq "a forged time-zone cache is refused, and no local time changed" "$(derived_mismatches)" "0 0 0"
grep -q 'msg="batch written".* calls_path=copy' "$PMHC_TEST_DIR/backfill.log" \
  || fail "no batch of new history went straight into the tables by COPY"
ok "new history goes straight into the tables by COPY"

expect_eq "every call stored, as backfilled" \
  "$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE backfilled) FROM pmhc.calls")" "$calls $calls"
expect_eq "no units chosen" "$(sql "SELECT count(*) FROM pmhc.calls WHERE cardinality(unit_ids) > 0 OR fallback_used")" 0
expect_eq "revisions in one batch: the newest stored, the stale one decided nothing" \
  "$(sql "SELECT c.revision || ' ' || c.rule_id || ' ' || (SELECT count(*) FROM pmhc.decisions d
          WHERE d.call_id = c.call_id) FROM pmhc.calls c WHERE call_id = '24-000101'")" "2 mh-weapon-violence 2"
# The safer default flowchart (branch routing) changed 103, 105 and 109, and 111-118 are new.
expect_eq "sample decisions as on the live path" \
  "$(sql "SELECT string_agg(rule_id, ',' ORDER BY call_id) FROM pmhc.calls WHERE psap_id = 'TPS'")" \
  "mh-weapon-violence,mh-weapon-violence,mh-self-harm,mh-medical,mh-default,not-mh,mh-self-harm,mh-weapon-violence,mh-default,not-mh,mh-988,mh-988-diversion,mh-911-diversion,mh-911-mobile-crisis,mh-911-medical,mh-988-medical,mh-medical-danger,mh-988"
expect_eq "dispositions stored as backfilled" \
  "$(sql "SELECT count(*) = count(*) FILTER (WHERE backfilled) AND count(*) > 3000 FROM pmhc.dispositions")" t
expect_eq "a message without pmhc-type is rejected, not lost" \
  "$(sql "SELECT source_topic || ' ' || reason FROM pmhc.rejected_events")" \
  "cad.history history message without a pmhc-type header of call or disposition"
if "$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning -c 1 --idle-ms 3000 >/dev/null 2>&1; then
  fail "backfill published a recommendation"
fi
ok "no recommendation published"

sql "SELECT 'month', month, mh_calls, with_outcome, connected, arrests, use_of_force, involuntary_holds,
            repeat_calls, repeat_subjects FROM pmhc.outcomes_by_month WHERE psap_id = 'GEN'" \
  | tr '|' ' ' | sort > "$PMHC_TEST_DIR/got.txt"
grep '^month ' "$PMHC_TEST_DIR/expected.txt" | sort > "$PMHC_TEST_DIR/want.txt"
diff -u "$PMHC_TEST_DIR/want.txt" "$PMHC_TEST_DIR/got.txt" || fail "backfilled history gives other figures"
ok "backfilled history: $(wc -l < "$PMHC_TEST_DIR/want.txt") months of outcomes exactly as computed independently"

# Again: offsets were committed, so nothing is read twice and nothing changes.
before=$(sql "SELECT count(*) || ' ' || (SELECT count(*) FROM pmhc.decisions) FROM pmhc.calls")
timeout 120 "$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2>>"$PMHC_TEST_DIR/backfill.log" \
  || fail "second backfill failed"
expect_eq "a second backfill changes nothing" \
  "$(sql "SELECT count(*) || ' ' || (SELECT count(*) FROM pmhc.decisions) FROM pmhc.calls")" "$before"
# Read once more in another group: every call and disposition is stored already,
# so each batch meets stored rows and is merged; stale revisions decide nothing
# and every figure stays as it was.
sed -i 's/group_id = "pmhcd-test"/group_id = "pmhcd-reread"/' "$PMHC_TEST_DIR/pmhcd.conf"
sql "SELECT string_agg(call_id || ':' || revision || ':' || rule_id, ',' ORDER BY psap_id, call_id)
     FROM pmhc.calls" > "$PMHC_TEST_DIR/calls-before.txt"
timeout 120 "$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2>"$PMHC_TEST_DIR/reread.log" \
  || { tail -20 "$PMHC_TEST_DIR/reread.log" >&2; fail "backfill in a new group failed"; }
grep -q 'msg="batch written".* calls_path=merge' "$PMHC_TEST_DIR/reread.log" \
  || fail "history already stored was not merged"
grep -q 'msg="batch written".* dispositions_path=merge' "$PMHC_TEST_DIR/reread.log" \
  || fail "dispositions already stored were not merged"
grep -q 'msg="batch written".*_path=copy' "$PMHC_TEST_DIR/reread.log" \
  && fail "a batch of stored history went in by COPY"
ok "history already stored is merged, never copied twice"
expect_eq "re-read in a new group: no call or decision added" \
  "$(sql "SELECT count(*) || ' ' || (SELECT count(*) FROM pmhc.decisions) FROM pmhc.calls")" "$before"
sql "SELECT string_agg(call_id || ':' || revision || ':' || rule_id, ',' ORDER BY psap_id, call_id)
     FROM pmhc.calls" | cmp -s - "$PMHC_TEST_DIR/calls-before.txt" || fail "re-read changed stored calls"
ok "re-read: every stored call as it was"
sql "SELECT 'month', month, mh_calls, with_outcome, connected, arrests, use_of_force, involuntary_holds,
            repeat_calls, repeat_subjects FROM pmhc.outcomes_by_month WHERE psap_id = 'GEN'" \
  | tr '|' ' ' | sort | diff -u "$PMHC_TEST_DIR/want.txt" - || fail "re-read changed the figures"
ok "re-read: the figures unchanged"
expect_eq "re-read: derived values as recomputed from scratch" "$(derived_mismatches)" "0 0 0"

# Only the writer defers, and only the writer runs the pass.
for q in "SELECT pmhc.finish_backfill()" "SELECT count(*) FROM pmhc.deferred_subjects"; do
  if err=$(analyst_sql "$q" 2>&1); then fail "an analyst may run: $q"; fi
  grep -q 'permission denied' <<<"$err" || fail "analyst refused for another reason: $err"
done
ok "an analyst may neither run the final pass nor read its notes"

# A deferred write whose pass never ran, as a backfill killed before its end leaves
# it: a session of the writer's role moves some MH calls by 40 days. The check above
# must see the summary and the flags out of date, and the next pmhcd --backfill,
# with nothing to read, must bring them current.
psql "$PMHC_PG_CONNINFO" -XAtq -v ON_ERROR_STOP=1 <<'SQL'
SET pmhc.deferred = on;
UPDATE pmhc.calls SET received_at = received_at + interval '40 days'
 WHERE psap_id = 'GEN' AND call_id IN (SELECT call_id FROM pmhc.calls
  WHERE psap_id = 'GEN' AND mental_health_call AND subject_hash IS NOT NULL ORDER BY call_id LIMIT 200);
SQL
[ "$(deferred_notes)" -gt 0 ] || fail "a deferred write left no note"
stale=$(derived_mismatches)
read -r _ stale_hours stale_flags <<<"$stale"
[ "$stale_hours" -gt 0 ] && [ "$stale_flags" -gt 0 ] \
  || fail "the check did not see a deferred write's stale summary and flags: $stale"
ok "a deferred write without its pass is seen: mismatches (local time, hours, flags) $stale"
timeout 120 "$PMHCD" --backfill --config "$PMHC_TEST_DIR/pmhcd.conf" 2>"$PMHC_TEST_DIR/again.log" \
  || { tail -20 "$PMHC_TEST_DIR/again.log" >&2; fail "backfill after the deferred write failed"; }
grep -q "msg=\"backfill's final pass done.* calls_changed=[1-9]" "$PMHC_TEST_DIR/again.log" \
  || fail "the next backfill's pass changed no flag"
expect_eq "the next backfill's pass consumed the notes left" "$(deferred_notes)" 0
expect_eq "and brought every derived value current" "$(derived_mismatches)" "0 0 0"
echo "backfill: $checks checks passed"
