import { formatDuration } from '../../core/duration.js';
import type { WardenEvent } from '../../core/events.js';
import type { NotifyKind, Subscription } from '../../core/notify.js';
import type { SqlDb } from './driver.js';
import { toEvent } from './rows.js';
import type { EventRow } from './rows.js';

/**
 * A notification cursor: the last event a subscription is past. SQLite commits one writer at a
 * time, so ids are final in id order and `tx` is null. PostgreSQL hands ids out before commit,
 * so an event with a smaller id can commit after one with a larger id, and a transaction that
 * took its id (xid) early can write its event late. There the cursor walks events in
 * (tx, id) order and only over transactions older than every one still running
 * (`pg_snapshot_xmin`): no transaction below that mark can add an event any more, so the walk
 * only ever appends and never skips.
 */
export interface EventCursor {
  id: number;
  tx: string | null;
}

/** An event with its place in the walk. */
export interface CursorEvent {
  event: WardenEvent;
  at: EventCursor;
}

/** The cursor past every event final now: where a new subscription starts. */
export async function newestCursor(db: SqlDb): Promise<EventCursor> {
  if (db.dialect === 'postgres') {
    const row = await db.get<{ id: number; tx: string }>(
      // Ordered by the column, not the text alias (`tx`, as text "992" sorts above "7141").
      `SELECT id, tx::text AS tx FROM events WHERE tx < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY events.tx DESC, events.id DESC LIMIT 1`,
    );
    if (row) return { id: Number(row.id), tx: row.tx };
    // No event is final yet: start below the oldest transaction still running.
    const mark = await db.get<{ tx: string }>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS tx',
    );
    return { id: 0, tx: mark?.tx ?? '0' };
  }
  const row = await db.get<{ id: number | null }>('SELECT MAX(id) AS id FROM events');
  return { id: Number(row?.id ?? 0), tx: null };
}

/** Up to `limit` final events after a cursor, in the cursor's order. */
export async function eventsAfter(
  db: SqlDb,
  cursor: EventCursor,
  limit: number,
): Promise<CursorEvent[]> {
  if (db.dialect === 'postgres') {
    const tx = cursor.tx ?? '0';
    const rows = await db.all<EventRow & { tx_text: string }>(
      `SELECT *, tx::text AS tx_text FROM events
       WHERE tx < pg_snapshot_xmin(pg_current_snapshot())
         AND (tx > CAST(? AS xid8) OR (tx = CAST(? AS xid8) AND id > ?))
       ORDER BY tx, id LIMIT ?`,
      [tx, tx, cursor.id, limit],
    );
    return rows.map((r) => ({ event: toEvent(r), at: { id: Number(r.id), tx: r.tx_text } }));
  }
  const rows = await db.all<EventRow>('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?', [
    cursor.id,
    limit,
  ]);
  return rows.map((r) => ({ event: toEvent(r), at: { id: Number(r.id), tx: null } }));
}

/** A notification a subscription should send next, as read (before its lease is taken). */
export interface DueNotification {
  subscription: Subscription;
  /** Its target in full (the subscription's `url` is masked; never shown). */
  url: string;
  /** Its secret, to sign with (never shown). */
  secret: string | null;
  /** Where its cursor was when this was read: every later write checks it is still there. */
  from: EventCursor;
  /** The event's place: where the cursor goes once it is sent or dead-lettered. */
  at: EventCursor;
  kind: NotifyKind;
  event: WardenEvent;
}

/** How a send was recorded; `lost` when another host moved the subscription meanwhile. */
export type NotifyOutcome = 'delivered' | 'retry' | 'dead' | 'lost';

/**
 * How far the walk of final events is held back (PostgreSQL): the events committed that it
 * cannot pass yet because an older transaction still runs, the oldest one's time, and which
 * session holds that transaction. Nothing on SQLite.
 */
export interface HeldBack {
  events: number;
  /** How long the oldest of those events has waited (ms); 0 when none waits. */
  age_ms: number;
  /** The oldest transaction still running on the server, in one line, or null. */
  blocker: string | null;
}

export async function eventsHeldBack(db: SqlDb, now: number): Promise<HeldBack> {
  const none: HeldBack = { events: 0, age_ms: 0, blocker: null };
  if (db.dialect !== 'postgres') return none;
  const held = await db.get<{ n: number; at: number | null }>(
    `SELECT count(*) AS n, min(at) AS at FROM events
     WHERE tx >= pg_snapshot_xmin(pg_current_snapshot())`,
  );
  if (!held || Number(held.n) === 0 || held.at === null) return none;
  // Sessions of other roles show their pid and age but may hide their state and query.
  const b = await db.get<{ pid: number; state: string | null; datname: string | null; ms: number }>(
    `SELECT pid, state, datname,
       CAST(EXTRACT(EPOCH FROM clock_timestamp() - xact_start) * 1000 AS BIGINT) AS ms
     FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
     ORDER BY age(backend_xid) DESC LIMIT 1`,
  );
  const blocker = b
    ? `pid ${b.pid} (${b.state ?? 'state hidden'}, database ${b.datname ?? '?'}), its transaction open ${formatDuration(Math.max(0, Number(b.ms)))}`
    : null;
  return { events: Number(held.n), age_ms: Math.max(0, now - Number(held.at)), blocker };
}
