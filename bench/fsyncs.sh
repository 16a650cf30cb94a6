#!/usr/bin/env bash
# Counts the fsync and fdatasync calls `warden serve` makes per pull-mode task on SQLite (issue
# #16, group commit): one round of `pull-throughput` (1, then 8 SDK workers) run under strace,
# which follows every process and thread; the calls of each round's `serve` (all its threads:
# the WAL syncs run on libuv's thread pool) are counted apart. Needs strace and a build
# (`npm run build`). Counting does not depend on the machine's load the way the tasks per
# second do, though the size of the groups does.
#
#   bash bench/fsyncs.sh [TASKS]      # default 500
set -euo pipefail
cd "$(dirname "$0")/.."
tasks=${1:-500}
out=$(mktemp -d "${TMPDIR:-/tmp}/warden-fsyncs-XXXXXX")
trap 'rm -rf "$out"' EXIT
strace --seccomp-bpf -f -ff -o "$out/t" -e trace=execve,clone,clone3,fsync,fdatasync \
  node bench/run.ts pull-throughput --tasks "$tasks" --rounds 1 | grep '^raw' || true
# A thread and every thread it started (clone with CLONE_THREAD), by the trace file of each:
# serve's WAL syncs run on libuv's thread pool, not on its main thread.
threads() {
  echo "$1"
  grep -hE '^clone3?\(.*CLONE_THREAD.*= [0-9]+$' "$out/t.$1" | sed -E 's/.*= ([0-9]+)$/\1/' |
    while read -r child; do threads "$child"; done
}
# Each serve's trace file starts with its execve; they are in pid order, so round order.
for workers in 1 8; do
  file=$(grep -l '"serve"' "$out"/t.* | sort -t. -k2 -n | sed -n "$([ "$workers" = 1 ] && echo 1 || echo 2)p")
  calls=0
  for tid in $(threads "${file##*.}"); do
    n=$(grep -c -E '^(fsync|fdatasync)\(' "$out/t.$tid" || true)
    calls=$((calls + n))
  done
  echo "workers $workers: serve made $calls fsync/fdatasync calls for $tasks tasks ($(awk "BEGIN { printf \"%.2f\", $calls / $tasks }") per task)"
done
