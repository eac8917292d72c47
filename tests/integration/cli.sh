#!/usr/bin/env bash
# The command line a center's engineer uses before going live: --check-config,
# --explain, --draw-flowchart, --help, --version, and their exit codes. No servers
# needed.
set -euo pipefail
: "${PMHCD:?}"
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/pmhc-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
checks=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

# run WANT_EXIT CMD...: runs CMD, stdout+stderr to $tmp/out, checks its exit code.
run() {
  local want=$1 rc=0
  shift
  "$@" > "$tmp/out" 2>&1 || rc=$?
  [ "$rc" -eq "$want" ] || { cat "$tmp/out" >&2; fail "$* exited $rc, want $want"; }
}
has() { grep -qF -- "$1" "$tmp/out" || { cat "$tmp/out" >&2; fail "output lacks: $1"; }; ok "$2"; }

run 0 "$PMHCD" --help
has "pmhcd --check-config FILE" "--help shows usage"
has "Exit status" "--help documents exit codes"
has "--draw-flowchart     write the flowchart" "--help documents --draw-flowchart"
has "--migrate            run by a DBA's role" "--help documents --migrate"
has "76  the schema is not this pmhcd's" "--help documents exit 76"
run 0 "$PMHCD" --version
has "pmhcd 0." "--version"
run 64 "$PMHCD" --bogus
ok "unknown option exits 64"
run 64 "$PMHCD"
has "--config FILE is required" "no config exits 64 with the reason"
run 64 "$PMHCD" --migrate
has "--config FILE is required" "--migrate needs a config or a conninfo"
run 64 "$PMHCD" --conninfo "dbname=pmhc" --config /dev/null
has "--conninfo is for --migrate only" "--conninfo is refused without --migrate"

# The shipped config, with a real key file.
head -c 32 /dev/urandom > "$tmp/key"
chmod 600 "$tmp/key"
sed "s|/etc/pmhcd/subject.key|$tmp/key|" "$root/config/pmhcd.conf" > "$tmp/good.conf"
# It @includes the APCO code table from its own directory: without it, it says where it looked.
run 78 "$PMHCD" --check-config "$tmp/good.conf"
has "good.conf:$(grep -n '^ *@include' "$tmp/good.conf" | cut -d: -f1): cannot open include file (an @include path is read from the directory of $tmp/good.conf" \
  "a missing @include file is reported at its line, with where it was looked for"
cp "$root/config/apco-2.103.2.conf" "$tmp/"
run 0 "$PMHCD" --check-config "$tmp/good.conf"
# 13 rules since the safer default flowchart (branch routing); it was 7.
has "OK (13 rules, rules_version" "shipped config checks OK"
# The shipped file @includes the APCO code table beside it; its rules are the built-in ones.
builtin_version=$("$PMHCD" --draw-flowchart | sed -n 's/.*rules_version \([0-9a-f]*\)".*/\1/p')
has "rules_version $builtin_version" "shipped config (with the APCO table) has the built-in rules_version"

# An unreadable key file is a config problem (SPEC section 6).
run 78 "$PMHCD" --check-config "$root/config/pmhcd.conf"
has "privacy.subject_key_file '/etc/pmhcd/subject.key' cannot be read" "missing key file exits 78"

# A broken flowchart: every problem listed, with its line.
sed -e 's/ruled_out = \[ "WEAPON", "VIOLENCE", "MEDICAL" \]; source = \[ "988" \];/ruled_out = [ "WEAPON", "VIOLENCE", "MEDICAL" ]; source = [ "999" ];/' \
    -e 's/response = "CIT";                     dispatch_code = "MH-CIT"; },/response = "CITT"; dispatch_code = "MH-CIT"; },/' \
    -e 's/{ id = "mh-self-harm";/{ id = "mh-medical";/' "$tmp/good.conf" > "$tmp/bad.conf"
run 78 "$PMHCD" --check-config "$tmp/bad.conf"
has "unknown source '999'" "bad source reported"
has "unknown response 'CITT'" "bad response reported"
has "duplicate rule id 'mh-medical'" "duplicate id reported"
has "3 problems; configuration refused" "all problems counted"
line=$(grep -n '"CITT"' "$tmp/bad.conf" | cut -d: -f1)
has "bad.conf:$line: flowchart rule 'mh-history-violence': unknown response 'CITT'" "the line is the rule's"

# ruled_out and unknown take only flags a screening question stands behind.
sed 's/ruled_out = \[ "WEAPON", "VIOLENCE", "MEDICAL" \]; source = \[ "988" \];/ruled_out = [ "WEAPON", "PREMISE_MH" ]; source = [ "988" ];/' \
  "$tmp/good.conf" > "$tmp/premise.conf"
run 78 "$PMHCD" --check-config "$tmp/premise.conf"
line=$(grep -n '"PREMISE_MH" \]; source' "$tmp/premise.conf" | cut -d: -f1)
has "premise.conf:$line: flowchart rule 'mh-988': ruled_out: no screening question stands behind PREMISE_MH" \
  "ruled_out = [PREMISE_MH] refused with file and line"
has "1 problem; configuration refused" "and nothing else"

# A problem in the @include'd code table names the table's own file and line.
sed 's/{ code = "EDP"; flags = \[ "MH" \]; }/{ code = "EDP"; flags = [ "MHX" ]; }/' "$root/config/apco-2.103.2.conf" > "$tmp/apco-2.103.2.conf"
run 78 "$PMHCD" --check-config "$tmp/good.conf"
line=$(grep -n '"MHX"' "$tmp/apco-2.103.2.conf" | cut -d: -f1)
has "$tmp/apco-2.103.2.conf:$line: screening.code_table: unknown flag 'MHX'" "an included file's problem has its own file and line"
cp "$root/config/apco-2.103.2.conf" "$tmp/"

