#!/usr/bin/env bash
# Bad input through the real Kafka protocol, every case of SPEC section 8.
# Rejected: each input is on pmhc.dlq byte for byte, with its pmhc-reason and
# pmhc-source-* headers, and in pmhc.rejected_events with the same reason.
# Degraded: each input is still routed. Its call is stored with the repaired
# values, a recommendation is published and the repair is logged.
# A bad unit status is logged and ignored, never put on the DLQ: every instance
# reads all of cad.units, so each would send its own copy.
# At the end pmhcd is still running and stops cleanly.
# Raw bytes go out with kcat, one file per message. Crafted protobuf is written
# with printf; pmhc-produce sends the JSON lines.
# shellcheck disable=SC2059  # printf formats are how the crafted bytes are written
source "$(dirname "$0")/lib.sh"

# ---- protobuf by hand: these print printf formats (\xNN escapes), which send() turns into bytes ----
esc_varint() {  # N ≥ 0
  local n=$1 out=""
  while [ "$n" -ge 128 ]; do
    out+=$(printf '\\x%02x' $(((n & 127) | 128)))
    n=$((n >> 7))
  done
  printf '%s\\x%02x' "$out" "$n"
}
ld() {  # FIELD FORMAT: a length-delimited field (string or message) holding printf FORMAT's bytes
  local len
  len=$(printf "$2" | wc -c)
  printf '%s%s%s' "$(esc_varint $(($1 << 3 | 2)))" "$(esc_varint "$len")" "$2"
}
vf() {  # FIELD N: a varint field
  printf '%s%s' "$(esc_varint $(($1 << 3)))" "$(esc_varint "$2")"
}

IN=$PMHC_TEST_DIR/in
mkdir -p "$IN"
NOW=$(date +%s%3N)
sent=0

# send NAME TOPIC KEY FORMAT: the bytes of printf FORMAT as one Kafka message, kept in $IN/NAME
send() {
  printf "$4" > "$IN/$1"
  kcat -P -b "$PMHC_BROKERS" -t "$2" -k "$3" "$IN/$1" || fail "kcat could not send $1"
  sent=$((sent + 1))
}
produce() {  # JSON lines on stdin, one malformed input each
  local f=$PMHC_TEST_DIR/produce.jsonl n
  cat > "$f"
  n=$(grep -c '^{' "$f")
  "$PMHC_PRODUCE" -b "$PMHC_BROKERS" "$f" 2>/dev/null || fail "pmhc-produce refused $(cat "$f")"
  sent=$((sent + n))
}
sha() { sha256sum "$1" | cut -c1-64; }

# sharing.narrative shows the repaired narrative in the recommendation. privacy is
# already a group in lib.sh's config, so store_narrative cannot be added there.
write_config 'sharing = { narrative = true; };'

# Valid, but with the longest identifiers allowed and not ASCII: a summary naming two
# such units outgrows its 512 bytes and used to be cut inside a character, text that
# neither PostgreSQL nor a strict protobuf reader accepts. Found by tests/fuzz.
long_cit="CIT-$(printf 'ü%.0s' $(seq 62))"
long_patrol="P-$(printf 'ö%.0s' $(seq 63))"
if [ "$(printf '%s' "$long_cit" | wc -c)" -ne 128 ] || [ "$(printf '%s' "$long_patrol" | wc -c)" -ne 128 ]; then
  fail "long unit ids are not 128 bytes"
fi
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" 2>/dev/null <<EOF
{"type":"unit","unit_id":"$long_cit","psap_id":"LONG","kind":"UNIT_CIT_OFFICER","state":"UNIT_AVAILABLE","at_ms":$((NOW - 60000)),"beat":"1"}
{"type":"unit","unit_id":"$long_patrol","psap_id":"LONG","kind":"UNIT_PATROL","state":"UNIT_AVAILABLE","at_ms":$((NOW - 60000)),"beat":"1"}
EOF
start_daemon

