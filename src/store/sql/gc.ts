import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EpochMs, RunId, TaskId } from '../../core/glossary.js';
import type { SqlDb, SqlParam } from './driver.js';
import { idIn } from './id-list.js';
import { pruneDeadLetters } from './notify.js';
import { pruneActivity } from './timeline-activity.js';

/**
 * What `warden gc` may prune (SPEC §6): the history of tasks that are done or archived and
 * have not changed since `before`. Their rows stay (the board keeps its tasks and runs); their
 * events, run folders and workspaces go.
 */
const FINISHED = "status IN ('done', 'archived') AND updated_at < ?";

/** Of these runs, the ended ones of finished tasks. */
export async function prunableRuns(
  db: SqlDb,
  runIds: readonly RunId[],
  before: EpochMs,
): Promise<RunId[]> {
  if (runIds.length === 0) return [];
  const among = idIn(db, 'r.id', runIds);
  const rows = await db.all<{ id: number }>(
    `SELECT r.id FROM runs r JOIN tasks t ON t.id = r.task_id
     WHERE ${among.sql} AND r.state = 'ended'
       AND t.status IN ('done', 'archived') AND t.updated_at < ?
     ORDER BY r.id`,
    [among.param, before],
  );
  return rows.map((r) => r.id);
}

/** Of these tasks, the finished ones. */
export async function prunableTasks(
  db: SqlDb,
  taskIds: readonly TaskId[],
  before: EpochMs,
): Promise<TaskId[]> {
  if (taskIds.length === 0) return [];
  const among = idIn(db, 'id', taskIds);
  const rows = await db.all<{ id: number }>(
    `SELECT id FROM tasks WHERE ${among.sql} AND ${FINISHED} ORDER BY id`,
    [among.param, before],
  );
  return rows.map((r) => r.id);
}

/** Events deleted per transaction: a large prune never holds the writer (or the line) long. */
export const PRUNE_BATCH = 5_000;

/** The events before `before` of finished tasks (a condition on `events`, and its values). */
function prunable(before: EpochMs): { where: string; params: SqlParam[] } {
  return {
    where: `task_id IN (SELECT id FROM tasks WHERE ${FINISHED}) AND at < ?`,
    params: [before, before],
  };
}

/** How many events `pruneEventBatch` would delete, in all, and of how many tasks. */
export async function countPrunableEvents(
  db: SqlDb,
  before: EpochMs,
): Promise<{ events: number; tasks: number }> {
  const { where, params } = prunable(before);
  const counted = await db.get<{ events: number; tasks: number }>(
    `SELECT count(*) AS events, count(DISTINCT task_id) AS tasks FROM events WHERE ${where}`,
    params,
  );
  return { events: Number(counted?.events ?? 0), tasks: Number(counted?.tasks ?? 0) };
}

/**
 * Deletes at most `limit` of the events written before `before` of finished tasks, and says
 * which tasks each deleted event was of (one entry per event). Fewer than `limit` means none
 * are left.
 */
export async function pruneEventBatch(
  db: SqlDb,
  before: EpochMs,
  limit: number,
): Promise<number[]> {
  const { where, params } = prunable(before);
  const rows = await db.all<{ task_id: number }>(
    `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ${where} LIMIT ?)
     RETURNING task_id`,
    [...params, limit],
  );
  return rows.map((r) => Number(r.task_id));
}

/**
 * Deletes the events written before `before` of finished tasks, `batch` at a time, each batch
 * in a transaction of its own (`write`), so reports and claims go on between them; returns
 * how many, and of how many tasks. Each batch waits a turn of the event loop first, or on
 * SQLite (whose writes run on this thread) the next would follow at once and no request would
 * be read until the last. A pruned task's runs lose their timeline activity with their
 * events, and dead letters older than `before` go too.
 */
export async function pruneEvents(
  write: <T>(fn: (db: SqlDb) => Promise<T>) => Promise<T>,
  before: EpochMs,
  batch: number,
): Promise<{ events: number; tasks: number }> {
  await write(async (db) => {
    await pruneActivity(db, before);
    await pruneDeadLetters(db, before);
  });
  let events = 0;
  const tasks = new Set<number>();
  for (;;) {
    await nextTurn();
    const deleted = await write((db) => pruneEventBatch(db, before, batch));
    events += deleted.length;
    for (const id of deleted) tasks.add(id);
    if (deleted.length < batch) return { events, tasks: tasks.size };
  }
}
