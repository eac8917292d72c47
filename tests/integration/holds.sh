#!/usr/bin/env bash
# Unit holds across instances: two pmhcd processes share the calls of one
# consumer group and recommend from one roster. A burst of calls in one beat,
# with fewer free CIT officers than calls, is decided by both at once.
#
# A unit "recommended to two open calls at once" is one named by two
# recommendations, from two instances, for two different calls, within the
# hold time of each other. Without shared holds (kafka.share_holds = false)
# each instance hands out every free unit again. With them, an instance learns
# the other's holds from pmhc.recommendations: two instances can still pick one
# unit only when both decide within the time a recommendation takes to reach
# the other instance. This test measures that window (the largest gap between
# two such picks), requires it to stay under WINDOW_MS, and requires no such
# pick at all once calls come further apart than that.
source "$(dirname "$0")/lib.sh"

UNITS=${PMHC_HOLDS_UNITS:-6}
CALLS=${PMHC_HOLDS_CALLS:-40}
WINDOW_MS=${PMHC_HOLDS_WINDOW_MS:-250}
now=$(($(date +%s%3N)))

# units PSAP: UNITS free CIT officers in beat H1 of PSAP.
units() {
  for i in $(seq 1 "$UNITS"); do
    printf '{"type":"unit","unit_id":"CIT-%d","psap_id":"%s","kind":"UNIT_CIT_OFFICER","state":"UNIT_AVAILABLE","at_ms":%d,"beat":"H1","district":"H"}\n' \
      "$i" "$1" "$((now - 60000))"
  done
}
# calls PSAP N: N mental-health calls in beat H1 that each need one CIT officer.
calls() {
  for i in $(seq 1 "$2"); do
    printf '{"type":"call","call_id":"%s-%03d","psap_id":"%s","revision":1,"received_at_ms":%d,"source":"SOURCE_911","nature_code":"EDP","location":{"beat":"H1","district":"H"},"screening":{"history_of_violence":"ANSWER_YES"}}\n' \
      "$1" "$i" "$1" "$now"
  done
}
for psap in OFF-BURST OFF-PACED ON-BURST ON-PACED; do units "$psap"; done > "$PMHC_TEST_DIR/units.jsonl"
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/units.jsonl"

# A flowchart of its own, so the test does not follow the shipped defaults:
# every mental-health call needs exactly one CIT officer, with no fallback.
rules='flowchart = (
  { id = "not-mh"; none = [ "MH" ]; response = "STANDARD"; dispatch_code = ""; },
  { id = "mh"; response = "CIT"; dispatch_code = "MH-CIT"; }
);
units = { hold = 120; fallbacks = ( ); };'

# start_pair SHARE: two instances in one group; waits until both hold partitions.
start_pair() {
  write_config "$rules"
  sed -i "s/group_id = \"pmhcd-test\";/group_id = \"pmhcd-test\"; share_holds = $1;/" "$PMHC_TEST_DIR/pmhcd.conf"
  : > "$PMHC_TEST_DIR/a.log"
  : > "$PMHC_TEST_DIR/b.log"
  "$PMHCD" --config "$PMHC_TEST_DIR/pmhcd.conf" >>"$PMHC_TEST_DIR/a.log" 2>&1 &
  A=$!
  "$PMHCD" --config "$PMHC_TEST_DIR/pmhcd.conf" >>"$PMHC_TEST_DIR/b.log" 2>&1 &
  B=$!
  for _ in $(seq 1 600); do
    # Both must own partitions in the same generation: the last assignment of each is not empty.
    if [ "$(grep -h 'partitions assigned' "$PMHC_TEST_DIR/a.log" | tail -1 | grep -c 'count=[1-9]')" = 1 ] &&
       [ "$(grep -h 'partitions assigned' "$PMHC_TEST_DIR/b.log" | tail -1 | grep -c 'count=[1-9]')" = 1 ]; then
      return 0
    fi
    kill -0 "$A" 2>/dev/null && kill -0 "$B" 2>/dev/null || fail "an instance exited at start"
    sleep 0.1
  done
  fail "the two instances did not split the partitions within 60 s"
}
stop_pair() {
  kill -TERM "$A" "$B"
  wait "$A" || fail "instance A exited $? after SIGTERM"
  wait "$B" || fail "instance B exited $? after SIGTERM"
}

