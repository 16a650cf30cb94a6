import type { Millis } from './glossary.js';
import type { Policy } from './policy.js';

/**
 * What the supervisor knows of one live run, in monotonic milliseconds. Liveness (is the
 * process there?) is decided elsewhere; this is about progress and age.
 */
export interface RunClock {
  started: Millis;
  /** The last sign of progress (output, `progress` call, model activity); null if none. */
  lastProgress: Millis | null;
  /** Whether a stall warning was written since progress was last seen. */
  warned: boolean;
}

/** What to do about a live run now. */
export type LivenessVerdict =
  | { action: 'none' }
  | { action: 'warn'; silentFor: Millis }
  | { action: 'stall'; silentFor: Millis }
  | { action: 'timeout'; ranFor: Millis };

/** The policy fields liveness reads. */
export type LivenessPolicy = Pick<Policy, 'stall_warn_after' | 'stall_timeout' | 'max_runtime'>;

/** How long the run has shown no progress (since it started, if it never did). */
export function silentFor(run: RunClock, now: Millis): Millis {
  return now - (run.lastProgress ?? run.started);
}

/**
 * The run's last progress once `ms` in which nothing it sent could be heard is left out of its
 * silence; never later than `now`. Its runtime is left as it is: the worker ran meanwhile.
 */
export function creditedProgress(run: RunClock, ms: Millis, now: Millis): Millis {
  return Math.min(now, (run.lastProgress ?? run.started) + ms);
}

/**
 * SPEC §3 rules for a run whose process is alive: a progressing run is never ended, whatever
 * its age, unless it passes `max_runtime`; silence earns one warning, then a stall.
 */
export function judgeLiveness(run: RunClock, policy: LivenessPolicy, now: Millis): LivenessVerdict {
  const ranFor = now - run.started;
  if (policy.max_runtime > 0 && ranFor >= policy.max_runtime) return { action: 'timeout', ranFor };
  const silent = silentFor(run, now);
  if (silent >= policy.stall_timeout) return { action: 'stall', silentFor: silent };
  if (silent >= policy.stall_warn_after && !run.warned)
    return { action: 'warn', silentFor: silent };
  return { action: 'none' };
}

/** When each rule will fire next, for `doctor` ("warned at 10m; stalls at 60m"). */
export function nextDeadlines(
  run: RunClock,
  policy: LivenessPolicy,
): { warnAt: Millis; stallAt: Millis; timeoutAt: Millis | null } {
  const base = run.lastProgress ?? run.started;
  return {
    warnAt: base + policy.stall_warn_after,
    stallAt: base + policy.stall_timeout,
    timeoutAt: policy.max_runtime > 0 ? run.started + policy.max_runtime : null,
  };
}
