#!/usr/bin/env bash
# The body of the demo; scripts/demo.sh runs it inside with-servers.sh.
# Usage: demo-run.sh BUILD_DIR CALLS.jsonl UNITS.jsonl DISPOSITIONS.jsonl [REPORT.html]
# (the report goes beside the build unless named; tests/integration/demo.sh names it)
set -euo pipefail
build=$1
calls=$2
units=$3
dispositions=$4
report=${5:-$build/demo-report.html}
dir=$PMHC_TEST_DIR

bold= plain=
if [ -t 1 ]; then
  bold=$(tput bold 2>/dev/null || true)
  plain=$(tput sgr0 2>/dev/null || true)
fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

# The shipped default configuration, pointed at the throw-away servers, with a
# short fetch wait so that each recommendation shows at once.
head -c 32 /dev/urandom > "$dir/subject.key"
chmod 600 "$dir/subject.key" # pmhcd refuses a key file others may read
sed -e "s|brokers = \"localhost:9092\";|brokers = \"$PMHC_BROKERS\";|" \
    -e "s|conninfo = \"host=localhost dbname=pmhc user=pmhcd\";|conninfo = \"$PMHC_PG_CONNINFO\";|" \
    -e "s|subject_key_file = \"/etc/pmhcd/subject.key\";|subject_key_file = \"$dir/subject.key\";|" \
    -e 's|properties = ( );|properties = ( "fetch.wait.max.ms=10" );|' \
    config/pmhcd.conf > "$dir/pmhcd.conf"
# It @includes the APCO code table from its own directory.
cp config/apco-2.103.2.conf "$dir/"

say "pmhcd --check-config"
"$build/daemon/pmhcd" --check-config "$dir/pmhcd.conf"

say "the flowchart for staff: pmhcd --draw-flowchart (docs/flowchart.svg is the default one)"
"$build/daemon/pmhcd" --draw-flowchart --config "$dir/pmhcd.conf" > "$dir/flowchart.dot"
if command -v dot >/dev/null; then
  dot -Tsvg "$dir/flowchart.dot" -o "$dir/flowchart.svg" && echo "  $dir/flowchart.svg"
else
  echo "  $dir/flowchart.dot (install graphviz to render it)"
fi

# The samples are dated 2025-11-23 04:00 UTC; move them to the last few minutes so
# they read like a live shift (unit statuses and calls shift alike).
shift_ms=$(( $(date +%s) * 1000 - 1763870400000 - 600000 ))
shift_times() {
  grep -v '^#' "$1" | grep -v '^\s*$' |
    jq -c --argjson s "$shift_ms" 'if .received_at_ms then .received_at_ms += $s else . end
                                   | if .at_ms then .at_ms += $s else . end
                                   | if .closed_at_ms then .closed_at_ms += $s else . end' > "$dir/$(basename "$1")"
  echo "$dir/$(basename "$1")"
}
calls=$(shift_times "$calls")
units=$(shift_times "$units")
dispositions=$(shift_times "$dispositions")

say "unit statuses from $(basename "$units") into cad.units (pmhcd rebuilds its roster from them at start)"
"$build/adapters/pmhc-produce" -b "$PMHC_BROKERS" "$units"

say "starting pmhcd (log: $dir/pmhcd.log)"
"$build/daemon/pmhcd" --config "$dir/pmhcd.conf" 2>"$dir/pmhcd.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q 'partitions assigned' "$dir/pmhcd.log" && break
  kill -0 $pid 2>/dev/null || { cat "$dir/pmhcd.log"; exit 1; }
  sleep 0.1
done
grep -E 'schema up to date' "$dir/migrate.log" | sed 's/^/  pmhcd --migrate, as the DBA: /'
grep -E 'pmhcd running|schema is this|roster rebuilt' "$dir/pmhcd.log" | sed 's/^/  /'