# --explain with the shipped rules: each sample call gets the expected rule.
run 0 "$PMHCD" --explain --config "$root/config/pmhcd.conf" "$root/tests/data/sample-calls.jsonl"
while read -r id rev rule response code; do
  case "$id" in '#'*|'') continue ;; esac
  grep -q " $rule " <<<"$(grep -A 60 "^call TPS/$id revision $rev:" "$tmp/out" | grep -E '→ +[0-9]+ ' | sed -n 1p)" \
    || fail "--explain: $id rev $rev did not match $rule"
done < "$root/tests/data/sample-calls.expected"
ok "--explain matches the expected rule for every sample call"
has "none=[MH] but MH holds" "--explain says why a rule did not match"
has "    WEAPON            ruled out (answered no: Q4 weapon)" "--explain shows each flag's state"
has "    MEDICAL           unknown, not ruled out (not answered: Q11 medical emergency, Q12 attempt in progress)" \
  "--explain names the unanswered questions behind an unknown flag"
has "but MEDICAL unknown, not ruled out" "--explain says where unknown, not ruled out decided a rule"
has "    PREMISE_VIOLENCE  raised (no question behind it)" "--explain: a premise flag is raised or not, never ruled out"

# --explain reports a bad line with its number, goes on, and exits 65.
printf '{"call_id":"A","psap_id":"P","nature_code":"EDP"}\n{"call_id":"B","psap_id":"P","bogus":1}\n{"call_id":"","psap_id":"P"}\n' > "$tmp/calls.jsonl"
run 65 "$PMHCD" --explain "$tmp/calls.jsonl"
has "calls.jsonl:2:" "bad line named"
has "call P/A revision 0" "good line still explained"
has "the daemon would reject this call to the DLQ: call_id is empty" "what the daemon would reject is said"
run 78 "$PMHCD" --explain --config "$tmp/bad.conf" "$tmp/calls.jsonl"
ok "--explain refuses a broken config with 78"

# --draw-flowchart: the rules as Graphviz DOT, the built-in defaults without --config.
run 0 "$PMHCD" --draw-flowchart --config "$tmp/good.conf"
cp "$tmp/out" "$tmp/flowchart.dot"
has "digraph pmhc_flowchart {" "--draw-flowchart writes a DOT graph"
has "13. mh-default" "every rule is drawn"
# docs/flowchart.dot is the shipped config's drawing, and docs/flowchart.svg its rendering
# (scripts/draw-flowchart.sh makes both): they must not fall behind the rules.
cmp -s "$tmp/flowchart.dot" "$root/docs/flowchart.dot" \
  || { diff "$root/docs/flowchart.dot" "$tmp/flowchart.dot" | head -20 >&2; fail "docs/flowchart.dot is stale: run scripts/draw-flowchart.sh"; }
ok "docs/flowchart.dot is the shipped flowchart"
grep -q "rules_version ${builtin_version:0:12}" "$root/docs/flowchart.svg" || fail "docs/flowchart.svg is stale: run scripts/draw-flowchart.sh"
ok "docs/flowchart.svg shows the shipped rules_version"
if command -v dot >/dev/null 2>&1; then
  dot -Tsvg "$tmp/flowchart.dot" -o "$tmp/flowchart.svg" || fail "dot cannot render --draw-flowchart's output"
  ok "Graphviz renders it"
fi
run 0 "$PMHCD" --draw-flowchart
has "rules_version ${builtin_version:0:12}" "--draw-flowchart without --config draws the built-in defaults"
run 78 "$PMHCD" --draw-flowchart --config "$tmp/bad.conf"
ok "--draw-flowchart refuses a broken config with 78"
run 64 "$PMHCD" --draw-flowchart extra-argument
ok "--draw-flowchart takes no file argument"

# The APCO code table is the generator's output from the CSV, byte for byte.
bash "$root/scripts/apco-table.sh" > "$tmp/apco.conf"
cmp -s "$tmp/apco.conf" "$root/config/apco-2.103.2.conf" || fail "config/apco-2.103.2.conf is stale: run scripts/apco-table.sh"
ok "config/apco-2.103.2.conf is scripts/apco-table.sh's output"

# pmhc-produce loads history in large batches unless -X says otherwise. Its
# configuration as librdkafka prints it (debug=conf) at start; nothing is sent,
# so no broker is needed.
: "${PMHC_PRODUCE:?}"
conf_of() { : | "$PMHC_PRODUCE" -b 127.0.0.1:1 -X debug=conf "$@" > "$tmp/out" 2>&1 || true; }
conf_has() { grep -qE "   $1 = $2\$" "$tmp/out" || { grep -E 'queue.buffering|batch.num' "$tmp/out" >&2; fail "$3"; }; ok "$3"; }
conf_of --history cad.history
conf_has queue.buffering.max.ms 100 "history: linger.ms 100 by default"
conf_has batch.num.messages 10000 "history: batch.num.messages 10000 by default"
conf_of -X linger.ms=7 --history cad.history -Xbatch.num.messages=50
conf_has queue.buffering.max.ms 7 "history: -X linger.ms wins, given before --history"
conf_has batch.num.messages 50 "history: -X batch.num.messages wins, given after it"
conf_of --history cad.history -X queue.buffering.max.ms=9
conf_has queue.buffering.max.ms 9 "history: linger.ms's alias wins too"
conf_of
conf_has queue.buffering.max.ms 5 "live: linger.ms 5, as before"

echo "cli: $checks checks passed"
