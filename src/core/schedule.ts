import { z } from 'zod';
import type { EpochMs, TaskId } from './glossary.js';
import { newTaskSchema } from './task.js';
import { nameSchema, refuseCharacters } from './validate.js';

/**
 * What a schedule does with firings it missed while no `serve` ran (issue #14):
 * - `skip`: they are skipped, counted in a `schedule_skipped` event, and the next one after
 *   now is scheduled;
 * - `once`: one task stands for all of them, then the schedule goes on as before.
 */
export const CatchUp = { skip: 'skip', once: 'once' } as const;
export type CatchUp = (typeof CatchUp)[keyof typeof CatchUp];
export const CATCH_UPS: readonly CatchUp[] = Object.values(CatchUp);

/** The task a schedule creates at each firing, on the schedule's board. */
export interface ScheduleTemplate {
  title: string;
  body: string;
  /** The profile that works the task, or null when nobody is assigned. */
  assignee: string | null;
  priority: number;
}

/** A recurring task: a cron expression and the task it creates at each firing. */
export interface Schedule {
  name: string;
  board: string;
  /** Five fields (minute hour day-of-month month day-of-week) or a nickname like `@daily`. */
  cron: string;
  /** The IANA time zone the expression is read in; `UTC` unless given. */
  tz: string;
  catch_up: CatchUp;
  template: ScheduleTemplate;
  paused: boolean;
  /** The next firing, or null when the expression has no later time. */
  next_at: EpochMs | null;
  last_fired_at: EpochMs | null;
  last_task_id: TaskId | null;
  /** Tasks created, and firings skipped, since the schedule was added. */
  fired: number;
  skipped: number;
  created_by: string;
  created_at: EpochMs;
  updated_at: EpochMs;
}

/** What a caller gives to add a schedule; the cron expression and zone are checked apart. */
export const newScheduleSchema = z
  .object({
    name: nameSchema,
    board: nameSchema.optional(),
    cron: z
      .string()
      .min(1, { message: 'must not be empty' })
      .max(200)
      .superRefine(refuseCharacters(false)),
    tz: z.string().min(1).max(100).superRefine(refuseCharacters(false)).optional(),
    catch_up: z.enum(CATCH_UPS as [CatchUp, ...CatchUp[]]).optional(),
    // The task's own rules for the fields it copies.
    template: newTaskSchema
      .pick({ title: true, body: true, assignee: true, priority: true })
      .strict(),
  })
  .strict();
/** A schedule to add, as any door receives it; the store validates it. */
export type NewSchedule = z.input<typeof newScheduleSchema>;

/** What one firing pass did with one schedule. */
export interface ScheduleFiring {
  schedule: string;
  /** The task created, or null when every due firing was skipped. */
  task_id: TaskId | null;
  /** The firing time the task stands for (the latest due one). */
  fire_at: EpochMs | null;
  /** Missed firings skipped (`skip`) or covered by the one task (`once`). */
  missed: number;
  next_at: EpochMs | null;
}
