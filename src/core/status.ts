/** Where a task stands on its board (SPEC §2). */
export const TaskStatus = {
  triage: 'triage',
  todo: 'todo',
  ready: 'ready',
  running: 'running',
  review: 'review',
  blocked: 'blocked',
  done: 'done',
  archived: 'archived',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];
/** Every status, in board column order. */
export const TASK_STATUSES: readonly TaskStatus[] = Object.values(TaskStatus);

/** Statuses of a task that is still open: anything but `done` and `archived`. */
export const OPEN_STATUSES: readonly TaskStatus[] = TASK_STATUSES.filter(
  (s) => s !== TaskStatus.done && s !== TaskStatus.archived,
);

/**
 * Whether a parent in `status` still holds its children back: while it is open. A done
 * parent's work is there; an archived one will never be done, so it holds nobody: archiving
 * a done parent leaves its children as they were, and archiving an unfinished one blocks its
 * waiting children `dependency` for a person, whose `unblock` goes on without it.
 */
export function holdsChildren(status: string): boolean {
  return status !== TaskStatus.done && status !== TaskStatus.archived;
}

/** The parent statuses that hold a child back, for SQL: `status NOT IN (...)`. */
export const RELEASING_SQL = `('${TaskStatus.done}', '${TaskStatus.archived}')`;

/** The life of one run (SPEC §2). `ending` is the fence: from then on its token is stale. */
export const RunState = {
  running: 'running',
  ending: 'ending',
  ended: 'ended',
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];
export const RUN_STATES: readonly RunState[] = Object.values(RunState);

/** How a run ended (SPEC §2, §3). */
export const Outcome = {
  completed: 'completed',
  crashed: 'crashed',
  stalled: 'stalled',
  timed_out: 'timed_out',
  host_lost: 'host_lost',
  lease_lost: 'lease_lost',
  spawn_failed: 'spawn_failed',
  rate_limited: 'rate_limited',
  /** A budget of its profile was spent (issue #13): the proxy refused its next request. */
  budget_exhausted: 'budget_exhausted',
  config_error: 'config_error',
  stopped: 'stopped',
  worker_blocked: 'worker_blocked',
  review_requested: 'review_requested',
  /** A review run approved the work (issue #14). */
  review_approved: 'review_approved',
  /** A review run asked for changes (issue #14). */
  changes_requested: 'changes_requested',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];
export const OUTCOMES: readonly Outcome[] = Object.values(Outcome);

/**
 * Why a task is blocked (SPEC §5, issue #14), and so who clears it: `needs_input` (a question
 * for a person; only a person clears it), `failed` (warden gave up: failures, a stall loop,
 * spawn errors, exit 78; a person retries), `budget` (a budget of its profile is spent),
 * `dependency` (waits on other work), `capability` (nothing here can run it), `transient`
 * (clears itself after `transient_cooldown`, each time counted as a failure).
 */
export const BlockKind = {
  needs_input: 'needs_input',
  failed: 'failed',
  budget: 'budget',
  dependency: 'dependency',
  capability: 'capability',
  transient: 'transient',
} as const;
export type BlockKind = (typeof BlockKind)[keyof typeof BlockKind];
export const BLOCK_KINDS: readonly BlockKind[] = Object.values(BlockKind);
