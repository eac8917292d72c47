#!/usr/bin/env bash
# pmhc-watch through the real Kafka protocol: the sample calls go through pmhcd, and the
# console must show one block per recommendation with the call's beat (joined from
# cad.calls), mark superseded and stale revisions, skip repeats, fit 80 columns, colour
# only when asked, filter by PSAP and mental-health calls, follow live calls from "now",
# and stop cleanly on SIGTERM.
source "$(dirname "$0")/lib.sh"

: "${PMHC_WATCH:?}"
# The layout must not depend on the caller's terminal or taste.
unset COLUMNS NO_COLOR

out=$PMHC_TEST_DIR/watch
mkdir -p "$out"

watch() {
  "$PMHC_WATCH" -b "$PMHC_BROKERS" "$@"
}

# Blocks start with the decision's time at column 0; every other line is indented.
blocks() {
  grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}  ' "$1" || true
}

# block CALL REV FILE: the lines of that call's block (the first such block).
block() {
  awk -v head="TPS/$1  rev $2  " '
    /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]  / { if (done) exit; inb = index($0, head) > 0; if (inb) done = 1 }
    inb' "$3"
}

# joined CALL REV FILE: the block's words on one line, one space apart.
joined() {
  block "$1" "$2" "$3" | sed 's/^ *//' | paste -sd ' ' - | tr -s ' '
}

# Widest line in display columns (an em dash is one column, not three bytes).
widest() {
  LC_ALL=C.UTF-8 wc -L < "$1"
}

write_config
start_daemon
# 19 recommendations since the sample calls gained the eight calls of the safer routes
# (branch routing); there were 11.
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$DATA/sample-calls.jsonl"
# What pmhcd published, to hold the console's blocks against.
"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning -c 19 --idle-ms 15000 --meta >"$out/recs.jsonl" \
  || fail "fewer than 19 recommendations for pmhc-consume"

# --- A replay, piped: plain text, 80 columns -----------------------------------
watch --from-beginning -c 19 --idle-ms 15000 --color=never >"$out/plain.txt" 2>"$out/plain.err" \
  || fail "pmhc-watch did not show 19 blocks: $(cat "$out/plain.err")"
expect_eq "19 blocks" "$(blocks "$out/plain.txt")" 19
grep -q 'watching pmhc.recommendations (4 partitions) from the beginning; beats from cad.calls' \
  "$out/plain.err" || fail "no start line on stderr: $(cat "$out/plain.err")"
ok "start line on stderr"
expect_eq "beat of 24-000102 joined from cad.calls" \
  "$(block 24-000102 1 "$out/plain.txt" | sed -n 1p | grep -o 'beat [^ ]*')" "beat 51-1"
expect_eq "every block has its beat" "$(grep -c 'beat ?' "$out/plain.txt" || true)" 0
expect_eq "first line of 24-000103" \
  "$(block 24-000103 1 "$out/plain.txt" | sed -n 1p | cut -c 11-)" \
  "TPS/24-000103  rev 1  beat 14-2  CO_RESPONDER  MH-COR"
expect_eq "first line of 24-000111" \
  "$(block 24-000111 1 "$out/plain.txt" | sed -n 1p | cut -c 11-)" \
  "TPS/24-000111  rev 1  beat 14-1  MOBILE_CRISIS  MH-MCT"
for id in 24-000112 24-000113; do
  grep -q '  CALL_DIVERSION  MH-DIV$' <<<"$(block "$id" 1 "$out/plain.txt" | sed -n 1p)" \
    || fail "$id is not shown as CALL_DIVERSION: $(block "$id" 1 "$out/plain.txt")"
  grep -q 'on the phone, no unit' <<<"$(block "$id" 1 "$out/plain.txt")" \
    || fail "$id: no 'on the phone, no unit': $(block "$id" 1 "$out/plain.txt")"
done
ok "CALL_DIVERSION calls: on the phone, no unit"
grep -q '(supersedes rev 1)' <<<"$(block 24-000101 2 "$out/plain.txt")" \
  || fail "24-000101 rev 2 not marked as superseding rev 1: $(block 24-000101 2 "$out/plain.txt")"