# ==== Rejected: NAME TOPIC REASON, then the bytes ====
rejected=()
reject() {
  rejected+=("$1|$2|$3")
  send "$1" "$2" "TPS/$1" "$4"
}
C=cad.calls
D=cad.dispositions
reject garbage $C "bytes do not decode as pmhc.v1.CallEvent" '\xff\xff\xff\xff not a call'
reject truncated $C "bytes do not decode as pmhc.v1.CallEvent" "$(ld 1 'R-2')"'\x12\x05TP'
reject wrong-wire-type $C "bytes do not decode as pmhc.v1.CallEvent" '\x08\x01\x12\x03TPS'
# A well-formed call, refused for its size alone (limits.max_message_bytes, default 262144).
big="$(ld 1 'R-3')$(ld 2 'TPS')$(ld 12 "$(head -c 300000 /dev/zero | tr '\0' x)")"
reject oversize $C "message is $(printf "$big" | wc -c) bytes, over the 262144-byte limit" "$big"
# kcat cannot send an empty message, but a CallEvent with every field at its default packs to none.
rejected+=("empty-message|$C|call_id is empty")
: > "$IN/empty-message"
produce <<< '{"type":"call"}'
reject empty-call-id $C "call_id is empty" "$(ld 1 '')$(ld 2 'TPS')$(vf 3 1)"
reject empty-psap-id $C "psap_id is empty" "$(ld 1 'R-4')$(vf 3 1)"
reject utf8-call-id $C "call_id is not valid UTF-8" "$(ld 1 'R-\xc3\x28')$(ld 2 'TPS')"
reject utf8-psap-id $C "psap_id is not valid UTF-8" "$(ld 1 'R-5')$(ld 2 'TP\xed\xa0\x80S')"
reject overlong-utf8-call-id $C "call_id is not valid UTF-8" "$(ld 1 'R-\xc0\xaf')$(ld 2 'TPS')"
reject nul-call-id $C "call_id holds a NUL byte" "$(ld 1 'R-6\x00X')$(ld 2 'TPS')"
reject nul-psap-id $C "psap_id holds a NUL byte" "$(ld 1 'R-7')$(ld 2 'TPS\x00')"
reject long-call-id $C "call_id is 129 bytes, longer than the 128 allowed" \
  "$(ld 1 "$(head -c 129 /dev/zero | tr '\0' 9)")$(ld 2 'TPS')"
