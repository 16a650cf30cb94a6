import type { ActorKind } from './actor.js';
import { checkName } from './checks.js';
import { invalid } from './errors.js';
import { DEFAULT_BOARD } from './glossary.js';
import type { TaskId } from './glossary.js';
import { BLOCK_KINDS, TASK_STATUSES, TaskStatus } from './status.js';
import type { BlockKind } from './status.js';
import type { Task } from './task.js';
import { resolveTransition } from './transitions.js';

/**
 * Bulk actions (issue #14): one verb on every task of a board that a filter matches, each task
 * through the same store move as the verb on one task, so the transition table refuses what it
 * refuses. A dry run unless asked otherwise.
 */
export const BULK_VERBS = ['retry', 'unblock', 'archive'] as const;
export type BulkVerb = (typeof BULK_VERBS)[number];

/** Which tasks of a board a bulk action takes: every given part must match. */
export interface BulkFilter {
  board: string;
  /** Empty: any status but archived (or `blocked` when `kinds` is given). */
  statuses: TaskStatus[];
  assignee?: string;
  /** Block kinds (`needs_input`, `failed`, ...): only blocked tasks have one. */
  kinds: BlockKind[];
}

/** What a bulk action did, or in a dry run would do, to one task. */
export interface BulkItem {
  id: TaskId;
  title: string;
  /** Its status before. */
  status: TaskStatus;
  block_kind: BlockKind | null;
  assignee: string | null;
  /** `would_change` in a dry run, `changed`, or `refused` (with `reason`). */
  result: 'would_change' | 'changed' | 'refused';
  /** Where it went or would go; null when refused. */
  to: TaskStatus | null;
  reason: string | null;
}

/** The answer of a bulk action (`warden retry --status blocked`, `POST /api/v1/tasks/bulk`). */
export interface BulkResult {
  verb: BulkVerb;
  board: string;
  dry_run: boolean;
  matched: number;
  changed: number;
  refused: number;
  tasks: BulkItem[];
}

/** Text or a list of texts (`--status blocked,done`, `"status": ["blocked"]`) as a list. */
function listOf(value: unknown, what: string): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((item) => {
    if (typeof item !== 'string') throw invalid(`${what}: must be text`);
    return item
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  });
}

function oneOf<T extends string>(values: string[], allowed: readonly T[], what: string): T[] {
  for (const v of values) {
    if (!(allowed as readonly string[]).includes(v)) {
      throw invalid(
        `${what}: unknown ${what.replace(/^--/, '')} '${v}'; use one of ${allowed.join(', ')}`,
      );
    }
  }
  return [...new Set(values)] as T[];
}

/** Checks a bulk verb. */
export function parseBulkVerb(value: unknown): BulkVerb {
  if (typeof value !== 'string' || !(BULK_VERBS as readonly string[]).includes(value)) {
    throw invalid(`verb: must be one of ${BULK_VERBS.join(', ')}`);
  }
  return value as BulkVerb;
}

/**
 * Checks a bulk filter as a caller gives it (CLI options or a request body; `status` and `kind`
 * as lists or comma-separated). At least one of status, assignee and kind is required: a bulk
 * action on a whole board is never what a typo should do. Kinds are checked against
 * `BLOCK_KINDS`, statuses against `TASK_STATUSES`. `prefix` is `--` for CLI option names.
 */
export function parseBulkFilter(
  raw: { board?: unknown; status?: unknown; assignee?: unknown; kind?: unknown },
  prefix = '',
): BulkFilter {
  const statuses = oneOf(listOf(raw.status, `${prefix}status`), TASK_STATUSES, `${prefix}status`);
  const kinds = oneOf(listOf(raw.kind, `${prefix}kind`), BLOCK_KINDS, `${prefix}kind`);
  const assignee =
    raw.assignee === undefined || raw.assignee === null
      ? undefined
      : checkName(raw.assignee, `${prefix}assignee`);
  if (statuses.length === 0 && kinds.length === 0 && assignee === undefined) {
    throw invalid(
      `give a filter (${prefix}status, ${prefix}assignee or ${prefix}kind) to act on many tasks, or a task id`,
    );
  }
  return {
    board: checkName(raw.board ?? DEFAULT_BOARD, `${prefix}board`),
    statuses: statuses.length === 0 && kinds.length > 0 ? [TaskStatus.blocked] : statuses,
    ...(assignee !== undefined ? { assignee } : {}),
    kinds,
  };
}

/** Whether `task` is one the filter takes (the store has already matched board and status). */
export function bulkMatches(task: Task, filter: BulkFilter): boolean {
  if (filter.statuses.length > 0 && !filter.statuses.includes(task.status)) return false;
  if (filter.assignee !== undefined && task.assignee !== filter.assignee) return false;
  if (
    filter.kinds.length > 0 &&
    (task.block_kind === null || !filter.kinds.includes(task.block_kind))
  )
    return false;
  return true;
}

/**
 * What `verb` would do to `task` for `actor`, by the same rules the store's move applies: a
 * task with a run in progress is refused, then the transition table decides.
 */
export function predictMove(
  verb: BulkVerb,
  task: Pick<Task, 'id' | 'status' | 'current_run_id'>,
  actor: ActorKind,
  parentsDone: boolean,
): { to: TaskStatus | null; reason: string | null } {
  if (task.current_run_id !== null) {
    return {
      to: null,
      reason: `task ${task.id} has a run in progress; end it with \`warden stop ${task.id}\` first`,
    };
  }
  try {
    return { to: resolveTransition(verb, task.status, actor, parentsDone), reason: null };
  } catch (err) {
    return { to: null, reason: err instanceof Error ? err.message : String(err) };
  }
}
