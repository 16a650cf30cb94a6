import { formatActor } from '../../core/actor.js';
import type { Actor } from '../../core/actor.js';
import type { NewEvent, WardenEvent } from '../../core/events.js';
import type { EventFilter } from '../store.js';
import type { SqlDb, SqlParam } from './driver.js';
import { toEvent } from './rows.js';
import type { EventRow } from './rows.js';

/** Appends one event inside the caller's transaction. */
export async function appendEvent(
  db: SqlDb,
  at: number,
  actor: Actor,
  event: NewEvent,
): Promise<void> {
  await db.run(
    'INSERT INTO events (board, task_id, run_id, actor, kind, payload, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [
      event.board ?? null,
      event.task_id ?? null,
      event.run_id ?? null,
      formatActor(actor),
      event.kind,
      JSON.stringify(event.payload),
      at,
    ],
  );
}

/** Events matching a filter, oldest first. */
export async function listEvents(db: SqlDb, filter: EventFilter): Promise<WardenEvent[]> {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (filter.board !== undefined) {
    where.push(filter.include_global ? '(board = ? OR board IS NULL)' : 'board = ?');
    params.push(filter.board);
  }
  if (filter.task_id !== undefined) {
    where.push('task_id = ?');
    params.push(filter.task_id);
  }
  if (filter.after_id !== undefined) {
    where.push('id > ?');
    params.push(filter.after_id);
    // PostgreSQL hands out ids before commit, so a later id can commit first. A cursor only
    // sees events of transactions older than every one still running: it waits rather than
    // skips. (SQLite commits one writer at a time, in id order.)
    if (db.dialect === 'postgres') where.push('tx < pg_snapshot_xmin(pg_current_snapshot())');
  }
  if (filter.since !== undefined) {
    where.push('at >= ?');
    params.push(filter.since);
  }
  if (filter.kinds !== undefined && filter.kinds.length > 0) {
    where.push(`kind IN (${filter.kinds.map(() => '?').join(', ')})`);
    params.push(...filter.kinds);
  }
  params.push(filter.limit ?? 1000);
  const rows = await db.all<EventRow>(
    `SELECT * FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${filter.newest ? 'DESC' : ''} LIMIT ?`,
    params,
  );
  if (filter.newest) rows.reverse();
  return rows.map(toEvent);
}
