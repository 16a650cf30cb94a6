/*
 * Group commit on PostgreSQL (issue #16): write transactions of one process that queue behind
 * another share the next transaction, as if each had committed alone in order; a member's own
 * error loses none of the others' work. On a real PostgreSQL (WARDEN_TEST_PG_URL); skipped
 * without one, except in CI.
 */
import { describe, expect, it } from 'vitest';
import { WardenError } from '../../src/core/errors.js';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { aboutTheTransaction } from '../../src/store/postgres/tx-line.js';
import type { SqlDb, TxOptions } from '../../src/store/sql/driver.js';
import { waitFor } from '../helpers/host.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const URL = PG_URL;

async function freshDriver(schema = freshPgSchema()): Promise<PgDriver> {
  const driver = await PgDriver.connect({ url: URL ?? '', schema, max: 4 });
  await driver.exec('CREATE TABLE t (x INTEGER NOT NULL UNIQUE)');
  await driver.exec('CREATE TABLE admission_lock (unused BOOLEAN)');
  await driver.exec('CREATE TABLE write_turn (unused BOOLEAN)');
  return driver;
}

/** The transaction a body ran in. */
async function txid(db: SqlDb): Promise<number> {
  const row = await db.get<{ id: string }>('SELECT CAST(txid_current() AS TEXT) AS id');
  return Number(row?.id);
}

/** Inserts `x` and says which transaction it ran in and how many rows it saw. */
function inserting(x: number) {
  return async (db: SqlDb): Promise<{ tx: number; saw: number }> => {
    await db.run('INSERT INTO t (x) VALUES (?)', [x]);
    const seen = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM t');
    return { tx: await txid(db), saw: Number(seen?.n) };
  };
}

async function stored(driver: PgDriver): Promise<number[]> {
  return (await driver.all<{ x: number }>('SELECT x FROM t ORDER BY x')).map((r) => r.x);
}

const LINES: [string, TxOptions | undefined][] = [
  ['SERIALIZABLE writes', undefined],
  ['the admission turn', { lock: 74200002 }],
];

describe('aboutTheTransaction', () => {
  it('takes a lost connection for the transaction’s failure, not a member’s', () => {
    // The connection watch's error, a reset, and the driver's own word for a dropped socket:
    // every member fails with it at once, none is run again alone (each would wait for the
    // server in turn).
    const watch = Object.assign(new Error('PostgreSQL connection … heard nothing'), {
      code: 'ETIMEDOUT',
    });
    expect(aboutTheTransaction(watch)).toBe(true);
    expect(aboutTheTransaction(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(
      true,
    );
    expect(aboutTheTransaction(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(aboutTheTransaction(Object.assign(new Error('admin shutdown'), { code: '57P01' }))).toBe(
      true,
    );
    expect(aboutTheTransaction(Object.assign(new Error('serialize'), { code: '40001' }))).toBe(
      true,
    );
  });

  it('leaves a member’s own error (a refusal, a constraint) to that member', () => {
    expect(aboutTheTransaction(new WardenError('conflict', 'task 3 is running'))).toBe(false);
    expect(aboutTheTransaction(Object.assign(new Error('duplicate'), { code: '23505' }))).toBe(
      false,
    );
    expect(aboutTheTransaction(new Error('a bug'))).toBe(false);
  });
});

describe.skipIf(!URL)('grouped transactions (PostgreSQL)', () => {
  it.each(LINES)(
    '%s: those that queue behind one share the next transaction, in order',
    async (_name, options) => {
      const driver = await freshDriver();
      try {
        const asked = [1, 2, 3, 4, 5].map((x) => driver.tx(inserting(x), options));
        const done = await Promise.all(asked);
        // The first ran alone as soon as it was asked; the four asked while it ran share one.
        const [first, ...rest] = done;
        expect(new Set(rest.map((d) => d.tx)).size).toBe(1);
        expect(rest[0]?.tx).not.toBe(first?.tx);
        // Each saw the writes of those before it, as if each had committed alone.
        expect(done.map((d) => d.saw)).toEqual([1, 2, 3, 4, 5]);
        expect(await stored(driver)).toEqual([1, 2, 3, 4, 5]);
      } finally {
        await driver.close();
      }
    },
  );

  it.each(LINES)(
    "%s: a member's own error fails it alone and the others' work is kept",
    async (_name, options) => {
      const driver = await freshDriver();
      try {
        const refused = new WardenError('conflict', 'refused on purpose');
        const asked = [
          driver.tx(inserting(1), options),
          driver.tx(inserting(2), options),
          driver.tx(async (db) => {
            await db.run('INSERT INTO t (x) VALUES (?)', [3]);
            throw refused;
          }, options),
          // A constraint the database reports is a member's own error too.
          driver.tx(inserting(2), options),
          driver.tx(inserting(4), options),
        ];
        const settled = await Promise.allSettled(asked);
        expect(settled.map((s) => s.status)).toEqual([
          'fulfilled',
          'fulfilled',
          'rejected',
          'rejected',
          'fulfilled',
        ]);
        expect((settled[2] as PromiseRejectedResult).reason).toBe(refused);
        expect(String((settled[3] as PromiseRejectedResult).reason)).toMatch(/unique|duplicate/i);
        // The members that ran again alone each had a transaction of their own.
        const kept = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
        expect(new Set(kept.map((k) => k.tx)).size).toBe(3);
        expect(await stored(driver)).toEqual([1, 2, 4]);
      } finally {
        await driver.close();
      }
    },
  );

  it('a line idle again starts the next transaction at once and alone', async () => {
    const driver = await freshDriver();
    try {
      const a = await driver.tx(inserting(1));
      const b = await driver.tx(inserting(2));
      expect(a.tx).not.toBe(b.tx);
      expect(await stored(driver)).toEqual([1, 2]);
    } finally {
      await driver.close();
    }
  });

  it("SERIALIZABLE writes of two hosts take turns: the second starts after the first's COMMIT", async () => {
    const schema = freshPgSchema();
    const one = await freshDriver(schema);
    const other = await PgDriver.connect({ url: URL ?? '', schema, max: 4 });
    let letGo!: () => void;
    const held = new Promise<void>((r) => (letGo = r));
    const first = one.tx(async (db) => {
      await db.run('INSERT INTO t (x) VALUES (1)');
      await held;
    });
    try {
      // The first holds its turn (its INSERT answered) before the second asks for one.
      await waitFor('the first to hold the turn', () => turnLocked(other, true));
      const second = other.tx(inserting(2));
      // The second (a host of its own, not in the first's line) waits for the turn.
      await waitFor('the second to wait for the turn', () => turnLocked(other, false));
      letGo();
      await first;
      // Its snapshot was taken once its turn came, after the first's COMMIT: it saw that row.
      expect((await second).saw).toBe(2);
    } finally {
      letGo();
      await first.catch(() => undefined);
      await other.close();
      await one.close();
    }
  });
});

/** Whether some transaction holds the write turn (`granted`), or waits for it. */
async function turnLocked(db: SqlDb, granted: boolean): Promise<boolean> {
  const row = await db.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM pg_locks
     WHERE relation = to_regclass('write_turn') AND granted = ${granted ? 'true' : 'false'}`,
  );
  return Number(row?.n ?? 0) > 0;
}
