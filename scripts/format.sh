#!/usr/bin/env bash
# The C sources in the house style (.clang-format at the top of the tree).
#   scripts/format.sh          rewrite every file that is off
#   scripts/format.sh --check  change nothing; list the files that are off and
#                              exit 1 if any is (what the test suite runs)
# Generated code (the protobuf C, migrations.c) lives in the build folders and
# is never looked at.
set -euo pipefail
cd "$(dirname "$0")/.."

cf=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$cf" ]; then
  echo "format.sh: clang-format is not installed (scripts/install-deps.sh installs clang-format-14)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files -- '*.c' '*.h' 2>/dev/null ||
  find libpmhc common daemon adapters tools tests bench -name '*.[ch]')

case ${1:-} in
--check)
  off=0
  for f in "${files[@]}"; do
    if ! "$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
      echo "format.sh: $f is not in the house style; run scripts/format.sh" >&2
      off=1
    fi
  done
  exit "$off"
  ;;
'')
  "$cf" --style=file -i "${files[@]}"
  ;;
*)
  echo "usage: scripts/format.sh [--check]" >&2
  exit 2
  ;;
esac
