import type { Actor } from '../../core/actor.js';
import { formatActor } from '../../core/actor.js';
import { notFound } from '../../core/errors.js';
import { checkSubscription, maskUrl, wants } from '../../core/notify.js';
import { DEAD_LETTER_PAGE, DEAD_LETTER_PAGE_MAX } from '../../core/notify.js';
import type {
  DeadLetter,
  DeadLetterPage,
  NewSubscription,
  NotifyFormat,
  NotifyKind,
  Subscription,
} from '../../core/notify.js';
import type { SqlDb } from './driver.js';
import { getBoard } from './boards.js';
import { eventsAfter, newestCursor } from './notify-cursor.js';
import type { DueNotification, EventCursor, NotifyOutcome } from './notify-cursor.js';
import { taskRow } from './tasks.js';

// Webhook subscriptions (issue #15). Every change to a subscription's delivery state is a
// compare-and-set on its cursor, and a send is made under a lease on the subscription, so
// with several hosts one notification is sent by one host at a time, and a cursor only moves
// forward from where the sender found it.

export interface SubscriptionRow {
  id: number;
  url: string;
  kinds: string;
  format: string;
  board: string | null;
  task_id: number | null;
  secret: string | null;
  cursor_id: number;
  cursor_tx: string | null;
  attempts: number;
  next_at: number | null;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  delivered: number;
  failed: number;
  dead: number;
  created_by: string;
  created_at: number;
}

const num = (v: number | null): number | null => (v === null ? null : Number(v));

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: Number(row.id),
    url: maskUrl(row.url),
    kinds: JSON.parse(row.kinds) as NotifyKind[],
    format: row.format as NotifyFormat,
    board: row.board,
    task_id: num(row.task_id),
    signed: row.secret !== null,
    cursor: Number(row.cursor_id),
    attempts: Number(row.attempts),
    next_at: num(row.next_at),
    last_error: row.last_error,
    delivered: Number(row.delivered),
    failed: Number(row.failed),
    dead: Number(row.dead),
    created_by: row.created_by,
    created_at: Number(row.created_at),
  };
}

function cursorOf(row: SubscriptionRow): EventCursor {
  return { id: Number(row.cursor_id), tx: row.cursor_tx };
}

async function subscriptionRow(db: SqlDb, id: number): Promise<SubscriptionRow> {
  const row = await db.get<SubscriptionRow>('SELECT * FROM notify_subscriptions WHERE id = ?', [
    id,
  ]);
  if (!row) {
    throw notFound(`subscription ${id} does not exist; list them with \`warden notify list\``, {
      id,
    });
  }
  return row;
}

