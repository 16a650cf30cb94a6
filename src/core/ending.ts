import type { Outcome } from './status.js';
import type { BlockKind } from './status.js';

/**
 * The vocabulary of ending a run (SPEC §3 "Ending a run is one function"), shared by the store
 * (which fences and closes), the endings module (which drives every ending) and the SDK (which
 * reads the answers). Nothing here does anything; `src/endings` does.
 */

/** The rule that ended a run, as recorded on its reason (like `Outcome`: an object and its union). */
export const RunRule = {
  /** Alive but silent past `stall_timeout`. */
  stall_timeout: 'stall_timeout',
  /** Ran past `max_runtime`. */
  max_runtime: 'max_runtime',
  /** Exited 0 and `exit_zero` says that completes it. */
  exit_zero: 'exit_zero',
  /** Exited 0 after using the worker protocol, without a result. */
  exited_without_result: 'exited_without_result',
  /** Exited 75: rate limited. */
  exit_75: 'exit_75',
  /** The proxy answered upstream rate limits past the profile's `max_rate_limits`. */
  llm_rate_limits: 'llm_rate_limits',
  /** The proxy refused a request: a budget of the profile is spent. */
  llm_budget: 'llm_budget',
  /** The upstream refused the run's credentials (401, 403) several times in a row. */
  llm_key_refused: 'llm_key_refused',
  /** Exited 78: configuration error. */
  exit_78: 'exit_78',
  /** Exited with another code. */
  exit_code: 'exit_code',
  /** Killed by a signal nobody in warden sent. */
  signal: 'signal',
  /** Gone without an exit status (its shim was killed). */
  vanished: 'vanished',
  /** The worker could not be started. */
  spawn_failed: 'spawn_failed',
  /** The task's git worktree could not be made or used on this host (docs/worktrees.md). */
  worktree: 'worktree',
  /** The worktree's setup command failed (docs/worktrees.md). */
  setup_failed: 'setup_failed',
  /** `serve` or the machine restarted, and nothing of the run can be running. */
  host_restarted: 'host_restarted',
  /** Several hosts: the owning host's lease lapsed. */
  host_lease_lapsed: 'host_lease_lapsed',
  /** The run was closed without this host (another host reaped it, or a person's stop). */
  ended_elsewhere: 'ended_elsewhere',
  /** A person stopped it (stop, block, archive, reassign). */
  stopped_by: 'stopped_by',
  /** A pull worker's lease lapsed or was closed. */
  lease_lost: 'lease_lost',
  /** A pull worker acknowledged a cancellation it was sent. */
  acknowledged: 'acknowledged',
  /** The worker reported its result. */
  worker_complete: 'worker_complete',
  /** The worker asked for a review. */
  worker_request_review: 'worker_request_review',
  /** The worker reported a failure. */
  worker_failed: 'worker_failed',
  /** The worker reported it is blocked. */
  worker_blocked: 'worker_blocked',
  /** The worker asked a person a question (issue #14). */
  worker_asked: 'worker_asked',
  /** A review run approved the work. */
  worker_approved: 'worker_approved',
  /** A review run asked for changes. */
  worker_requested_changes: 'worker_requested_changes',
  /** A review run ended without a verdict: a person reviews. */
  review_without_verdict: 'review_without_verdict',
} as const;
export type RunRule = (typeof RunRule)[keyof typeof RunRule];

/** A call a worker makes to end its own run, and the outcome each records (the one list). */
export const WORKER_REPORTS = {
  complete: 'completed',
  fail: 'crashed',
  block: 'worker_blocked',
  request_review: 'review_requested',
  ask: 'worker_blocked',
  approve: 'review_approved',
  request_changes: 'changes_requested',
} as const satisfies Record<string, Outcome>;
export type WorkerReport = keyof typeof WORKER_REPORTS;

/**
 * Outcomes a worker's own report decides: once reported, what the host sees afterwards (a
 * slow exit, a kill) does not change them. A reported failure is the exception: how the
 * process then ends is still recorded as the outcome, with the worker's words as the reason.
 */
export function workerDecides(outcome: Outcome | null): boolean {
  return (
    outcome === 'completed' ||
    outcome === 'worker_blocked' ||
    outcome === 'review_requested' ||
    outcome === 'review_approved' ||
    outcome === 'changes_requested'
  );
}

/** The rule a worker's report is recorded under. */
export function reportRule(op: WorkerReport): RunRule {
  switch (op) {
    case 'complete':
      return RunRule.worker_complete;
    case 'request_review':
      return RunRule.worker_request_review;
    case 'fail':
      return RunRule.worker_failed;
    case 'block':
      return RunRule.worker_blocked;
    case 'ask':
      return RunRule.worker_asked;
    case 'approve':
      return RunRule.worker_approved;
    case 'request_changes':
      return RunRule.worker_requested_changes;
  }
}

/**
 * What a person asked for when they ended a run. It is kept in the run's own `stop_intent`
 * from the moment the run is fenced, so whichever host or request closes the run applies it.
 */
export interface StopIntent {
  /** Put the task back in line instead of blocking it. */
  requeue?: boolean;
  /** Skip `kill_grace`: SIGKILL at once. */
  now?: boolean;
  /** Archive the task once the run has ended. */
  archive?: boolean;
  /** Give the task to this profile (null: nobody) as it is released (a reassignment). */
  reassign?: string | null;
  /** The reason the task is blocked with (default: "stopped by NAME"). */
  reason?: string;
  /** The block kind, for a stop that blocks. */
  kind?: BlockKind;
}

/** The answer to a stop. */
export interface EndResult {
  run_id: number;
  outcome: Outcome;
  /** Whether the process group was verified gone (pull runs: the worker let go). */
  verified_gone: boolean;
  message: string;
}

/**
 * What the phases of an ending did, with the numbers (SPEC §3 "Diagnosis"): times are
 * milliseconds after the ending began, on the monotonic clock of the host that ended it.
 */
export interface EndingPhases {
  /** The worker's pid; its shim leads the process group, so it is also the group id. */
  pid: number;
  pgid: number;
  /** The grace between SIGTERM and SIGKILL that applied (0: SIGKILL at once). */
  grace_ms: number;
  /** How long a worker that reported its result was given to exit by itself. */
  waited_exit_ms?: number;
  /** When SIGTERM was sent. */
  term_at_ms?: number;
  /** Whether the group outlived the grace after SIGTERM. */
  term_ignored?: boolean;
  /** When SIGKILL was sent. */
  kill_at_ms?: number;
  /** When the group was verified empty. */
  empty_at_ms?: number;
  /** When the group was found to survive SIGKILL (`kill_failed`): the task stays held. */
  held_at_ms?: number;
  /**
   * The run's processes found outside its process group (`setsid`, a daemon), which its ending
   * signalled and waited for like the group (the first `ESCAPED_LISTED`; `processes_escaped`).
   */
  escaped?: Escapee[];
}

/**
 * A process of a run found outside the run's process group. (A type, not an interface, so
 * that phases that list some are still a JSON value for an event's payload.)
 */
export type Escapee = {
  pid: number;
  /** Its command line, cut at 200 characters. */
  command: string;
};

/** How many escaped processes an ending lists on its phases and its event. */
export const ESCAPED_LISTED = 20;