# run PSAP GAP_MS: the PSAP's calls, GAP_MS apart (0 = all at once); waits until decided.
run() {
  calls "$1" "$CALLS" > "$PMHC_TEST_DIR/$1.jsonl"
  if [ "$2" = 0 ]; then
    "$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$PMHC_TEST_DIR/$1.jsonl"
  else
    "$PMHC_PRODUCE" -b "$PMHC_BROKERS" --rate "$((1000 / $2))" "$PMHC_TEST_DIR/$1.jsonl"
  fi
  wait_sql "SELECT count(*) FROM pmhc.decisions WHERE psap_id = '$1'" "$CALLS" 60
}

# conflicts PSAP: "count max_gap_ms" of units recommended to two open calls at once.
conflicts() {
  jq -r --arg p "$1" 'select(.psap_id == $p) | . as $r | .unit_ids[]? |
      [$r.psap_id, ., $r.decided_at_ms, $r.call_id, $r._headers["pmhc-instance"]] | @tsv' \
    "$PMHC_TEST_DIR/recs.jsonl" | sort -k2,2 -k3,3n |
    awk -F'\t' -v hold=120000 '
      $2 == unit && $4 != call && $5 != inst && $3 - at < hold { n++; g = $3 - at; if (g > max) max = g }
      { unit = $2; at = $3; call = $4; inst = $5 }
      END { printf "%d %d\n", n, max }'
}

"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning --meta > "$PMHC_TEST_DIR/recs.jsonl" 2>/dev/null &
reader=$!

start_pair false
run OFF-BURST 0
run OFF-PACED 500
stop_pair
start_pair true
run ON-BURST 0
run ON-PACED 500
stop_pair
sleep 2
kill "$reader"

[ "$(jq -r '._headers["pmhc-instance"] // empty' "$PMHC_TEST_DIR/recs.jsonl" | sort -u | wc -l)" -eq 4 ] ||
  fail "want recommendations from 4 processes, each naming itself in pmhc-instance"
ok "every recommendation names the process that published it"
read -r off_burst off_burst_gap <<<"$(conflicts OFF-BURST)"
read -r off_paced off_paced_gap <<<"$(conflicts OFF-PACED)"
read -r on_burst on_burst_gap <<<"$(conflicts ON-BURST)"
read -r on_paced on_paced_gap <<<"$(conflicts ON-PACED)"
echo "units recommended to two open calls at once ($UNITS free units, $CALLS calls, two instances):"
echo "  without shared holds: burst $off_burst (largest gap ${off_burst_gap} ms), calls 500 ms apart $off_paced (largest gap ${off_paced_gap} ms)"
echo "  with shared holds:    burst $on_burst (largest gap ${on_burst_gap} ms), calls 500 ms apart $on_paced"
[ "$off_paced" -gt 0 ] || fail "without shared holds the two instances should have shared a unit: the test cannot see the fault"
ok "without shared holds, $off_paced units went to two calls at once"
[ "$on_burst" -eq 0 ] || [ "$on_burst_gap" -le "$WINDOW_MS" ] ||
  fail "with shared holds, two picks of one unit $on_burst_gap ms apart: over the ${WINDOW_MS} ms window"
ok "with shared holds, a unit went to two calls only within ${on_burst_gap} ms of each other (window ${WINDOW_MS} ms)"
expect_eq "with shared holds and calls 500 ms apart, no unit went to two calls" "$on_paced" 0
echo "holds: $checks checks passed"
