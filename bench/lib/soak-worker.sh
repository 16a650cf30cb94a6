#!/bin/sh
# The soak's worker (bench/soak.ts): logs its life to $LIFE_LOG, one line per step:
#   KIND TASK RUN TOKEN EPOCH_MS [DETAIL...]
# start, beat, progress (call start ms, exit code), completing, complete (call start ms, exit
# code), stop; term when SIGTERM reached it. The stamps are its own clock (`date`), so a line
# is written while this process is alive. Calls go through the `warden` on its PATH.
log() {
  printf '%s %s %s %s %s %s\n' "$1" "$WARDEN_TASK_ID" "$WARDEN_RUN_ID" "$WARDEN_RUN_TOKEN" \
    "$(date +%s%3N)" "${2:-}" >>"$LIFE_LOG"
}
rand() { echo $(($(od -An -N1 -tu1 /dev/urandom) % $1)); }

log start "$$"
trap 'log term; exit 143' TERM
n=$(($(rand 3) + 1))
i=0
while [ "$i" -lt "$n" ]; do
  sleep "$(($(rand 2) + 0)).$(rand 10)"
  log beat "$i"
  s=$(date +%s%3N)
  warden worker progress --note "beat $i" >/dev/null 2>&1
  log progress "$s $?"
  i=$((i + 1))
done
log completing
s=$(date +%s%3N)
warden worker complete --summary "soak run $WARDEN_RUN_ID" >/dev/null 2>&1
log complete "$s $?"
log stop
