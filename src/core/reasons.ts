import { formatDuration } from './duration.js';
import { RunRule, reportRule } from './ending.js';
import type { StopIntent, WorkerReport } from './ending.js';
import type { ExitStatus } from './exit.js';
import type { EpochMs, Millis } from './glossary.js';
import type { Policy } from './policy.js';
import type { RunReason } from './run.js';
import { readableLines } from './readable-log.js';

/**
 * Every reason a run can end with, each message written once (SPEC §3 "Diagnosis"). The
 * endings module picks the reason; the store records it; `describe.ts` reads it back.
 */

/** What the host ending a run saw of it, for the numbers on its reason. */
export interface Observed {
  host: string;
  attempt: number;
  /** The limits in force (spawned runs record every liveness limit). */
  limits?: Partial<
    Pick<Policy, 'stall_warn_after' | 'stall_timeout' | 'max_runtime' | 'kill_grace'>
  >;
  last_heartbeat_at: EpochMs | null;
  last_progress_at: EpochMs | null;
  last_output_at?: EpochMs | null;
  /** Spawned runs: the worker's pid and how long it has been silent. */
  pid?: number;
  silent_ms?: Millis;
  /** Pull runs: the worker holding the run. */
  worker?: string | null;
}

/** A reason with the numbers behind it: the limits, the last signs of life, the exit. */
export function observedReason(
  rule: RunRule,
  message: string,
  seen: Observed,
  status: ExitStatus | null,
): RunReason {
  const reason: RunReason = {
    rule,
    message,
    ...(seen.limits ? { limits: { ...seen.limits } } : {}),
    last_heartbeat_at: seen.last_heartbeat_at,
    last_progress_at: seen.last_progress_at,
    ...(seen.last_output_at !== undefined ? { last_output_at: seen.last_output_at } : {}),
    host: seen.host,
    attempt: seen.attempt,
  };
  if (seen.pid !== undefined) {
    reason.alive = status === null;
    reason.exit_code = status?.code ?? null;
    reason.signal = status?.signal ?? null;
    reason.extra = { pid: seen.pid, silent_ms: seen.silent_ms ?? 0 };
  } else if (seen.worker !== undefined) {
    reason.extra = { worker: seen.worker };
  }
  return reason;
}

/** Silent past `stall_timeout`. `alive`: the process was seen alive (spawned runs). */
export function stallReason(
  silentFor: Millis,
  policy: Pick<Policy, 'stall_timeout'>,
  seen: Observed,
): RunReason {
  const what = seen.pid !== undefined ? 'alive but silent' : 'silent';
  return observedReason(
    RunRule.stall_timeout,
    `${what} for ${formatDuration(silentFor)} (stall_timeout ${formatDuration(policy.stall_timeout)})`,
    seen,
    null,
  );
}

/** Ran past `max_runtime`. */
export function timeoutReason(
  ranFor: Millis,
  policy: Pick<Policy, 'max_runtime'>,
  seen: Observed,
): RunReason {
  return observedReason(
    RunRule.max_runtime,
    `ran for ${formatDuration(ranFor)} (max_runtime ${formatDuration(policy.max_runtime)})`,
    seen,
    null,
  );
}

/**
 * A person's action ended the run (stop, block, archive, reassign); they are named on it.
 * With what the ending host saw of the run when it has it, else where the run was.
 */
export function stoppedReason(
  by: string,
  intent: StopIntent,
  seen: Observed | { host: string; attempt: number },
): RunReason {
  const message = intent.reason ?? `stopped by ${by}`;
  const base =
    'last_progress_at' in seen
      ? observedReason(RunRule.stopped_by, message, seen, null)
      : { rule: RunRule.stopped_by, message, host: seen.host, attempt: seen.attempt };
  return { ...base, by };
}

/** The worker could not be started (the operating system's error is in `error`). */
export function spawnFailedReason(error: string, host: string, attempt: number): RunReason {
  return { rule: RunRule.spawn_failed, message: error, host, attempt };
}

/** The task's git worktree could not be made or used here: a configuration error. */
export function worktreeReason(error: string, host: string, attempt: number): RunReason {
  return { rule: RunRule.worktree, message: `worktree: ${error}`, host, attempt };
}

/** The worktree's setup command failed: its exit status and the end of its own log. */
export function setupFailedReason(
  setup: { command: string; status: string; log: string; tail: string },
  host: string,
  attempt: number,
): RunReason {
  const tail = setup.tail.trimEnd();
  return {
    rule: RunRule.setup_failed,
    message: `setup \`${setup.command}\` failed (exit ${setup.status}); the end of ${setup.log}:${tail === '' ? ' (empty)' : `\n${tail}`}`,
    host,
    attempt,
  };
}

