# shellcheck shell=bash
# The stream, the faults and the checks shared by crash.sh and crash_two.sh;
# sourced after lib.sh, not run. The checks read what was produced (the
# stream file), what PostgreSQL holds and what pmhc.recommendations carries,
# and compare them exactly.

# crash_stream N: N calls as pmhc-produce JSON lines, in stream order, with
# what makes a replay meet stored rows: second and third revisions some 1,200
# calls after the first; a newer revision sent before an older one; an old
# revision sent again after a newer one; dispositions, some replaced by a later
# closed_at, some followed by an older closed_at that must change nothing.
crash_stream() {
  awk -v n="$1" -v d=1200 '
    function call(pos, i, rev) {
      printf "%d\t%d\t{\"type\":\"call\",\"call_id\":\"X-%06d\",\"psap_id\":\"CR\",\"revision\":%d,\"received_at_ms\":%.0f,\"source\":\"SOURCE_911\",\"nature_code\":\"%s\",\"location\":{\"beat\":\"B%d\"},\"screening\":{\"weapon_involved\":\"ANSWER_NO\"}}\n",
        pos, seq++, i, rev, t + i * 1000, rev == 3 ? "WELFARE" : "EDP", i % 20
    }
    function disp(pos, i, closed, code) {
      printf "%d\t%d\t{\"type\":\"disposition\",\"call_id\":\"X-%06d\",\"psap_id\":\"CR\",\"closed_at_ms\":%.0f,\"code\":\"%s\"}\n",
        pos, seq++, i, closed, code
    }
    BEGIN {
      t = 1763870400000
      for (i = 0; i < n; i++) {
        if (i % 20 == 9) {
          call(i, i, 2); call(i + d, i, 1)
        } else {
          call(i, i, 1)
          if (i % 10 < 3 || i % 10 == 7) call(i + d, i, 2)
          if (i % 10 == 3) { call(i + d / 2, i, 2); call(i + d, i, 3) }
          if (i % 20 == 7) call(i + 2 * d, i, 1)
        }
        at = t + i * 1000
        if (i % 2 == 0)
          disp(i + d, i, at + 3600000, i % 3 == 0 ? "DISP_RESOLVED_ON_SCENE" : i % 3 == 1 ? "DISP_REFERRED" : "DISP_TRANSPORTED_ER")
        if (i % 6 == 0) disp(i + 2 * d, i, at + 1800000, "DISP_ARREST")
        if (i % 6 == 2) disp(i + 2 * d, i, at + 7200000, "DISP_INVOLUNTARY_HOLD")
      }
    }' | sort -t "$(printf '\t')" -k1,1n -k2,2n | cut -f3-
}

# crash_split FILE PARTS: FILE cut into PARTS consecutive slices FILE.1 .. FILE.PARTS.
crash_split() {
  local lines per
  lines=$(wc -l < "$1")
  per=$(((lines + $2 - 1) / $2))
  split -d -a 3 -l "$per" "$1" "$1.part."
  local k=1 f
  for f in "$1".part.*; do
    mv "$f" "$1.$k"
    k=$((k + 1))
  done
}

# ---- holding the writer ----

# hold_lock: a session of our own (application_name pmhc-test-lock) takes pmhcd's
# tables IN EXCLUSIVE MODE and keeps them, so pmhcd's writes wait (reads still
# work) until release_lock cancels it. A cancel, not a pipe to close: processes
# started meanwhile would inherit the pipe and keep the session open.
hold_lock() {
  psql "$PMHC_PG_CONNINFO application_name=pmhc-test-lock" -XAtq -c "BEGIN" \
    -c "LOCK TABLE pmhc.calls, pmhc.decisions, pmhc.dispositions IN EXCLUSIVE MODE" \
    -c "SELECT pg_sleep(3600)" > "$PMHC_TEST_DIR/lock.out" 2>&1 &
  LOCK_PID=$!
  local until=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$until" ]; do
    [ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE a.application_name = 'pmhc-test-lock' AND l.granted AND l.mode = 'ExclusiveLock'
                 AND l.relation IN ('pmhc.calls'::regclass, 'pmhc.decisions'::regclass, 'pmhc.dispositions'::regclass)")" = 3 ] \
      && return 0
    kill -0 "$LOCK_PID" 2>/dev/null || fail "the locking session ended: $(cat "$PMHC_TEST_DIR/lock.out")"
    sleep 0.1
  done
  fail "could not lock pmhcd's tables within 30 s"
}

release_lock() {
  sql "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'pmhc-test-lock'" >/dev/null
  wait "$LOCK_PID" 2>/dev/null && fail "the locking session ended by itself: $(cat "$PMHC_TEST_DIR/lock.out")"
  grep -q 'canceling statement due to user request' "$PMHC_TEST_DIR/lock.out" \
    || fail "the locking session failed: $(cat "$PMHC_TEST_DIR/lock.out")"
}

# hold_writer lock|server and release_writer: pmhcd's writes wait on a lock,
# or on a PostgreSQL that is stopped.
hold_writer() {
  HOLD_KIND=$1
  if [ "$1" = lock ]; then hold_lock; else pg_down; fi
}
release_writer() {
  if [ "$HOLD_KIND" = lock ]; then release_lock; else pg_up; fi
}