ok "24-000101 rev 2 supersedes rev 1"
expect_eq "24-000101 rev 1 carries no mark" \
  "$(block 24-000101 1 "$out/plain.txt" | grep -cE 'supersedes|STALE' || true)" 0
for id in 24-000106 24-000110; do
  grep -q '  STANDARD$' <<<"$(block "$id" 1 "$out/plain.txt" | sed -n 1p)" \
    || fail "$id is not shown as STANDARD: $(block "$id" 1 "$out/plain.txt")"
  grep -q 'CAD assigns patrol' <<<"$(block "$id" 1 "$out/plain.txt")" \
    || fail "$id: no 'CAD assigns patrol': $(block "$id" 1 "$out/plain.txt")"
done
ok "STANDARD calls: no dispatch code, CAD assigns patrol"
expect_eq "flags of 24-000102" \
  "$(block 24-000102 1 "$out/plain.txt" | sed -n 2p | grep -o 'flags: [A-Z_ ]*[A-Z_]')" \
  "flags: MH WEAPON PREMISE_MH"
# Each block ends with pmhcd's summary, word-wrapped without losing a word.
while read -r id rev; do
  want=$(jq -r --arg id "$id" --argjson rev "$rev" \
    'select(.call_id == $id and .revision == $rev) | .summary' "$out/recs.jsonl" | tr -s ' ')
  got=$(joined "$id" "$rev" "$out/plain.txt")
  [[ $got == *" $want" ]] || fail "block of $id rev $rev does not end with its summary: '$got'"
done < <(jq -r '"\(.call_id) \(.revision)"' "$out/recs.jsonl")
ok "every summary shown whole"
[ "$(widest "$out/plain.txt")" -le 80 ] || fail "a line is wider than 80 columns: $(widest "$out/plain.txt")"
ok "no line wider than 80 columns"
expect_eq "no escape codes with --color=never" "$(grep -c $'\033' "$out/plain.txt" || true)" 0

# --- Colour on request: same text, with escape codes -----------------------------
watch --from-beginning -c 19 --idle-ms 15000 --color=always >"$out/color.txt" 2>/dev/null \
  || fail "pmhc-watch --color=always did not show 19 blocks"
[ "$(grep -c $'\033\\[' "$out/color.txt")" -gt 0 ] || fail "no escape codes with --color=always"
ok "escape codes with --color=always"
grep -q $'\033\\[1;31mCIT_WITH_BACKUP\033\\[0m' "$out/color.txt" || fail "CIT_WITH_BACKUP is not red"
grep -q $'\033\\[1;32mMOBILE_CRISIS\033\\[0m' "$out/color.txt" || fail "MOBILE_CRISIS is not green"
grep -q $'\033\\[1;32mCALL_DIVERSION\033\\[0m' "$out/color.txt" || fail "CALL_DIVERSION is not green"
grep -q $'\033\\[1;32mEMS_AND_MOBILE_CRISIS\033\\[0m' "$out/color.txt" || fail "EMS_AND_MOBILE_CRISIS is not green"
grep -q $'\033\\[1;31mEMS_AND_CIT_WITH_BACKUP\033\\[0m' "$out/color.txt" || fail "EMS_AND_CIT_WITH_BACKUP is not red"
ok "responses coloured"
# Partitions may interleave differently from one run to the next: compare the lines.
diff <(sed $'s/\033\\[[0-9;]*m//g' "$out/color.txt" | sort) <(sort "$out/plain.txt") >/dev/null \
  || fail "--color=always is not --color=never plus escape codes"
ok "colour changes nothing but the escape codes"
# auto: not a terminal, so no colour, whatever TERM says.
TERM=xterm-256color watch --from-beginning -c 1 --idle-ms 15000 >"$out/auto.txt" 2>/dev/null \
  || fail "pmhc-watch --color=auto showed nothing"
expect_eq "--color=auto into a pipe: no escape codes" "$(grep -c $'\033' "$out/auto.txt" || true)" 0

