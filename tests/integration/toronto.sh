#!/usr/bin/env bash
# The worked example of adapters/README.md on real records: all 22,229 Toronto
# Police "Persons in Crisis" calls of 2014 (shared/data/toronto-persons-in-crisis),
# converted by adapters/toronto2jsonl, published to cad.history and loaded by
# pmhcd --backfill. Every row must be stored once, the views must give per
# local month exactly the counts taken from the CSV with awk, and every call
# must fall on its row's month and weekday in Toronto time.
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
TORONTO=$HERE/../../../shared/data/toronto-persons-in-crisis
CSV=$TORONTO/analysis_data_2014.csv.gz
CONVERT=$HERE/../../adapters/toronto2jsonl
# The data is not in this repository but in shared/ beside it (/work/main next
# to /work/shared, as in CI): without it this test cannot say anything.
[ -r "$CSV" ] || fail "the Toronto data is missing: $CSV not found (the repository must sit next to shared/, with shared/data/toronto-persons-in-crisis/ in it)"
W=$PMHC_TEST_DIR

# --- conversion ------------------------------------------------------------------
gzip -dc "$CSV" > "$W/tps2014.csv"
rows=$(awk 'NR > 1 && NF' "$W/tps2014.csv" | wc -l)
[ "$rows" -gt 0 ] || fail "$CSV has no data rows"
bash "$CONVERT" "$CSV" > "$W/tps2014.jsonl" 2> "$W/convert.log" || { cat "$W/convert.log" >&2; fail "toronto2jsonl failed"; }
expect_eq "toronto2jsonl: one call per CSV row, none skipped" \
  "$(tail -n 1 "$W/convert.log" | sed 's/ (.*)//')" \
  "toronto2jsonl: $rows rows read, $rows calls written, 0 rows skipped, 0 files skipped"

# Byte-identical under every awk installed (mawk is Debian's default).
others=""
for a in mawk gawk original-awk; do
  command -v "$a" >/dev/null 2>&1 || continue
  AWK=$a bash "$CONVERT" "$CSV" 2>/dev/null | cmp -s - "$W/tps2014.jsonl" || fail "toronto2jsonl under $a gives other output"
  others="$others $a"
done
ok "toronto2jsonl output identical under:$others"

# Rows it cannot place in time are refused with the reason, never invented.
printf 'objectid,event_year,event_month,event_dow,event_type\n1,2014,March,Sunday,Overdose\n2,2014,Smarch,Sunday,Overdose\n' \
  > "$W/bad.csv"
bash "$CONVERT" "$W/bad.csv" > "$W/bad.jsonl" 2> "$W/bad.log" || fail "toronto2jsonl failed on one bad row"
grep -q '^toronto2jsonl: .*/bad.csv:3: event_month "Smarch" is not a month; row skipped$' "$W/bad.log" \
  || { cat "$W/bad.log" >&2; fail "bad row not reported with its line"; }
expect_eq "a bad row is reported with its line number and skipped" "$(wc -l < "$W/bad.jsonl")" 1
if [ -r "$TORONTO/suicide_data1.csv.gz" ]; then
  rc=0
  bash "$CONVERT" "$TORONTO/suicide_data1.csv.gz" > "$W/suicide.jsonl" 2> "$W/suicide.log" || rc=$?
  expect_eq "a file without event_year is refused (exit 65, no output)" "$rc $(wc -l < "$W/suicide.jsonl")" "65 0"
fi

# --- backfill --------------------------------------------------------------------
"$PMHC_PRODUCE" -b "$PMHC_BROKERS" --history cad.history "$W/tps2014.jsonl" 2> "$W/produce.log" \
  || { cat "$W/produce.log" >&2; fail "pmhc-produce --history failed"; }
write_config
rc=0
timeout 240 "$PMHCD" --backfill --config "$W/pmhcd.conf" 2> "$W/backfill.log" || rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$W/backfill.log" >&2; fail "pmhcd --backfill exited $rc"; }
line=$(grep 'backfill caught up' "$W/backfill.log") || fail "no 'backfill caught up' line"
took=$(sed -n 's/.*took_s=\([0-9.]*\).*/\1/p' <<< "$line")
ok "pmhcd --backfill caught up: $rows calls, took_s=$took ($(awk -v n="$rows" -v t="$took" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print "-" }') calls/s)"

sql "INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('TPS', 'time_zone', 'America/Toronto')"
expect_eq "every CSV row stored once, as a backfilled TPS call" \
  "$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE backfilled AND psap_id = 'TPS') FROM pmhc.calls")" "$rows $rows"
expect_eq "nothing rejected" "$(sql "SELECT count(*) FROM pmhc.rejected_events")" 0

# Per local month: all calls, and MH calls (EDP and SUICIDE are mental-health
# codes, OD is not), straight from the CSV.
awk -F, 'BEGIN { split("January February March April May June July August September October November December", m, " ")
                 for (i = 1; i <= 12; i++) num[m[i]] = i }
         NR > 1 && NF { k = sprintf("%s-%02d-01", $2, num[$3]); calls[k]++
                        if ($5 == "Person in Crisis" || $5 == "Suicide-related") mh[k]++ }
         END { for (k in calls) print k, calls[k], mh[k] + 0 }' "$W/tps2014.csv" | sort > "$W/want-months.txt"
sql "SELECT month || ' ' || calls || ' ' || mh_calls FROM pmhc.mh_calls_by_month WHERE psap_id = 'TPS' ORDER BY month" \
  > "$W/got-months.txt"
diff -u "$W/want-months.txt" "$W/got-months.txt" || fail "pmhc.mh_calls_by_month differs from the CSV"
ok "pmhc.mh_calls_by_month: calls and MH calls of all $(wc -l < "$W/want-months.txt") months equal the CSV's"
expect_eq "OD calls are not MH calls, EDP and SUICIDE are" \
  "$(sql "SELECT string_agg(nature_code_mapped || ':' || mental_health_call, ' ' ORDER BY nature_code_mapped)
          FROM (SELECT DISTINCT nature_code_mapped, mental_health_call FROM pmhc.calls) s")" \
  "EDP:true OD:false SUICIDE:true"

# Every call on its own row's year, month and weekday, in Toronto time.
awk -F, 'NR > 1 && NF { printf "TPS-%s-%s,%s,%s,%s\n", $2, $1, $2, $3, $4 }' "$W/tps2014.csv" > "$W/want-days.csv"
psql "$PMHC_PG_DBA_CONNINFO" -XAtq -v ON_ERROR_STOP=1 > "$W/day-check.txt" <<SQL || fail "weekday check query failed"
CREATE TEMP TABLE want (call_id text PRIMARY KEY, year text, month text, dow text);
\copy want FROM '$W/want-days.csv' WITH (FORMAT csv)
SELECT count(*) || ' ' || count(*) FILTER (WHERE c.call_id IS NULL
         OR to_char(c.received_at AT TIME ZONE 'America/Toronto', 'YYYY FMMonth FMDay')
            <> w.year || ' ' || w.month || ' ' || w.dow)
  FROM want w LEFT JOIN pmhc.calls c ON c.psap_id = 'TPS' AND c.call_id = w.call_id;
SQL
expect_eq "every call's local year, month and weekday are its CSV row's (rows, mismatches)" \
  "$(cat "$W/day-check.txt")" "$rows 0"

echo "toronto: $checks checks passed"
