import type { TaskId } from '../../core/glossary.js';
import { RELEASING_SQL } from '../../core/status.js';
import type { SqlDb } from './driver.js';
import type { ProfileRow } from './rows.js';

/** How many of a task's latest runs closing one reads ahead, before its policy is known. */
const RECENT_AHEAD = 64;

/** What closing a task's current run reads around it, beside the run and the task. */
export interface AroundTask {
  profile: ProfileRow | undefined;
  /** The ids of the task's latest runs (up to `RECENT_AHEAD`), newest first; undefined: not read. */
  recent?: number[];
  /** Whether every parent is done; undefined: not read yet. */
  parentsDone?: boolean;
  /** Whether a child waits in `todo` (it may be promoted); undefined: not read yet. */
  waitingChildren?: boolean;
}

/** The columns `aroundColumns` adds to a row, as PostgreSQL returns them. */
export interface AroundColumns {
  around_profile: ProfileRow | null;
  around_recent: string | null;
  around_parents_open: number;
  around_waiting: number;
}

/**
 * PostgreSQL select-list items reading what closing a run needs around it, for the profile
 * and task the SQL expressions `profile` and `task` name in the statement they join:
 * the profile's row, the task's latest runs, its parents not done and its children waiting
 * in `todo`. Read in the statement that reads the run, they cost no round trip of their own.
 *
 * A link's task is read by its id, once per link (a scalar subquery), never by joining the
 * links to `tasks`: PostgreSQL planned that join as a hash over a sequential scan of every
 * task, at every report. A report's transaction is SERIALIZABLE, and a scan there takes a
 * predicate lock on the whole table, which any write to any task by another host's
 * serializable transaction then conflicts with. With no links, most tasks, `tasks` is not
 * read at all.
 */
export function aroundColumns(profile: string, task: string): string {
  return `(SELECT row_to_json(ap) FROM profiles ap WHERE ap.name = ${profile}) AS around_profile,
    (SELECT string_agg(CAST(ar.id AS TEXT), ',' ORDER BY ar.attempt DESC)
      FROM (SELECT id, attempt FROM runs WHERE task_id = ${task} ORDER BY attempt DESC LIMIT ${RECENT_AHEAD}) ar) AS around_recent,
    (SELECT COUNT(*) FROM task_links al WHERE al.child_id = ${task}
      AND (SELECT alp.status FROM tasks alp WHERE alp.id = al.parent_id) NOT IN ${RELEASING_SQL}) AS around_parents_open,
    (SELECT COUNT(*) FROM task_links ac WHERE ac.parent_id = ${task}
      AND (SELECT acc.status FROM tasks acc WHERE acc.id = ac.child_id) = 'todo') AS around_waiting`;
}

/** What `aroundColumns` read. */
export function toAround(row: AroundColumns): AroundTask {
  return {
    profile: row.around_profile ?? undefined,
    recent: (row.around_recent ?? '')
      .split(',')
      .filter((id) => id !== '')
      .map(Number),
    parentsDone: Number(row.around_parents_open) === 0,
    waitingChildren: Number(row.around_waiting) > 0,
  };
}

/**
 * The run's profile, and on PostgreSQL in the same statement the task's latest runs, whether
 * its parents are all done and whether any child waits in `todo`: one round trip instead of
 * four for every run that ends (a task with no children, most of them, then skips reading
 * its children). SQLite reads only the profile here; the rest is read where it is used.
 */
export async function aroundTask(
  db: SqlDb,
  profile: string | null,
  taskId: TaskId,
): Promise<AroundTask> {
  if (db.dialect !== 'postgres') {
    return {
      profile:
        profile === null
          ? undefined
          : await db.get<ProfileRow>('SELECT * FROM profiles WHERE name = ?', [profile]),
    };
  }
  const row = await db.get<AroundColumns>(
    `SELECT ${aroundColumns('x.profile', 'x.task_id')}
     FROM (SELECT CAST(? AS TEXT) AS profile, CAST(? AS BIGINT) AS task_id) x`,
    [profile, taskId],
  );
  if (!row) throw new Error(`nothing read around task ${taskId}`);
  return toAround(row);
}

/**
 * The ids of a task's latest `limit` runs, newest first: from those read ahead when there
 * were enough of them (fewer than `RECENT_AHEAD` is every run the task has), else read now.
 */
export async function recentRuns(
  db: SqlDb,
  taskId: TaskId,
  limit: number,
  ahead: number[] | undefined,
): Promise<number[]> {
  if (ahead !== undefined && (ahead.length < RECENT_AHEAD || limit <= RECENT_AHEAD))
    return ahead.slice(0, limit);
  const rows = await db.all<{ id: number }>(
    'SELECT id FROM runs WHERE task_id = ? ORDER BY attempt DESC LIMIT ?',
    [taskId, limit],
  );
  return rows.map((r) => r.id);
}
