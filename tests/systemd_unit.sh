#!/usr/bin/env bash
# config/pmhcd.service as systemd 252 (Debian 12) reads it, without a running systemd:
#  - systemd-analyze verify finds nothing to say: no unknown or misspelt directive
#    (which systemd would only log and ignore, dropping its protection);
#  - systemd-analyze security --offline rates its exposure at most 2.0 (it is 1.2),
#    and the same unit stripped of its hardening rates above 8, so the measure can fail;
#  - TimeoutStopSec leaves the shipped limits.shutdown_timeout room to store the
#    batch in flight before systemd's SIGKILL.
#   systemd_unit.sh SOURCE_ROOT PMHCD
set -euo pipefail
root=$1
pmhcd=$2
unit=$root/config/pmhcd.service
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (scripts/install-deps.sh installs systemd)" >&2; exit 1; }
umask 077 # verify warns about a unit file others may write
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { echo "FAIL: $1" >&2; exit 1; }

# verify wants the binaries it names to exist: the build's stands in for /usr/local/bin's.
sed "s|/usr/local/bin/pmhcd|$pmhcd|g" "$unit" > "$dir/pmhcd.service"
version=$(systemd-analyze --version | awk 'NR == 1 { print $2 }')
out=$(cd "$dir" && systemd-analyze verify ./pmhcd.service 2>&1) || fail "systemd-analyze verify refused the unit: $out"
# Only what it says of this unit: the units it names (network-online.target) are the host's.
mine=$(grep -F pmhcd.service <<< "$out" || true)
[ -z "$mine" ] || fail "systemd-analyze verify has something to say about the unit: $mine"
ok "systemd $version's systemd-analyze verify: nothing to say"

# The exposure level systemd-analyze security gives unit file $1 in $dir; fails, saying why, without one.
exposure() {
  local out level
  out=$(cd "$dir" && systemd-analyze security --offline=true "./$1" 2>&1) \
    || fail "systemd-analyze security --offline failed on $1: $(tail -n 3 <<< "$out")"
  level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' <<< "$out")
  [ -n "$level" ] || fail "systemd-analyze security gave $1 no exposure level: $(tail -n 3 <<< "$out")"
  echo "$level"
}
e=$(exposure pmhcd.service)
awk -v e="$e" 'BEGIN { exit !(e <= 2.0) }' || fail "the unit's exposure is $e, over 2.0: a hardening directive is gone"
# The hardening block runs from its heading comment to [Install].
grep -q '^# No privilege at all' "$dir/pmhcd.service" || fail "the unit's hardening block lost its heading comment"
awk '/^# No privilege at all/ { skip = 1 } /^\[Install\]/ { skip = 0 } !skip' "$dir/pmhcd.service" > "$dir/bare.service"
b=$(exposure bare.service)
awk -v b="$b" 'BEGIN { exit !(b > 8.0) }' || fail "without its hardening the unit rates $b, not above 8: the measure cannot tell"
ok "exposure $e (without its hardening block: $b)"

stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit")
drain=$(awk -F'[=;]' '/^ *shutdown_timeout *=/ { gsub(/ /, "", $2); print $2 }' "$root/config/pmhcd.conf")
[ -n "$stop" ] && [ -n "$drain" ] || fail "TimeoutStopSec ($stop) or limits.shutdown_timeout ($drain) not found"
[ "$stop" -gt "$drain" ] || fail "TimeoutStopSec=$stop leaves limits.shutdown_timeout=$drain no room"
ok "TimeoutStopSec=$stop s outlasts limits.shutdown_timeout=$drain s"