/** Why nothing of a run can still be running after a restart, or be this home's to watch. */
export const RESTART_LOSSES = {
  not_started: 'serve stopped before the worker was started',
  rebooted: 'the machine restarted since the worker started',
  other_home:
    "the worker was started from another home (this database is a copy of that home's, a restored backup): if it still runs it belongs there, and is not watched or signalled from here",
} as const;

/** `serve` or the machine restarted and the run's worker cannot be running. */
export function restartedReason(
  why: keyof typeof RESTART_LOSSES,
  host: string,
  attempt: number,
): RunReason {
  return { rule: RunRule.host_restarted, message: RESTART_LOSSES[why], host, attempt };
}

/** Several hosts: this host's lease was gone when the claim was to be started. */
export function leaseGoneReason(message: string, host: string, attempt: number): RunReason {
  return { rule: RunRule.host_lease_lapsed, message, host, attempt };
}

/** Several hosts: the worker was frozen too long and its shim killed it. */
export const SHIM_KILLED_MESSAGE =
  'frozen for host_ttl + 60 s while this host could not renew its lease, then killed by its shim';

/** Several hosts: another host reaped this run's lapsed host. */
export function reapedReason(
  hostId: string,
  by: string,
  attempt: number,
  times: { lease_expired_at: EpochMs | null; reaped_at: EpochMs },
): RunReason {
  return {
    rule: RunRule.host_lease_lapsed,
    message: `host ${hostId} stopped renewing its lease; ended by host ${by}`,
    host: hostId,
    attempt,
    // No `alive`: the reaping host cannot see the lost host's processes (a paused host's
    // worker is frozen, not gone; its shim kills it when the lease has lapsed).
    extra: { reaped_by: by, lease_expired_at: times.lease_expired_at, reaped_at: times.reaped_at },
  };
}

/** The worker is gone and its shim left no exit status. */
export const VANISHED_MESSAGE = 'the worker is gone and left no exit status (its shim was killed)';

/** The worker ran on after its shim was killed, and has exited since: nothing saw its status. */
export const ORPHAN_EXITED_MESSAGE =
  'the worker exited after its shim was killed, so its exit status is not known';

/** The run was closed without the host that watched it. */
export const ENDED_ELSEWHERE: RunReason = {
  rule: RunRule.ended_elsewhere,
  message: 'the run ended elsewhere',
};

/** A pull worker's lease lapsed (`closed`: the worker closed it, and why). */
export function leaseLostReason(lease: string, host: string, closed?: string): RunReason {
  return {
    rule: RunRule.lease_lost,
    message: `the worker's lease ${lease} ${closed !== undefined ? `was closed (${closed})` : 'lapsed without a renewal'}`,
    host,
  };
}

/** A pull worker acknowledged a cancellation that carried no reason of its own. */
export const ACKNOWLEDGED: RunReason = { rule: RunRule.acknowledged, message: 'cancelled' };

/** The reason a worker's own report records. */
export function reportReason(
  call:
    | { op: 'complete' | 'request_review'; summary: string }
    | { op: 'fail'; reason: string }
    | { op: 'block'; reason: string; kind: string }
    | { op: 'ask'; question: string }
    | { op: 'approve'; summary: string }
    | { op: 'request_changes'; reason: string },
): RunReason {
  const rule = reportRule(call.op satisfies WorkerReport);
  switch (call.op) {
    case 'complete':
    case 'request_review':
      return { rule, message: call.summary === '' ? `the worker called ${call.op}` : call.summary };
    case 'fail':
      return { rule, message: call.reason };
    case 'block':
      return { rule, message: call.reason, extra: { block_kind: call.kind } };
    case 'ask':
      return { rule, message: `question: ${call.question}`, extra: { block_kind: 'needs_input' } };
    case 'approve':
      return { rule, message: call.summary === '' ? 'approved' : call.summary };
    case 'request_changes':
      return { rule, message: call.reason };
  }
}

/** The last non-empty line of a log's tail, cut to a readable length. */
export function lastLine(tail: string | null | undefined, max = 200): string | undefined {
  // As a person reads it: an agent's JSON event says what it says (its result, its last
  // words), not thousands of characters of ids and usage cut at `max`.
  const line = tail
    ?.split('\n')
    .flatMap((l) => readableLines(l))
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1);
  return line === undefined ? undefined : line.slice(0, max);
}