/** Adds a subscription that starts at the newest event: it hears only what happens next. */
export async function addSubscription(
  db: SqlDb,
  now: number,
  input: NewSubscription,
  actor: Actor,
): Promise<Subscription> {
  const checked = checkSubscription(input);
  const board = input.board ?? null;
  const taskId = input.task_id ?? null;
  if (board !== null) await getBoard(db, board);
  if (taskId !== null) await taskRow(db, taskId);
  // The same subscription again (a retry whose answer was lost, or a second `notify add` of one
  // line) is the one there: two would send every notification twice.
  const same = db.dialect === 'postgres' ? 'IS NOT DISTINCT FROM' : 'IS';
  const twins = await db.all<{ id: number; kinds: string }>(
    `SELECT id, kinds FROM notify_subscriptions
     WHERE url = ? AND format = ? AND board ${same} ? AND task_id ${same} ? AND secret ${same} ?
     ORDER BY id`,
    [checked.url, checked.format, board, taskId, checked.secret],
  );
  const wanted = [...checked.kinds].sort().join(',');
  const twin = twins.find(
    (t) => [...(JSON.parse(t.kinds) as string[])].sort().join(',') === wanted,
  );
  if (twin !== undefined) return getSubscription(db, Number(twin.id));
  const cursor = await newestCursor(db);
  const row = await db.get<{ id: number }>(
    `INSERT INTO notify_subscriptions (url, kinds, format, board, task_id, secret, cursor_id, cursor_tx, created_by, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [
      checked.url,
      JSON.stringify(checked.kinds),
      checked.format,
      board,
      taskId,
      checked.secret,
      cursor.id,
      cursor.tx,
      formatActor(actor),
      now,
    ],
  );
  return getSubscription(db, Number(row?.id));
}

/** One subscription, or `not_found`. */
export async function getSubscription(db: SqlDb, id: number): Promise<Subscription> {
  return toSubscription(await subscriptionRow(db, id));
}

/** A subscription's target and secret, for the one who sends (never shown). */
export async function subscriptionTarget(
  db: SqlDb,
  id: number,
): Promise<{ url: string; secret: string | null }> {
  const row = await subscriptionRow(db, id);
  return { url: row.url, secret: row.secret };
}

/** Every subscription, oldest first. */
export async function listSubscriptions(db: SqlDb): Promise<Subscription[]> {
  const rows = await db.all<SubscriptionRow>('SELECT * FROM notify_subscriptions ORDER BY id');
  return rows.map(toSubscription);
}

/** Removes a subscription and its dead letters. */
export async function removeSubscription(db: SqlDb, id: number): Promise<void> {
  await subscriptionRow(db, id);
  await db.run('DELETE FROM notify_dead_letters WHERE subscription_id = ?', [id]);
  await db.run('DELETE FROM notify_subscriptions WHERE id = ?', [id]);
}

const DEAD_LETTER = `SELECT d.id, d.subscription_id, s.url, d.event_id, d.kind, d.attempts, d.error, d.at
  FROM notify_dead_letters d JOIN notify_subscriptions s ON s.id = d.subscription_id`;

function toDeadLetter(r: DeadLetter): DeadLetter {
  return {
    ...r,
    url: maskUrl(r.url),
    id: Number(r.id),
    subscription_id: Number(r.subscription_id),
    event_id: Number(r.event_id),
    attempts: Number(r.attempts),
    at: Number(r.at),
  };
}

/** A page of dead letters (of one subscription), oldest first. */
export async function listDeadLetters(db: SqlDb, page: DeadLetterPage = {}): Promise<DeadLetter[]> {
  const { subscription } = page;
  if (subscription !== undefined) await subscriptionRow(db, subscription);
  const limit = Math.min(page.limit ?? DEAD_LETTER_PAGE, DEAD_LETTER_PAGE_MAX);
  const rows = await db.all<DeadLetter>(
    `${DEAD_LETTER} WHERE d.id > ? ${subscription === undefined ? '' : 'AND d.subscription_id = ?'}
     ORDER BY d.id LIMIT ?`,
    [page.after ?? 0, ...(subscription === undefined ? [] : [subscription]), limit],
  );
  return rows.map(toDeadLetter);
}

/** How many dead letters there are. */
export async function countDeadLetters(db: SqlDb): Promise<number> {
  const row = await db.get<{ n: number }>('SELECT count(*) AS n FROM notify_dead_letters');
  return Number(row?.n ?? 0);
}

/** Deletes the dead letters older than `before` (`warden gc`, with the events it prunes). */
export async function pruneDeadLetters(db: SqlDb, before: number): Promise<void> {
  await db.run('DELETE FROM notify_dead_letters WHERE at < ?', [before]);
}

/** One dead letter, or `not_found`. */
export async function getDeadLetter(db: SqlDb, id: number): Promise<DeadLetter> {
  const dead = await db.get<DeadLetter>(`${DEAD_LETTER} WHERE d.id = ?`, [id]);
  if (!dead) {
    throw notFound(`dead letter ${id} does not exist; list them with \`warden notify dead\``, {
      id,
    });
  }
  return toDeadLetter(dead);
}

/** Removes a dead letter (sent by hand at last); `not_found` if there is none. */
export async function removeDeadLetter(db: SqlDb, id: number): Promise<void> {
  await getDeadLetter(db, id);
  await db.run('DELETE FROM notify_dead_letters WHERE id = ?', [id]);
}

/**
 * Subscriptions that may send now: no backoff to wait out, no other host's live lease, and
 * not `busy` (this host's sends in flight, whose events need no reading again).
 */
export async function readySubscriptions(
  db: SqlDb,
  now: number,
  host: string,
  busy: readonly number[] = [],
): Promise<SubscriptionRow[]> {
  const rows = await db.all<SubscriptionRow>(
    `SELECT * FROM notify_subscriptions
     WHERE (next_at IS NULL OR next_at <= ?)
       AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
     ORDER BY id`,
    [now, host, now],
  );
  return rows.filter((r) => !busy.includes(Number(r.id)));
}

/**
 * The next notification of a subscription: the first event after its cursor that it wants,
 * among the next `batch` final events. When none of them is wanted, `skip` moves the cursor
 * past the last one read, so they are not read again.
 */
