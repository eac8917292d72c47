#!/usr/bin/env bash
# The command line a center's engineer uses before going live: --check-config,
# --explain, --help, --version, and their exit codes. No servers needed.
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
run 0 "$PMHCD" --version
has "pmhcd 0." "--version"
run 64 "$PMHCD" --bogus
ok "unknown option exits 64"
run 64 "$PMHCD"
has "--config FILE is required" "no config exits 64 with the reason"

# The shipped config, with a real key file.
head -c 32 /dev/urandom > "$tmp/key"
sed "s|/etc/pmhcd/subject.key|$tmp/key|" "$root/config/pmhcd.conf" > "$tmp/good.conf"
run 0 "$PMHCD" --check-config "$tmp/good.conf"
has "OK (7 rules, rules_version" "shipped config checks OK"

# An unreadable key file is a config problem (SPEC section 6).
run 78 "$PMHCD" --check-config "$root/config/pmhcd.conf"
has "privacy.subject_key_file '/etc/pmhcd/subject.key' cannot be read" "missing key file exits 78"

# A broken flowchart: every problem listed, with its line.
sed -e 's/{ id = "mh-988";              source = \[ "988" \];/{ id = "mh-988"; source = [ "999" ];/' \
    -e 's/response = "CIT";             dispatch_code = "MH-CIT"; },/response = "CITT"; dispatch_code = "MH-CIT"; },/' \
    -e 's/{ id = "mh-self-harm";/{ id = "mh-medical";/' "$tmp/good.conf" > "$tmp/bad.conf"
run 78 "$PMHCD" --check-config "$tmp/bad.conf"
has "unknown source '999'" "bad source reported"
has "unknown response 'CITT'" "bad response reported"
has "duplicate rule id 'mh-medical'" "duplicate id reported"
has "3 problems; configuration refused" "all problems counted"
line=$(grep -n '"CITT"' "$tmp/bad.conf" | cut -d: -f1)
has "bad.conf:$line: flowchart rule 'mh-history-violence': unknown response 'CITT'" "the line is the rule's"

# --explain with the shipped rules: each sample call gets the expected rule.
run 0 "$PMHCD" --explain --config "$root/config/pmhcd.conf" "$root/tests/data/sample-calls.jsonl"
while read -r id rev rule response code; do
  case "$id" in '#'*|'') continue ;; esac
  grep -q " $rule " <<<"$(grep -A 30 "^call TPS/$id revision $rev:" "$tmp/out" | grep -E '→ +[0-9]+ ' | sed -n 1p)" \
    || fail "--explain: $id rev $rev did not match $rule"
done < "$root/tests/data/sample-calls.expected"
ok "--explain matches the expected rule for every sample call"
has "none=[MH] but MH holds" "--explain says why a rule did not match"

# --explain reports a bad line with its number, goes on, and exits 65.
printf '{"call_id":"A","psap_id":"P","nature_code":"EDP"}\n{"call_id":"B","psap_id":"P","bogus":1}\n{"call_id":"","psap_id":"P"}\n' > "$tmp/calls.jsonl"
run 65 "$PMHCD" --explain "$tmp/calls.jsonl"
has "calls.jsonl:2:" "bad line named"
has "call P/A revision 0" "good line still explained"
has "the daemon would reject this call to the DLQ: call_id is empty" "what the daemon would reject is said"
run 78 "$PMHCD" --explain --config "$tmp/bad.conf" "$tmp/calls.jsonl"
ok "--explain refuses a broken config with 78"

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
