#!/usr/bin/env bash
# Runs the latency benchmarks of two builds side by side, interleaved, so both see the same
# machine: BASE (a commit, built in a temporary worktree) and this working tree.
#
#   bash bench/compare.sh BASE [ROUNDS]      # e.g. bash bench/compare.sh efd557d 3
#
# Each round runs, for each build (the order alternates between rounds): dispatch-latency
# (--samples 50 --bursts 3 --api-samples 10), kill-own-child (--samples 50) and kill-adopted
# (--rounds 1 --workers 20). It ends with the median and the spread of the per-round medians
# of each row (bench/compare-summary.ts). Raw results go to bench/results/compare/.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bash bench/compare.sh BASE [ROUNDS]}
rounds=${2:-3}
sha=$(git rev-parse --short "$base")
tree=$(mktemp -d "${TMPDIR:-/tmp}/warden-base-XXXXXX")
out=bench/results/compare
rm -rf "$out" && mkdir -p "$out"
cleanup() { git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"; }
trap cleanup EXIT
git worktree add --detach "$tree" "$sha" >/dev/null
ln -s "$PWD/node_modules" "$tree/node_modules"
(cd "$tree" && npm run build >/dev/null) # tsc, the CLI bundle bin/warden.js runs, the dashboard
npm run build >/dev/null

run_one() { # build-dir label round
  local dir=$1 label=$2 round=$3
  for spec in "dispatch-latency --samples 50 --bursts 3 --api-samples 10" \
    "kill-own-child --samples 50" "kill-adopted --rounds 1 --workers 20"; do
    set -- $spec
    (cd "$dir" && node bench/run.ts "$@" >/dev/null)
    cp "$dir/bench/results/$1.json" "$out/$label.$round.$1.json"
  done
}

for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then order="base head"; else order="head base"; fi
  for label in $order; do
    echo "round $round: $label" >&2
    if [ "$label" = base ]; then run_one "$tree" base "$round"; else run_one "$PWD" head "$round"; fi
  done
done
node bench/compare-summary.ts "$out" "base $sha" "head $(git rev-parse --short HEAD)"