reject disp-garbage $D "bytes do not decode as pmhc.v1.Disposition" '\x0a\x09R-8'
reject disp-empty-call-id $D "call_id is empty" "$(ld 2 'TPS')$(vf 5 2)"
reject disp-utf8-psap-id $D "psap_id is not valid UTF-8" "$(ld 1 'R-9')$(ld 2 '\xfeTPS')"
reject disp-nul-call-id $D "call_id holds a NUL byte" "$(ld 1 '\x00')$(ld 2 'TPS')"
reject disp-empty-unit-id $D "unit_ids holds an empty identifier" "$(ld 1 'R-10')$(ld 2 'TPS')$(ld 4 'CIT-7')$(ld 4 '')"
reject disp-utf8-unit-id $D "unit_ids is not valid UTF-8" "$(ld 1 'R-11')$(ld 2 'TPS')$(ld 4 'CIT-\xff')"
reject disp-nul-unit-id $D "unit_ids holds a NUL byte" "$(ld 1 'R-12')$(ld 2 'TPS')$(ld 4 'CIT\x007')"
n_rejected=${#rejected[@]}

# Bad unit statuses: logged and ignored, not sent to the DLQ.
send unit-empty-id cad.units "TPS/" "$(ld 1 '')$(ld 2 'TPS')$(vf 3 2)$(vf 4 1)"
send unit-nul-id cad.units "TPS/U" "$(ld 1 'U\x001')$(ld 2 'TPS')$(vf 3 2)$(vf 4 1)"
send unit-utf8-psap-id cad.units "X/U-2" "$(ld 1 'U-2')$(ld 2 '\xc1\xbf')$(vf 3 2)$(vf 4 1)"
n_bad_units=3

# ==== Degraded: still routed ====
# Unknown enum numbers, coordinates off the Earth, implausible times (JSON lines).
produce <<EOF
{"type":"call","call_id":"G-ENUM","psap_id":"TPS","revision":1,"received_at_ms":$NOW,"source":99,"nature_code":"THEFT","screening":{"mental_health_issue":7,"weapon_involved":-1}}
{"type":"call","call_id":"G-COORDS","psap_id":"TPS","revision":1,"received_at_ms":$NOW,"source":"SOURCE_911","nature_code":"THEFT","location":{"lat":123.5,"lon":-500,"beat":"52-3"}}
{"type":"call","call_id":"G-NAN","psap_id":"TPS","revision":1,"received_at_ms":$NOW,"source":"SOURCE_911","nature_code":"THEFT","location":{"lat":"NaN","lon":"Infinity"}}
{"type":"call","call_id":"G-FUTURE","psap_id":"TPS","revision":1,"received_at_ms":4102444800000,"source":"SOURCE_911","nature_code":"THEFT"}
{"type":"call","call_id":"G-NO-TIME","psap_id":"TPS","revision":1,"source":"SOURCE_988","nature_code":"WELFARE"}
{"type":"disposition","call_id":"G-ENUM","psap_id":"TPS","closed_at_ms":99999999999999,"code":77}
{"type":"unit","unit_id":"U-DEG","psap_id":"TPS","kind":99,"state":"UNIT_AVAILABLE","at_ms":1,"lat":91,"lon":0}
EOF
# Invalid UTF-8 and NULs in free text (crafted bytes).
call_head() { printf '%s%s%s%s%s' "$(ld 1 "$1")" "$(ld 2 'TPS')" "$(vf 3 1)" "$(esc_varint $((4 << 3)))$(esc_varint "$NOW")" "$(vf 5 1)"; }
send text-nature cad.calls TPS/G-TEXT "$(call_head G-TEXT)$(ld 6 'EDP')$(ld 7 'Man \xff\xfe in crisis')"
send text-nul cad.calls TPS/G-NUL "$(call_head G-NUL)$(ld 6 'EDP')$(ld 7 'A\x00B')"
send text-address cad.calls TPS/G-ADDR "$(call_head G-ADDR)$(ld 6 'EDP')$(ld 8 "$(ld 1 '12 Rue \xe9glise')$(ld 4 '52-3')")"
send text-narrative cad.calls TPS/G-NARR "$(call_head G-NARR)$(ld 6 'EDP')$(ld 12 'said \xe2\x82 bye')"
send text-premise cad.calls TPS/G-PREMISE "$(call_head G-PREMISE)$(ld 6 'THEFT')$(ld 11 'MH_HISTORY')$(ld 11 '\xc0\x80')"
degraded_calls="G-ENUM G-COORDS G-NAN G-FUTURE G-NO-TIME G-TEXT G-NUL G-ADDR G-NARR G-PREMISE"
n_degraded=12	# ten calls, one disposition, one unit status

# The valid call whose summary is cut: every safety flag but medical, so the response
# is a CIT officer with patrol backup, and both long-id units are named. Medical is
# ruled out by Q11 and Q12 both answered NO (Q12 came with the safer routing).
produce <<EOF
{"type":"call","call_id":"L-1","psap_id":"LONG","revision":1,"received_at_ms":$NOW,"source":"SOURCE_911","nature_code":"MNTL","location":{"beat":"1"},"screening":{"mental_health_issue":"ANSWER_YES","weapon_involved":"ANSWER_YES","violence_in_progress":"ANSWER_YES","danger_to_self":"ANSWER_YES","danger_to_others":"ANSWER_YES","history_of_violence":"ANSWER_YES","at_risk_of_victimization":"ANSWER_YES","off_medication":"ANSWER_YES","medical_emergency":"ANSWER_NO","attempt_in_progress":"ANSWER_NO"},"premise_flags":["MH_HISTORY"]}
EOF
sent=$((sent - 1))	# not malformed

echo "badinput: $sent malformed inputs sent ($n_rejected rejected to the DLQ, $n_bad_units bad unit statuses, $n_degraded degraded)"

# ==== Rejected: rejected_events, then the DLQ ====
wait_sql "SELECT count(*) FROM pmhc.rejected_events" "$n_rejected"
for r in "${rejected[@]}"; do
  IFS='|' read -r name topic reason <<< "$r"
  got=$(sql "SELECT reason || '|' || source_topic || '|' || size_bytes FROM pmhc.rejected_events
             WHERE payload_sha256 = '\\x$(sha "$IN/$name")'::bytea")
  expect_eq "rejected: $name" "$got" "$reason|$topic|$(wc -c < "$IN/$name")"
done

# Every DLQ message: its headers, then its bytes, against rejected_events.
dlq_list() { kcat -C -b "$PMHC_BROKERS" -t pmhc.dlq -o beginning -e -q -f '%p %o %h\n' 2>/dev/null | grep -c . || true; }
for _ in $(seq 1 100); do [ "$(dlq_list)" -ge "$n_rejected" ] && break; sleep 0.2; done
kcat -C -b "$PMHC_BROKERS" -t pmhc.dlq -o beginning -e -q -f '%p %o %h\n' > "$PMHC_TEST_DIR/dlq.txt" 2>/dev/null
expect_eq "one DLQ message per rejected input, none for the unit statuses" "$(grep -c . "$PMHC_TEST_DIR/dlq.txt")" "$n_rejected"
# kcat prints headers as name=value,...; the reason may hold commas, the rest cannot.
header_re='^([0-9]+) ([0-9]+) pmhc-reason=(.*),pmhc-source-topic=([^,]*),pmhc-source-partition=([0-9]+),pmhc-source-offset=([0-9]+)$'
while read -r line; do
  [[ $line =~ $header_re ]] || fail "DLQ message without the four pmhc-* headers: $line"
  p=${BASH_REMATCH[1]} o=${BASH_REMATCH[2]}
  hdrs="${BASH_REMATCH[3]}|${BASH_REMATCH[4]}|${BASH_REMATCH[5]}|${BASH_REMATCH[6]}"
  kcat -C -b "$PMHC_BROKERS" -t pmhc.dlq -p "$p" -o "$o" -c 1 -e -q -f '%s' > "$PMHC_TEST_DIR/dlq.bin" 2>/dev/null
  row=$(sql "SELECT reason || '|' || source_topic || '|' || source_partition || '|' || source_offset
             FROM pmhc.rejected_events WHERE payload_sha256 = '\\x$(sha "$PMHC_TEST_DIR/dlq.bin")'::bytea")
  [ -n "$row" ] || fail "DLQ message $p/$o is not byte for byte one of the inputs sent"
  expect_eq "DLQ $p/$o: unchanged, headers match rejected_events" "$hdrs" "$row"
done < "$PMHC_TEST_DIR/dlq.txt"

# ==== Bad unit statuses: logged, counted, not in the roster ====
for _ in $(seq 1 50); do
  [ "$(grep -c 'unit status ignored' "$PMHC_TEST_DIR/pmhcd.log")" -ge "$n_bad_units" ] && break
  sleep 0.1
done
expect_eq "bad unit statuses logged as ignored" "$(grep -c 'unit status ignored' "$PMHC_TEST_DIR/pmhcd.log")" "$n_bad_units"
grep -q 'unit status ignored.*unit_id holds a NUL byte' "$PMHC_TEST_DIR/pmhcd.log" || fail "no reason for the NUL unit_id"

# ==== Degraded: routed with repaired values, published, logged ====
wait_sql "SELECT count(*) FROM pmhc.calls WHERE call_id LIKE 'G-%'" 10
row() { sql "SELECT $2 FROM pmhc.calls WHERE psap_id = 'TPS' AND call_id = '$1'"; }
expect_eq "unknown source → UNSPECIFIED" "$(row G-ENUM source)" "UNSPECIFIED"
expect_eq "unknown answers → unknown, not yes" "$(row G-ENUM "mental_health_call || ' ' || flags::text")" "false {}"
expect_eq "coordinates off the Earth → unknown" "$(row G-COORDS "coalesce(lat::text, 'NULL') || ' ' || beat")" "NULL 52-3"
expect_eq "NaN coordinates → unknown" "$(row G-NAN "lat IS NULL AND lon IS NULL")" "t"
expect_eq "a time in 2100 → arrival time" "$(row G-FUTURE "abs(extract(epoch FROM received_at - now())) < 600")" "t"
expect_eq "no time → arrival time" "$(row G-NO-TIME "abs(extract(epoch FROM received_at - now())) < 600 AND source = '988'")" "t"
expect_eq "bad bytes in nature_text → U+FFFD" "$(row G-TEXT nature_text)" "Man �� in crisis"
expect_eq "NUL in nature_text → U+FFFD, text after it kept" "$(row G-NUL nature_text)" "A�B"
expect_eq "bad address: the call is still decided" "$(row G-ADDR "beat || ' ' || mental_health_call")" "52-3 true"
expect_eq "bad premise flag → U+FFFD for each bad byte, the good one still counts" \
  "$(row G-PREMISE "premise_flags::text || ' ' || flags::text")" "{MH_HISTORY,��} {PREMISE_MH}"
wait_sql "SELECT code || ' ' || (abs(extract(epoch FROM closed_at - now())) < 600)
          FROM pmhc.dispositions WHERE call_id = 'G-ENUM'" "UNSPECIFIED true"
ok "disposition: unknown code → UNSPECIFIED, a time in 5138 → arrival time"
wait_sql "SELECT kind || ' ' || (lat IS NULL) || ' ' || (abs(extract(epoch FROM at - now())) < 600)
          FROM pmhc.unit_status WHERE unit_id = 'U-DEG'" "UNSPECIFIED true true"
ok "unit status: unknown kind → UNSPECIFIED, latitude 91 → unknown, at_ms 1 → arrival time"

"$PMHC_CONSUME" -b "$PMHC_BROKERS" --from-beginning -c 11 --idle-ms 15000 > "$PMHC_TEST_DIR/recs.jsonl" 2>/dev/null \
  || fail "fewer than 11 recommendations published"
for id in $degraded_calls; do
  expect_eq "recommendation published for $id" \
    "$(jq -r --arg id "$id" 'select(.call_id == $id) | .psap_id' "$PMHC_TEST_DIR/recs.jsonl")" "TPS"
  grep -q "input degraded but routed\" call=\"TPS/$id\" " "$PMHC_TEST_DIR/pmhcd.log" || fail "degraded call $id not logged"
done
ok "every degraded call logged"
expect_eq "the repaired narrative is what dispatch sees (a U+FFFD per bad byte)" \
  "$(jq -r 'select(.call_id == "G-NARR") | .reasons[-1]' "$PMHC_TEST_DIR/recs.jsonl")" "narrative: said �� bye"
for what in "source has unknown value 99" "location 123.5,-500 is not on Earth" "received_at_ms 4102444800000 is implausible" \
  "nature_text was not valid UTF-8" "address was not valid UTF-8" "narrative was not valid UTF-8" "premise_flags was not valid UTF-8"; do
  grep -q "degraded.*$what" "$PMHC_TEST_DIR/pmhcd.log" || fail "no degraded line saying '$what'"
done
ok "each repair logged with what was wrong"
grep -q 'disposition degraded but stored" call="TPS/G-ENUM"' "$PMHC_TEST_DIR/pmhcd.log" || fail "degraded disposition not logged"
grep -q 'unit status degraded but used" unit="TPS/U-DEG"' "$PMHC_TEST_DIR/pmhcd.log" || fail "degraded unit status not logged"
ok "degraded disposition and unit status logged"

# ==== The summary that outgrew its buffer: stored, published, and UTF-8 ====
wait_sql "SELECT array_length(unit_ids, 1) FROM pmhc.calls WHERE psap_id = 'LONG' AND call_id = 'L-1'" 2
summary=$(jq -r 'select(.call_id == "L-1") | .summary' "$PMHC_TEST_DIR/recs.jsonl")
expect_eq "long summary published, cut at 511 bytes or less on a character boundary" \
  "$([ "$(printf '%s' "$summary" | wc -c)" -le 511 ] && printf '%s' "$summary" | iconv -f UTF-8 -t UTF-8 >/dev/null && echo yes)" yes
expect_eq "and stored as published" \
  "$(sql "SELECT summary FROM pmhc.decisions WHERE psap_id = 'LONG' AND call_id = 'L-1'")" "$summary"

# ==== Still alive, counted, and a clean stop ====
kill -0 "$DAEMON_PID" 2>/dev/null || fail "pmhcd died on bad input"
ok "pmhcd still running after $sent malformed inputs"
stop_daemon
ok "SIGTERM: clean stop with exit 0"
stats=$(grep 'msg="stopped"' "$PMHC_TEST_DIR/pmhcd.log" | tail -1)
expect_eq "stats: rejected" "$(sed -n 's/.* rejected=\([0-9]*\).*/\1/p' <<< "$stats")" "$n_rejected"
expect_eq "stats: degraded calls and dispositions" "$(sed -n 's/.* degraded=\([0-9]*\).*/\1/p' <<< "$stats")" 11
expect_eq "stats: unit statuses rejected" "$(sed -n 's/.* unit_statuses_rejected=\([0-9]*\).*/\1/p' <<< "$stats")" "$n_bad_units"

echo "badinput: $checks checks passed; $sent malformed inputs sent"