export async function nextFor(
  db: SqlDb,
  row: SubscriptionRow,
  batch: number,
): Promise<{
  due: DueNotification | null;
  skip: { id: number; from: EventCursor; to: EventCursor } | null;
}> {
  const sub = toSubscription(row);
  const from = cursorOf(row);
  const events = await eventsAfter(db, from, batch);
  for (const e of events) {
    const kind = wants(sub, e.event);
    if (kind !== null) {
      return {
        due: {
          subscription: sub,
          url: row.url,
          secret: row.secret,
          from,
          at: e.at,
          kind,
          event: e.event,
        },
        skip: null,
      };
    }
  }
  const last = events.at(-1);
  return { due: null, skip: last ? { id: sub.id, from, to: last.at } : null };
}

const SAME_CURSOR = 'cursor_id = ? AND cursor_tx IS NOT DISTINCT FROM ?';

/** Moves a cursor past events it does not want, if nobody moved it meanwhile. */
export async function skipTo(
  db: SqlDb,
  id: number,
  from: EventCursor,
  to: EventCursor,
): Promise<void> {
  await db.run(
    `UPDATE notify_subscriptions SET cursor_id = ?, cursor_tx = ? WHERE id = ? AND ${SAME_CURSOR}`,
    [to.id, to.tx, id, from.id, from.tx],
  );
}

/**
 * Takes the lease on a subscription to send its next notification, if it is still where the
 * sender read it, its backoff has passed and no other host holds a live lease.
 */
export async function claim(
  db: SqlDb,
  now: number,
  due: DueNotification,
  host: string,
  leaseMs: number,
): Promise<boolean> {
  const changed = await db.run(
    `UPDATE notify_subscriptions SET lease_owner = ?, lease_until = ?
     WHERE id = ? AND ${SAME_CURSOR} AND (next_at IS NULL OR next_at <= ?)
       AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)`,
    [host, now + leaseMs, due.subscription.id, due.from.id, due.from.tx, now, host, now],
  );
  return changed === 1;
}

/**
 * Records how a send went, under the sender's lease: delivered moves the cursor past the event;
 * a failure waits `retryInMs`, or, at the last attempt, leaves the notification in the dead
 * letters and moves on. `lost` when the lease or the cursor changed meanwhile (nothing written).
 */
export async function record(
  db: SqlDb,
  now: number,
  due: DueNotification,
  host: string,
  result: { ok: true } | { ok: false; error: string; attempts: number; retryInMs: number },
): Promise<NotifyOutcome> {
  const id = due.subscription.id;
  const mine = `id = ? AND ${SAME_CURSOR} AND lease_owner = ?`;
  const where = [id, due.from.id, due.from.tx, host];
  if (result.ok) {
    const n = await db.run(
      `UPDATE notify_subscriptions SET cursor_id = ?, cursor_tx = ?, attempts = 0, next_at = NULL,
         last_error = NULL, lease_owner = NULL, lease_until = NULL, delivered = delivered + 1
       WHERE ${mine}`,
      [due.at.id, due.at.tx, ...where],
    );
    return n === 1 ? 'delivered' : 'lost';
  }
  const row = await db.get<{ attempts: number }>(
    `SELECT attempts FROM notify_subscriptions WHERE ${mine}`,
    where,
  );
  if (!row) return 'lost';
  const attempts = Number(row.attempts) + 1;
  if (attempts >= result.attempts) {
    // PostgreSQL reads committed rows: another host may have taken the lease since the SELECT,
    // so the dead letter is written only if this update still found the row as it was.
    const n = await db.run(
      `UPDATE notify_subscriptions SET cursor_id = ?, cursor_tx = ?, attempts = 0, next_at = NULL,
         last_error = ?, lease_owner = NULL, lease_until = NULL, failed = failed + 1, dead = dead + 1
       WHERE ${mine}`,
      [due.at.id, due.at.tx, result.error, ...where],
    );
    if (n !== 1) return 'lost';
    await db.run(
      'INSERT INTO notify_dead_letters (subscription_id, event_id, kind, attempts, error, at) VALUES (?, ?, ?, ?, ?, ?)',
      [id, due.event.id, due.kind, attempts, result.error, now],
    );
    return 'dead';
  }
  await db.run(
    `UPDATE notify_subscriptions SET attempts = ?, next_at = ?, last_error = ?, lease_owner = NULL,
       lease_until = NULL, failed = failed + 1
     WHERE ${mine}`,
    [attempts, now + result.retryInMs, result.error, ...where],
  );
  return 'retry';
}
