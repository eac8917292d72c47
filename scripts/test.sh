#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#   1. installs the Debian packages it needs (scripts/install-deps.sh);
#   2. builds and runs every test (unit + integration against a real
#      PostgreSQL and librdkafka's mock cluster over TCP);
#   3. rebuilds with ASan+UBSan and runs the unit tests again;
#   4. runs the unit tests under valgrind (errors and leaks fail);
#   5. fuzzes decode + validate + decide + unit choice + packing with libFuzzer
#      in a clang build for PMHC_FUZZ_SECONDS seconds (default 60).
# Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD

bash scripts/install-deps.sh || exit 1

passed=0
failed=0
log=$(mktemp /tmp/pmhc-test-log.XXXXXX)

# Adds the totals of one meson test run to ours.
count() {
  local ok fail tout
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  tout=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  passed=$((passed + ${ok:-0}))
  failed=$((failed + ${fail:-0} + ${tout:-0}))
}

# run NAME BUILD_DIR [meson test args...]
run() {
  local name=$1 dir=$2
  shift 2
  echo "== $name"
  meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  count
  if [ "$rc" -ne 0 ] && ! grep -q '^Fail:' "$log"; then
    failed=$((failed + 1))	# meson itself failed (no summary): count it
  fi
}

setup() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null || { echo "meson setup $dir failed" >&2; failed=$((failed + 1)); return 1; }
  fi
  ninja -C "$dir" >/dev/null || { ninja -C "$dir"; echo "build in $dir failed" >&2; failed=$((failed + 1)); return 1; }
}

if setup build; then
  run "all tests" build
  run "unit tests under valgrind" build --suite unit \
    --wrap='valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet'
fi
if setup build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    run "unit tests under ASan+UBSan" build-asan --suite unit
fi
# Only the harness and what it needs (-Dtests=false): the fuzz build instruments the
# whole tree with ASan+UBSan and libFuzzer's coverage. --verbose shows its one-line
# summary (executions and exec/s); the full libFuzzer log stays in build-fuzz.
export PMHC_FUZZ_SECONDS=${PMHC_FUZZ_SECONDS:-60}
if CC=clang setup build-fuzz -Dfuzz=true -Dtests=false; then
  run "fuzzing for $PMHC_FUZZ_SECONDS s (libFuzzer, ASan+UBSan)" build-fuzz --suite fuzz --verbose
fi

rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
