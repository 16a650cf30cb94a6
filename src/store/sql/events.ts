import { formatActor } from '../../core/actor.js';
import type { Actor } from '../../core/actor.js';
import type { NewEvent, WardenEvent } from '../../core/events.js';
import type { EventFilter } from '../store.js';
import type { SqlDb, SqlParam } from './driver.js';
import { EVENT_COLUMNS, EventBatch } from './event-batch.js';
import { toEvent } from './rows.js';
import type { EventRow } from './rows.js';

/**
 * Appends one event inside the caller's transaction: held, in a write transaction of the
 * store, and written with the others it appends (./event-batch.ts); else written at once.
 */
export async function appendEvent(
  db: SqlDb,
  at: number,
  actor: Actor,
  event: NewEvent,
): Promise<void> {
  const row = [
    event.board ?? null,
    event.task_id ?? null,
    event.run_id ?? null,
    formatActor(actor),
    event.kind,
    JSON.stringify(event.payload),
    at,
  ];
  if (db instanceof EventBatch) return db.hold(row);
  await db.run(`INSERT INTO events ${EVENT_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?)`, row);
}

/**
 * Events matching a filter, oldest first.
 *
 * SQLite commits one writer at a time, so ids become final in id order: a page is in id order
 * and `after_id` is a plain `id >`. PostgreSQL hands ids out before commit, so an event with a
 * smaller id can commit after one with a larger id, and a transaction that took its id (xid)
 * early can write its event late. There a cursor's read (`after_id`, or `final` for a
 * follower's first page or its start at the end) lists only final events (of transactions
 * older than every one still running, `pg_snapshot_xmin`: none below that mark can add an
 * event any more), in (tx, id) order, and `after_id` resumes after its event's place in that
 * order. So the last event of such a page, newest or not, is a cursor that never skips: every
 * event not yet listed comes later in the walk (see `AFTER_IN_WALK` for a pruned cursor).
 * Any other read shows every committed event in id order: the mark is the oldest transaction
 * on the whole server, and a reader that only shows a task's history must not wait for it.
 */
export async function listEvents(db: SqlDb, filter: EventFilter): Promise<WardenEvent[]> {
  const { where, params } = filterClauses(filter);
  const walk =
    db.dialect === 'postgres' && (filter.final === true || filter.after_id !== undefined);
  if (walk) {
    where.push('tx < pg_snapshot_xmin(pg_current_snapshot())');
    if (filter.after_id !== undefined) {
      where.push(AFTER_IN_WALK);
      params.push(filter.after_id, filter.after_id, filter.after_id);
    }
  } else if (filter.after_id !== undefined) {
    where.push('id > ?');
    params.push(filter.after_id);
  }
  const desc = filter.newest ? ' DESC' : '';
  const order = walk ? `tx${desc}, id${desc}` : `id${desc}`;
  const limit = filter.limit ?? 1000;
  const rows =
    filter.board !== undefined && filter.include_global
      ? await boardAndHomeWide(db, filter.board, { where, params }, order, limit)
      : await db.all<EventRow>(
          `SELECT * FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY ${order} LIMIT ?`,
          [...params, limit],
        );
  if (filter.newest) rows.reverse();
  return rows.map(toEvent);
}

/**
 * A board's events and the home-wide ones (no board), merged: two walks of an index in the
 * read's order, each stopping at `limit`. One `(board = ? OR board IS NULL)` read collects
 * every event of the board and sorts them when SQLite has no statistics (a second for a
 * million events); this reads at most twice the page.
 */
async function boardAndHomeWide(
  db: SqlDb,
  board: string,
  rest: { where: string[]; params: SqlParam[] },
  order: string,
  limit: number,
): Promise<EventRow[]> {
  const part = (cond: string): string =>
    `SELECT * FROM (SELECT * FROM events WHERE ${[cond, ...rest.where].join(' AND ')} ORDER BY ${order} LIMIT ?)`;
  return db.all<EventRow>(
    `${part('board = ?')} AS own_board UNION ALL ${part('board IS NULL')} AS home_wide
     ORDER BY ${order} LIMIT ?`,
    [board, ...rest.params, limit, ...rest.params, limit, limit],
  );
}

/**
 * After event `after_id` in the PostgreSQL walk (its three parameters are that id): after the
 * event's own (tx, id). When gc has pruned it (or it never was), its tx is unknown; the walk
 * then resumes at the oldest transaction that wrote a surviving event with a larger id, that
 * transaction included. Every event with a larger id still comes (at least what a plain
 * `id >` gives), and so do the events of that transaction or younger ones with smaller ids,
 * some perhaps seen already: only an event of a transaction that ran alongside the pruned
 * one, with a smaller id, can be missed. With no larger id at all, nothing comes until one is
 * written. Id 0 is the start: every event. Scalar subqueries, so the bound is an index
 * condition on `events (tx, id)`; the fallback's scan runs only when the event is missing.
 */
const AFTER_IN_WALK = `(tx, id) > (
  COALESCE((SELECT tx FROM events WHERE id = ?), (SELECT min(tx) FROM events WHERE id > ?)),
  COALESCE((SELECT id FROM events WHERE id = ?), 0))`;

/** The filter's conditions other than the cursor (and the board with home-wide events). */
function filterClauses(filter: EventFilter): { where: string[]; params: SqlParam[] } {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (filter.id !== undefined) {
    where.push('id = ?');
    params.push(filter.id);
  }
  // With the home-wide events, the board is a read of its own (`boardAndHomeWide`).
  if (filter.board !== undefined && !filter.include_global) {
    where.push('board = ?');
    params.push(filter.board);
  }
  if (filter.task_id !== undefined) {
    where.push('task_id = ?');
    params.push(filter.task_id);
  }
  if (filter.since !== undefined) {
    where.push('at >= ?');
    params.push(filter.since);
  }
  if (filter.kinds !== undefined && filter.kinds.length > 0) {
    where.push(`kind IN (${filter.kinds.map(() => '?').join(', ')})`);
    params.push(...filter.kinds);
  }
  return { where, params };
}