# lines FILE: how many lines FILE has now (0 when it does not exist yet).
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# until_published FILE FROM MS [SECONDS]: until FILE (the recommendations as they
# are read) has grown to more than FROM lines and MS milliseconds have passed.
until_published() {
  local since now until=$((SECONDS + ${4:-60}))
  since=$(date +%s%3N)
  while [ "$SECONDS" -lt "$until" ]; do
    now=$(date +%s%3N)
    [ "$(lines "$1")" -gt "$2" ] && [ $((now - since)) -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "recommendations stopped at $(lines "$1") lines, waiting for more than $2, within ${4:-60} s"
}

# ---- the checks ----

# crash_expect STREAM: what the stream must leave, computed from it alone, into
# STREAM.calls (call|newest revision), STREAM.fresh (call|revision: each newer than
# every earlier one of its call, so decided once), STREAM.pairs (every call|revision
# sent) and STREAM.disp (call|code|closed_at of the latest closed_at).
crash_expect() {
  jq -r 'select(.type == "call") | "\(.call_id)|\(.revision)"' "$1" > "$1.seq"
  LC_ALL=C sort -u "$1.seq" > "$1.pairs"
  awk -F'|' '$2 > max[$1] { max[$1] = $2; print }' "$1.seq" | LC_ALL=C sort > "$1.fresh"
  awk -F'|' '$2 > max[$1] { max[$1] = $2 } END { for (c in max) print c "|" max[c] }' "$1.seq" \
    | LC_ALL=C sort > "$1.calls"
  jq -r 'select(.type == "disposition") | "\(.call_id)|\(.code | sub("^DISP_"; ""))|\(.closed_at_ms)"' "$1" \
    | awk -F'|' '!($1 in at) || $3 >= at[$1] { at[$1] = $3; code[$1] = $2 }
                 END { for (c in at) print c "|" code[c] "|" at[c] }' | LC_ALL=C sort > "$1.disp"
}

# same WHAT WANT GOT: the sorted files WANT and GOT hold the same lines; if not,
# fail naming how many lines are missing and how many unexpected, with examples.
same() {
  local missing extra
  missing=$(LC_ALL=C comm -23 "$2" "$3")
  extra=$(LC_ALL=C comm -13 "$2" "$3")
  [ -z "$missing$extra" ] && return 0
  fail "$1: $(grep -c . <<<"$missing") missing (first: $(head -3 <<<"$missing" | tr '\n' ' ')), $(grep -c . <<<"$extra") unexpected (first: $(head -3 <<<"$extra" | tr '\n' ' '))"
}

# crash_check_store STREAM: every call with its newest revision, exactly the
# decisions the stream calls for (one per fresh revision, none for a stale one),
# and every call's latest disposition.
crash_check_store() {
  local s=$1
  sql "SELECT call_id || '|' || revision FROM pmhc.calls WHERE psap_id = 'CR'" | LC_ALL=C sort > "$s.got-calls"
  same "pmhc.calls (call|revision) against the stream" "$s.calls" "$s.got-calls"
  ok "every one of $(wc -l < "$s.calls") calls stored with its newest revision"
  sql "SELECT call_id || '|' || revision FROM pmhc.decisions WHERE psap_id = 'CR'" | LC_ALL=C sort > "$s.got-decisions"
  same "pmhc.decisions (call|revision) against the fresh revisions of the stream" "$s.fresh" "$s.got-decisions"
  ok "exactly one decision for each of $(wc -l < "$s.fresh") fresh (call, revision), none for a stale one"
  sql "SELECT call_id || '|' || code || '|' || (extract(epoch FROM closed_at) * 1000)::bigint
         FROM pmhc.dispositions WHERE psap_id = 'CR'" | LC_ALL=C sort > "$s.got-disp"
  same "pmhc.dispositions (call|code|closed_at) against the stream" "$s.disp" "$s.got-disp"
  ok "every one of $(wc -l < "$s.disp") calls' latest disposition present"
}

# crash_check_recommendations STREAM RECS MIN_PROCESSES: RECS is the whole of
# pmhc.recommendations (pmhc-consume --meta). Every fresh (call, revision) was
# recommended; nothing else was; no process published a revision of a call at or
# below one it had published before (a replay, a stale revision); and some
# (call, revision) were published by two processes: the replays after the kills.
crash_check_recommendations() {
  local s=$1 recs=$2
  jq -r '"\(._headers["pmhc-instance"])|\(.call_id)|\(.revision)"' "$recs" > "$s.recs"
  cut -d'|' -f2,3 "$s.recs" | LC_ALL=C sort -u > "$s.got-pairs"
  expect_eq "every fresh (call, revision) recommended at least once" \
    "$(LC_ALL=C comm -23 "$s.fresh" "$s.got-pairs" | wc -l)" 0
  expect_eq "nothing recommended that was not sent" "$(LC_ALL=C comm -13 "$s.pairs" "$s.got-pairs" | wc -l)" 0
  # In one partition, so in the order published: each process's revisions of a call only rise.
  local again
  again=$(awk -F'|' '{ k = $1 SUBSEP $2; if (k in last && $3 <= last[k]) bad++; if (!(k in last) || $3 > last[k]) last[k] = $3 }
                     END { print bad + 0 }' "$s.recs")
  expect_eq "no process republished a (call, revision), nor an older one after a newer" "$again" 0
  local procs
  procs=$(cut -d'|' -f1 "$s.recs" | sort -u | wc -l)
  [ "$procs" -ge "$3" ] || fail "recommendations came from $procs processes, want at least $3"
  ok "recommendations came from $procs processes"
  REPLAYS=$(cut -d'|' -f2,3 "$s.recs" | LC_ALL=C sort | uniq -c | awk '$1 > 1' | wc -l)
  [ "$REPLAYS" -gt 0 ] || fail "no (call, revision) was published by two processes: the kills replayed nothing"
  ok "$REPLAYS (call, revision) decided again by the next process: replayed, not lost"
}