# --- COLUMNS is the width when the output is not a terminal ----------------------
COLUMNS=50 watch --from-beginning -c 19 --idle-ms 15000 --color=never >"$out/narrow.txt" 2>/dev/null \
  || fail "pmhc-watch with COLUMNS=50 did not show 19 blocks"
[ "$(widest "$out/narrow.txt")" -le 50 ] || fail "COLUMNS=50: a line is $(widest "$out/narrow.txt") columns wide"
expect_eq "COLUMNS=50: the same words" "$(joined 24-000101 2 "$out/narrow.txt")" \
  "$(joined 24-000101 2 "$out/plain.txt")"

# --- Filters -----------------------------------------------------------------
watch --from-beginning --mh-only --idle-ms 3000 --color=never >"$out/mh.txt" 2>/dev/null \
  || fail "pmhc-watch --mh-only failed"
expect_eq "--mh-only: 17 blocks" "$(blocks "$out/mh.txt")" 17
expect_eq "--mh-only hides the STANDARD calls" "$(grep -cE '24-000106|24-000110' "$out/mh.txt" || true)" 0
watch --from-beginning --psap OTHER --idle-ms 2000 --color=never >"$out/psap.txt" 2>/dev/null \
  || fail "pmhc-watch --psap OTHER did not exit 0"
expect_eq "--psap OTHER: nothing shown" "$(wc -c < "$out/psap.txt")" 0
expect_eq "--psap TPS: everything" \
  "$(watch --from-beginning --psap TPS -c 19 --idle-ms 15000 --color=never 2>/dev/null | blocks /dev/stdin)" 19

# --- Stale revisions and repeats -------------------------------------------------
# pmhcd itself publishes revisions in order; a late lower revision can come from two
# instances around a rebalance, and repeats from a replay after a crash. Both are made
# here by writing to the topic directly.

# A protobuf varint, and a length-delimited field (TAG, then bytes of $2, under 128).
varint() {
  local v=$1
  while ((v > 127)); do
    printf "\\x$(printf %02x $(((v & 127) | 128)))"
    v=$((v >> 7))
  done
  printf "\\x$(printf %02x "$v")"
}
field_str() {
  printf "\\x$1"
  varint "${#2}"
  printf '%s' "$2"
}
# recommendation CALL REV: a Recommendation of PSAP TPS, decided now, CO_RESPONDER.
recommendation() {
  field_str 0a "$1"
  field_str 12 TPS
  printf '\x18'; varint "$2"
  printf '\x20'; varint "$(date +%s%3N)"
  printf '\x28\x01\x40\x04'
  field_str 52 MH-COR
  field_str 5a "Test recommendation $1 revision $2."
}
recommendation 24-000301 2 >"$out/301-2.bin"
recommendation 24-000301 1 >"$out/301-1.bin"
# Exact copies of what pmhcd published for call 101.
for rev in 1 2; do
  read -r part offset < <(jq -r --argjson rev "$rev" \
    'select(.call_id == "24-000101" and .revision == $rev) | "\(._partition) \(._offset)"' "$out/recs.jsonl")
  kcat -C -b "$PMHC_BROKERS" -t pmhc.recommendations -p "$part" -o "$offset" -c 1 -e -f '%s' \
    >"$out/101-$rev.bin" 2>/dev/null
  [ -s "$out/101-$rev.bin" ] || fail "could not copy recommendation 24-000101 rev $rev"
done
# One message per file, in this order, all on one partition.
kcat -P -b "$PMHC_BROKERS" -t pmhc.recommendations -p 0 \
  "$out/301-2.bin" "$out/301-1.bin" "$out/301-1.bin" "$out/101-1.bin" "$out/101-2.bin"
watch --from-beginning --idle-ms 3000 --color=never >"$out/stale.txt" 2>"$out/stale.err" \
  || fail "pmhc-watch after the extra messages failed: $(cat "$out/stale.err")"
