import { z } from 'zod';
import type { EpochMs, RunId, TaskId } from './glossary.js';
import type { BlockKind, TaskStatus } from './status.js';
import type { Json } from './events.js';
import type { PolicyOverrides } from './policy.js';
import type { TaskLlm } from './llm.js';
import { INPUT_LIMITS } from './defaults.js';
import { idSchema, nameSchema, refuseCharacters, textOfAtMost } from './validate.js';

/** Counters the retry accounting keeps per task (SPEC §3). Only a person resets them. */
export interface TaskCounters {
  /** Runs started for this task, ever; the next run's attempt number is this plus one. */
  attempts: number;
  /** Failed runs since a person last reset the count. */
  failures: number;
  /** Consecutive runs that ended with zero progress. */
  stall_streak: number;
  /** Consecutive rate-limited runs. */
  rate_limited_streak: number;
  /** Consecutive spawn failures. */
  spawn_failures: number;
  /** Runs lost with their host. */
  host_losses: number;
}

/** What a finished task produced. */
export interface TaskResult {
  summary: string;
  metadata: Json;
}

/** A card on a board. */
export interface Task {
  id: TaskId;
  board: string;
  title: string;
  body: string;
  /** The profile that works this task, or null when nobody is assigned. */
  assignee: string | null;
  priority: number;
  status: TaskStatus;
  /** The task is not dispatched before this time (a delay or a backoff). */
  not_before: EpochMs | null;
  parents: TaskId[];
  children: TaskId[];
  counters: TaskCounters;
  result: TaskResult | null;
  block_reason: string | null;
  block_kind: BlockKind | null;
  /** The rule that blocked the task: `person`, `worker`, `gave_up`, `stall_loop`, ... */
  block_rule: string | null;
  /** Policy overrides for this task only. */
  policy: PolicyOverrides;
  current_run_id: RunId | null;
  /** The actor that created the task, as stored on events. */
  created_by: string;
  /** The task whose worker created this one, if a worker did. */
  created_by_task: TaskId | null;
  idempotency_key: string | null;
  /** Its model traffic over all its runs (issue #13). */
  llm: TaskLlm;
  /**
   * An approval gate (issue #14): a task that needs one is not dispatched until a person
   * approves it; who and when are kept.
   */
  approval: { required: boolean; by: string | null; at: EpochMs | null };
  /** In review: the profile whose run will review it (issue #14); null: a person reviews. */
  review_by: string | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

const title = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1, { message: 'must not be empty' })
      .max(INPUT_LIMITS.title_max_chars, {
        message: `must be at most ${INPUT_LIMITS.title_max_chars} characters`,
      })
      .superRefine(refuseCharacters(false)),
  );
const priority = z
  .number()
  .int({ message: 'must be a whole number' })
  .min(INPUT_LIMITS.priority_min, { message: `must be at least ${INPUT_LIMITS.priority_min}` })
  .max(INPUT_LIMITS.priority_max, { message: `must be at most ${INPUT_LIMITS.priority_max}` });

/** What a caller gives to create a task. Policy overrides are checked separately. */
export const newTaskSchema = z
  .object({
    board: nameSchema.optional(),
    title,
    body: textOfAtMost(INPUT_LIMITS.body_max_bytes).optional(),
    assignee: nameSchema.nullable().optional(),
    priority: priority.optional(),
    parents: z.array(idSchema).max(100).optional(),
    triage: z.boolean().optional(),
    idempotency_key: z.string().min(1).max(200).superRefine(refuseCharacters(false)).optional(),
    /** Not dispatched before this time, in epoch ms; a time already past means now. */
    not_before: z.number().int().min(0).max(8_640_000_000_000_000).nullable().optional(),
    /** Kept out of dispatch until a person approves it (`warden approve`, issue #14). */
    needs_approval: z.boolean().optional(),
  })
  .strict();
/** A task to create, as any door receives it; the store validates it. */
export type NewTask = z.input<typeof newTaskSchema> & { policy?: PolicyOverrides };

/** What a caller may change with `edit`. Status, counters and `not_before` are not here. */
export const taskPatchSchema = z
  .object({
    title: title.optional(),
    body: textOfAtMost(INPUT_LIMITS.body_max_bytes).optional(),
    assignee: nameSchema.nullable().optional(),
    priority: priority.optional(),
  })
  .strict();
/** An edit; the store validates it. `clear_policy` names overrides to drop. */
export type TaskPatch = z.input<typeof taskPatchSchema> & {
  policy?: PolicyOverrides;
  clear_policy?: readonly string[];
};

/** A comment on a task. */
export interface Comment {
  id: number;
  task_id: TaskId;
  actor: string;
  body: string;
  at: EpochMs;
}

/**
 * A board in columns (`Store.boardColumns`): how many tasks of each status match, and the first
 * tasks of each status asked for, in the listing's order (priority high to low, then id).
 */
export interface BoardColumns {
  /** Matching tasks per status; a status with none is absent. */
  counts: Partial<Record<TaskStatus, number>>;
  /** The first tasks of each status asked for; a status with none has an empty list. */
  columns: Partial<Record<TaskStatus, Task[]>>;
}

/** Filters for listing tasks. */
export interface TaskFilter {
  board?: string;
  /** Only these tasks. */
  ids?: readonly TaskId[];
  /** A search: an id (`12` or `#12`), or words in the title or the assignee's name. */
  q?: string;
  /** Skip this many (paging; prefer `after`, which does not walk the skipped rows). */
  offset?: number;
  /**
   * Keyset paging: only tasks after this place in the listing's order (priority high to low,
   * then id), the last task of the previous page. A task created meanwhile lands at its place:
   * none of the others is skipped or listed twice.
   */
  after?: TaskCursor;
  statuses?: readonly TaskStatus[];
  assignee?: string;
  /** Include archived tasks when no status filter is given. */
  include_archived?: boolean;
  limit?: number;
}

/** A place in a task listing: a task's priority and id (`PRIORITY:ID` in the API). */
export interface TaskCursor {
  priority: number;
  id: TaskId;
}

/** The cursor text of a task (`PRIORITY:ID`), for the `after` of the next page. */
export function taskCursorText(task: { priority: number; id: TaskId }): string {
  return `${task.priority}:${task.id}`;
}

/** Reads a cursor's text (`PRIORITY:ID`), or null when it is not one. */
export function parseTaskCursor(text: string): TaskCursor | null {
  const m = /^(-?\d+):(\d+)$/.exec(text);
  return m ? { priority: Number(m[1]), id: Number(m[2]) } : null;
}

/** Counts of a board's tasks by status, and of its runs by outcome. */
export interface BoardStats {
  board: string;
  tasks: Record<TaskStatus, number>;
  runs: { running: number; ending: number; ended: number };
  outcomes: Record<string, number>;
  events: number;
}
