#!/usr/bin/env bash
# run.sh HARNESS SEED_CORPUS WORK_DIR — one bounded libFuzzer run, as meson's fuzz suite.
#
# libFuzzer adds every new input to its first corpus directory, so it works on a
# fresh copy in WORK_DIR and the committed seeds never change under a test run.
# Runs PMHC_FUZZ_SECONDS seconds (default 60). Its whole output goes to
# WORK_DIR/fuzz.log; this prints the executions and speed, and on a crash the
# end of the log and the input that caused it (WORK_DIR/artifacts/).
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: run.sh HARNESS SEED_CORPUS WORK_DIR" >&2; exit 2; }
harness=$1 seeds=$2 work=$3
seconds=${PMHC_FUZZ_SECONDS:-60}
case "$seconds" in
  ''|*[!0-9]*|0) echo "run.sh: PMHC_FUZZ_SECONDS must be a positive number of seconds, got '$seconds'" >&2; exit 2 ;;
esac

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
log=$work/fuzz.log

# UBSan only reports and goes on unless told to stop; a report must be a crash here.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
rc=0
# libFuzzer stops itself after max_total_time; the outer timeout only catches a
# harness that hangs outside its own per-input -timeout.
timeout --signal=KILL $((seconds + 120)) "$harness" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1 || rc=$?

done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
if [ -n "$done_line" ]; then
  runs=$(echo "$done_line" | awk '{print $2}')
  secs=$(echo "$done_line" | awk '{print $5}')
  echo "fuzz-call: $done_line ($((runs / (secs > 0 ? secs : 1))) exec/s); corpus $(find "$work/corpus" -type f | wc -l) inputs"
fi
if [ "$rc" -ne 0 ]; then
  echo "fuzz-call: libFuzzer exited $rc; the end of $log:"
  tail -n 60 "$log"
  echo "fuzz-call: crashing inputs (replay: $harness FILE):"
  ls -l "$work/artifacts"
  exit 1
fi
[ -n "$done_line" ] || { echo "fuzz-call: no 'Done N runs' line in $log"; exit 1; }
