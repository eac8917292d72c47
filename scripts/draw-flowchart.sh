#!/usr/bin/env bash
# Draws the shipped flowchart for staff: docs/flowchart.dot (pmhcd --draw-flowchart
# --config config/pmhcd.conf) and docs/flowchart.svg (rendered by Graphviz's dot,
# Debian package graphviz). Run it after changing the rules in config/pmhcd.conf;
# the cli test fails while the two files are behind the rules.
#
#   bash scripts/draw-flowchart.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -x "$build/daemon/pmhcd" ] || { echo "draw-flowchart: build pmhcd first (ninja -C $build)" >&2; exit 1; }
command -v dot >/dev/null || { echo "draw-flowchart: Graphviz's dot is missing (apt-get install graphviz)" >&2; exit 1; }
"$build/daemon/pmhcd" --draw-flowchart --config config/pmhcd.conf > docs/flowchart.dot
dot -Tsvg docs/flowchart.dot -o docs/flowchart.svg
echo "draw-flowchart: docs/flowchart.dot and docs/flowchart.svg written" >&2