n=$(grep -c '"type":"call"' "$calls")
say "streaming $n call events from $(basename "$calls") into cad.calls, 4 a second"
"$build/adapters/pmhc-produce" -b "$PMHC_BROKERS" --rate 4 "$calls"

say "the dispatcher's screen: pmhc-watch reading pmhc.recommendations"
"$build/tools/pmhc-watch" -b "$PMHC_BROKERS" --from-beginning -c "$n" --idle-ms 15000 || true

for _ in $(seq 1 100); do
  stored=$(psql "$PMHC_PG_DBA_CONNINFO" -XAtq -c "SELECT count(*) FROM pmhc.decisions" 2>/dev/null || echo 0)
  [ "$stored" -ge "$n" ] && break
  sleep 0.1
done

say "stored in PostgreSQL (read as the DBA): calls per recommended response (newest revision of each call)"
psql "$PMHC_PG_DBA_CONNINFO" -X -q -P footer=off -c "
  SELECT response, dispatch_code, count(*) AS calls,
         count(*) FILTER (WHERE mental_health_call) AS mh_calls,
         count(*) FILTER (WHERE fallback_used) AS fallback_needed
    FROM pmhc.calls GROUP BY response, dispatch_code ORDER BY calls DESC, response"
psql "$PMHC_PG_DBA_CONNINFO" -X -q -P footer=off -c "
  SELECT count(*) AS calls, count(*) FILTER (WHERE mental_health_call) AS mh_calls,
         round(100.0 * count(*) FILTER (WHERE mental_health_call) / count(*), 1) AS mh_percent,
         count(*) FILTER (WHERE source = '988') AS via_988,
         (SELECT count(*) FROM pmhc.decisions) AS decisions_audited
    FROM pmhc.calls"

n_disp=$(grep -c '"type":"disposition"' "$dispositions")
say "streaming $n_disp dispositions into cad.dispositions: how the calls ended"
"$build/adapters/pmhc-produce" -b "$PMHC_BROKERS" "$dispositions"
for _ in $(seq 1 100); do
  got=$(psql "$PMHC_PG_DBA_CONNINFO" -XAtq -c "SELECT count(*) FROM pmhc.dispositions" 2>/dev/null || echo 0)
  [ "$got" -ge "$n_disp" ] && break
  sleep 0.1
done
psql "$PMHC_PG_DBA_CONNINFO" -XAtq -c "INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('TPS', 'time_zone', 'America/Toronto')"

say "the four key outcomes this month, as an analyst (pmhc.outcomes_by_month, local time America/Toronto)"
psql "$PMHC_PG_ANALYST_CONNINFO" -X -q -P footer=off -c "
  SELECT month, mh_calls, with_outcome, connected, connected_rate, arrests, arrest_rate,
         use_of_force, involuntary_holds, repeat_calls
    FROM pmhc.outcomes_by_month WHERE psap_id = 'TPS'"
psql "$PMHC_PG_ANALYST_CONNINFO" -X -q -P footer=off -c "
  SELECT response, disposition_code, calls, all_recommended_went
    FROM pmhc.recommended_vs_disposition WHERE psap_id = 'TPS' ORDER BY response, disposition_code"
psql "$PMHC_PG_ANALYST_CONNINFO" -X -q -P footer=off -c "
  SELECT service_name, mh_calls AS referrals_unavailable FROM pmhc.referrals_service_unavailable WHERE psap_id = 'TPS'"

say "stopping pmhcd (SIGTERM)"
kill -TERM $pid
wait $pid && echo "  pmhcd stopped cleanly"
trap - EXIT
grep 'msg="stopped"' "$dir/pmhcd.log" | sed 's/^/  /'

say "the coordinator's progress report (pmhc-report, read as a pmhc_analyst login)"
# Beside the build, so it outlives the throw-away servers; open it in any browser.
"$build/tools/pmhc-report" -d "$PMHC_PG_ANALYST_CONNINFO" --psap TPS -o "$report" >/dev/null
echo "  report written: $report"
