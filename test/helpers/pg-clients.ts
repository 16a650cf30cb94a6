import pg from 'pg';
import type { SqlDb } from '../../src/store/sql/driver.js';

/**
 * Raw connections beside a PostgreSQL store (WARDEN_TEST_PG_URL), for tests that hold a
 * transaction open while the store reads: how events come to commit out of id order.
 */

/** The schema a store's database works in. */
export async function currentSchema(db: SqlDb): Promise<string> {
  return (await db.get<{ s: string }>('SELECT current_schema() AS s'))?.s ?? '';
}

/** The application name of the connections a test holds open in `schema` (see `settled`). */
function holdName(schema: string): string {
  return `warden-test-hold-${schema}`.slice(0, 63);
}

/** A connection of its own to `schema`; `end()` it when done. */
export async function schemaClient(schema: string): Promise<pg.Client> {
  const c = new pg.Client({
    connectionString: process.env.WARDEN_TEST_PG_URL,
    application_name: holdName(schema),
  });
  await c.connect();
  await c.query(`SET search_path TO ${schema}`);
  return c;
}

/** Writes an event of board `default` whose payload's `title` names it. */
export async function insertEvent(
  c: pg.Client,
  title: string,
  kind = 'task_commented',
): Promise<void> {
  await c.query(
    `INSERT INTO events (board, actor, kind, payload, at) VALUES ('default', 'person:t', $1, $2, 1)`,
    [kind, JSON.stringify({ title })],
  );
}

/** The titles `outOfOrder` and a `third` event, in the order they become final. */
export const FINAL_ORDER = ['early, larger id', 'late, smaller id', 'third'] as const;

/** What `outOfOrder` leaves open: `late` to commit, `third` to write more. */
export interface OutOfOrder {
  late: pg.Client;
  third: pg.Client;
  /** Ends all three connections (an open transaction rolls back). */
  close(): Promise<void>;
}

/**
 * Leaves `schema`'s events where paging by id alone goes wrong: a transaction that took its
 * id (xid) first has committed 'early, larger id', while 'late, smaller id' was written by a
 * later transaction, `late`, still open.
 */
export async function outOfOrder(schema: string): Promise<OutOfOrder> {
  const [early, late, third] = [
    await schemaClient(schema),
    await schemaClient(schema),
    await schemaClient(schema),
  ];
  await early.query('BEGIN');
  await early.query('SELECT pg_current_xact_id()');
  await late.query('BEGIN');
  await insertEvent(late, FINAL_ORDER[1]);
  await insertEvent(early, FINAL_ORDER[0]);
  await early.query('COMMIT');
  return {
    late,
    third,
    close: async () => {
      for (const c of [early, late, third]) await c.end();
    },
  };
}

/**
 * Waits until no transaction but this test's own holds (its `schemaClient`s) keeps an event of
 * `db`'s schema from being final. A cursor only walks events older than the oldest transaction
 * running on the whole server, and other test files run beside this one on the same server: a
 * read made while one of theirs is open would miss what this test committed. After this, what a
 * cursor sees depends on this test's own transactions alone. Nothing to wait for on SQLite.
 */
export async function settled(db: SqlDb): Promise<void> {
  if (db.dialect !== 'postgres') return;
  const schema = await currentSchema(db);
  const deadline = Date.now() + 20_000;
  for (;;) {
    // xid (32 bits) beside xid8: the low 32 bits of `tx` are its xid.
    const row = await db.get<{ waiting: number }>(
      `SELECT count(*)::int AS waiting FROM pg_stat_activity
       WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() AND application_name <> ?
         AND backend_xid::text::bigint
           < (SELECT max(tx)::text::numeric % 4294967296 FROM events)`,
      [holdName(schema)],
    );
    if ((row?.waiting ?? 0) === 0) return;
    if (Date.now() > deadline)
      throw new Error('another transaction on the server kept events from being final for 20 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