expect_eq "19 + 301 rev 2 + its stale rev 1; the repeats skipped" "$(blocks "$out/stale.txt")" 21
expect_eq "101 rev 1 shown once" "$(grep -c 'TPS/24-000101  rev 1  ' "$out/stale.txt")" 1
expect_eq "101 rev 2 shown once" "$(grep -c 'TPS/24-000101  rev 2  ' "$out/stale.txt")" 1
expect_eq "301 rev 1 shown once" "$(grep -c 'TPS/24-000301  rev 1  ' "$out/stale.txt")" 1
grep -qE 'STALE (—|--) superseded by rev 2' <<<"$(grep -A1 'TPS/24-000301  rev 1  ' "$out/stale.txt")" \
  || fail "the late rev 1 is not marked STALE: $(grep -A2 'TPS/24-000301  rev 1  ' "$out/stale.txt")"
ok "a late rev 1 is marked STALE, superseded by rev 2"
expect_eq "a call with no CallEvent shows beat ?" \
  "$(grep 'TPS/24-000301  rev 2  ' "$out/stale.txt" | cut -c 11-)" "TPS/24-000301  rev 2  beat ?  CO_RESPONDER  MH-COR"

# --- Live, from now: a new call shows with its beat --------------------------
# Not through watch(): $! must be pmhc-watch itself, not a subshell running it.
"$PMHC_WATCH" -b "$PMHC_BROKERS" -c 1 --idle-ms 20000 --color=never >"$out/live.txt" 2>"$out/live.err" &
watch_pid=$!
for _ in $(seq 1 100); do
  grep -q 'watching' "$out/live.err" && break
  sleep 0.1
done
grep -q 'from the end; beats from cad.calls' "$out/live.err" || fail "live pmhc-watch did not start: $(cat "$out/live.err")"
echo "{\"type\":\"call\",\"call_id\":\"24-000201\",\"psap_id\":\"TPS\",\"revision\":1,\"received_at_ms\":$(date +%s%3N),\"source\":\"SOURCE_911\",\"nature_code\":\"EDP\",\"location\":{\"beat\":\"22-4\",\"district\":\"22\"},\"screening\":{\"mental_health_issue\":\"ANSWER_YES\"}}" \
  | "$PMHC_PRODUCE" -b "$PMHC_BROKERS"
rc=0
wait "$watch_pid" || rc=$?
expect_eq "live pmhc-watch exits 0 after its block" "$rc" 0
expect_eq "only the new call, with its beat" \
  "$(head -n 1 "$out/live.txt" | cut -c 11-)" "TPS/24-000201  rev 1  beat 22-4  CO_RESPONDER  MH-COR"
expect_eq "a new call shows no 'received' time" "$(grep -c 'received' "$out/live.txt" || true)" 0

# --- SIGTERM: a clean stop, status 0 -------------------------------------------
"$PMHC_WATCH" -b "$PMHC_BROKERS" >/dev/null 2>"$out/term.err" &
watch_pid=$!
for _ in $(seq 1 100); do
  grep -q 'watching' "$out/term.err" && break
  sleep 0.1
done
kill -TERM "$watch_pid"
rc=0
wait "$watch_pid" || rc=$?
expect_eq "SIGTERM: exit status" "$rc" 0

# --- The command line ------------------------------------------------------------
rc=0; watch --color=sometimes 2>"$out/usage.err" || rc=$?
expect_eq "--color=sometimes: usage error" "$rc" 64
grep -q "pmhc-watch: --color=sometimes: expected auto, always or never" "$out/usage.err" \
  || fail "unclear usage message: $(cat "$out/usage.err")"
rc=0; watch -c 0 2>/dev/null || rc=$?
expect_eq "-c 0: usage error" "$rc" 64
rc=0; env -u PMHC_BROKERS "$PMHC_WATCH" 2>/dev/null || rc=$?
expect_eq "no brokers: usage error" "$rc" 64
# Captured first: under pipefail, grep -q quitting early would SIGPIPE the writer.
help=$("$PMHC_WATCH" --help)
grep -q '^Usage: pmhc-watch ' <<<"$help" || fail "--help shows no usage"
help_width=$(LC_ALL=C.UTF-8 wc -L <<<"$help")
[ "$help_width" -le 80 ] || fail "--help is $help_width columns wide"
ok "--help fits 80 columns"

stop_daemon
echo "watch: $checks checks passed"
