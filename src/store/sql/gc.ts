import type { EpochMs, RunId, TaskId } from '../../core/glossary.js';
import type { SqlDb, SqlParam } from './driver.js';

/**
 * What `warden gc` may prune (SPEC §6): the history of tasks that are done or archived and
 * have not changed since `before`. Their rows stay (the board keeps its tasks and runs); their
 * events, run folders and workspaces go.
 */
const FINISHED = "status IN ('done', 'archived') AND updated_at < ?";

function marks(ids: readonly number[]): string {
  return ids.map(() => '?').join(', ');
}

/** Of these runs, the ended ones of finished tasks. */
export async function prunableRuns(
  db: SqlDb,
  runIds: readonly RunId[],
  before: EpochMs,
): Promise<RunId[]> {
  if (runIds.length === 0) return [];
  const rows = await db.all<{ id: number }>(
    `SELECT r.id FROM runs r JOIN tasks t ON t.id = r.task_id
     WHERE r.id IN (${marks(runIds)}) AND r.state = 'ended'
       AND t.status IN ('done', 'archived') AND t.updated_at < ?
     ORDER BY r.id`,
    [...runIds, before],
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
  const rows = await db.all<{ id: number }>(
    `SELECT id FROM tasks WHERE id IN (${marks(taskIds)}) AND ${FINISHED} ORDER BY id`,
    [...taskIds, before],
  );
  return rows.map((r) => r.id);
}

/**
 * Deletes (or, with `dryRun`, counts) the events written before `before` of finished tasks;
 * returns how many and of how many tasks.
 */
export async function pruneEvents(
  db: SqlDb,
  before: EpochMs,
  dryRun: boolean,
): Promise<{ events: number; tasks: number }> {
  const where = `task_id IN (SELECT id FROM tasks WHERE ${FINISHED}) AND at < ?`;
  const params: SqlParam[] = [before, before];
  const counted = await db.get<{ events: number; tasks: number }>(
    `SELECT count(*) AS events, count(DISTINCT task_id) AS tasks FROM events WHERE ${where}`,
    params,
  );
  const found = { events: Number(counted?.events ?? 0), tasks: Number(counted?.tasks ?? 0) };
  if (!dryRun && found.events > 0) await db.run(`DELETE FROM events WHERE ${where}`, params);
  return found;
}
