/*
 * Pipelined transactions on PostgreSQL (issue #16): a transaction's BEGIN travels with its first
 * statement, and a write nobody reads the answer of (`defer`) with the statement or COMMIT after
 * it, one round trip each, and so does a statement whose rows are read after the transaction
 * (`allLater`) with the COMMIT. None of that weakens the transaction: a body that throws leaves
 * nothing, and a deferred write that fails fails the transaction with its own error. The round
 * trips are counted at a real TCP relay between the driver and the server. On a real PostgreSQL
 * (WARDEN_TEST_PG_URL); skipped without one, except in CI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PgDriver } from '../../src/store/postgres/driver.js';
import type { SqlDb, TxOptions } from '../../src/store/sql/driver.js';
import { everyRowMatched, exactly } from '../../src/store/sql/exactly.js';
import { FlightCounter } from '../helpers/flight-counter.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const URL = PG_URL;

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function freshDriver(url = URL ?? ''): Promise<PgDriver> {
  const driver = await PgDriver.connect({ url, schema: freshPgSchema(), max: 1 });
  closing.push(() => driver.close());
  await driver.exec('CREATE TABLE t (x INTEGER NOT NULL UNIQUE)');
  await driver.exec('CREATE TABLE admission_lock (unused BOOLEAN)');
  await driver.exec('CREATE TABLE write_turn (unused BOOLEAN)');
  return driver;
}

/** A fresh driver whose connection goes through a relay counting its round trips. */
async function relayedDriver(): Promise<{ relay: FlightCounter; driver: PgDriver }> {
  const relay = await FlightCounter.start(new globalThis.URL(URL ?? ''));
  closing.push(() => relay.close());
  return { relay, driver: await freshDriver(relay.url(new globalThis.URL(URL ?? ''))) };
}

async function stored(driver: PgDriver): Promise<number[]> {
  return (await driver.all<{ x: number }>('SELECT x FROM t ORDER BY x')).map((r) => r.x);
}

const KINDS: [string, TxOptions | undefined][] = [
  ['SERIALIZABLE writes', undefined],
  ['the admission turn', { lock: 74200002 }],
  ['row-locked writes', { rowLocked: true }],
];

describe.skipIf(!URL)('pipelined transactions (PostgreSQL)', () => {
  it.each(KINDS)(
    '%s: BEGIN and the first statement share a round trip, a deferred write and the COMMIT another',
    async (_name, options) => {
      const { relay, driver } = await relayedDriver();
      const before = relay.flights;
      await driver.tx(async (db) => {
        await db.run('INSERT INTO t (x) VALUES (?)', [1]);
        await db.get('SELECT COUNT(*) AS n FROM t');
        await db.defer('INSERT INTO t (x) VALUES (?)', [2]);
      }, options);
      // BEGIN + INSERT, the SELECT, the deferred INSERT + COMMIT: three, where one statement
      // at a time took five.
      expect(relay.flights - before).toBe(3);
      expect(await stored(driver)).toEqual([1, 2]);
    },
  );

  it.each(KINDS)(
    '%s: a body that throws after its first write leaves nothing',
    async (_name, options) => {
      const driver = await freshDriver();
      const refused = new Error('refused on purpose');
      await expect(
        driver.tx(async (db) => {
          await db.run('INSERT INTO t (x) VALUES (?)', [1]);
          throw refused;
        }, options),
      ).rejects.toBe(refused);
      expect(await stored(driver)).toEqual([]);
    },
  );

  it.each(KINDS)(
    '%s: a deferred write that fails fails the COMMIT with its own error and leaves nothing',
    async (_name, options) => {
      const driver = await freshDriver();
      await driver.tx((db) => db.run('INSERT INTO t (x) VALUES (?)', [1]), options);
      const failed = driver.tx(async (db) => {
        await db.run('INSERT INTO t (x) VALUES (?)', [2]);
        await db.defer('INSERT INTO t (x) VALUES (?)', [1]);
      }, options);
      // The unique violation itself (23505), not the aborted transaction the COMMIT found.
      await expect(failed).rejects.toMatchObject({ code: '23505' });
      expect(await stored(driver)).toEqual([1]);
      // The connection is sound afterwards.
      await driver.tx((db) => db.run('INSERT INTO t (x) VALUES (?)', [3]), options);
      expect(await stored(driver)).toEqual([1, 3]);
    },
  );

  it.each(KINDS)(
    '%s: a deferred write that must change one row fails the transaction when it changes none',
    async (_name, options) => {
      const driver = await freshDriver();
      await driver.tx((db) => db.run('INSERT INTO t (x) VALUES (?)', [1]), options);
      const bump = (x: number) =>
        exactly(
          'WITH bumped AS (UPDATE t SET x = x + 10 WHERE x = ? RETURNING x)',
          'bumped',
          1,
          [x],
          `row ${x} vanished`,
        );
      const failed = driver.tx(async (db) => {
        await db.run('INSERT INTO t (x) VALUES (?)', [2]);
        const { sql, params } = bump(7);
        await db.defer(sql, params);
      }, options);
      // Failed on the server, so the COMMIT sent behind it cannot commit.
      await expect(failed).rejects.toThrow('row 7 vanished');
      expect(await stored(driver)).toEqual([1]);
      await driver.tx(async (db) => {
        const { sql, params } = bump(1);
        await db.defer(sql, params);
      }, options);
      expect(await stored(driver)).toEqual([11]);
    },
  );

  it.each(KINDS)(
    '%s: a statement whose rows are read after the transaction goes with the COMMIT',
    async (_name, options) => {
      const { relay, driver } = await relayedDriver();
      const before = relay.flights;
      const later = await driver.tx(async (db) => {
        await db.run('INSERT INTO t (x) VALUES (?)', [1]);
        return db.allLater<{ x: number }>('INSERT INTO t (x) VALUES (?), (?) RETURNING x', [2, 3]);
      }, options);
      // BEGIN + INSERT, then the later INSERT + COMMIT: two.
      expect(relay.flights - before).toBe(2);
      expect((await later.rows).map((r) => r.x)).toEqual([2, 3]);
      expect(await stored(driver)).toEqual([1, 2, 3]);
    },
  );

  it.each(KINDS)(
    '%s: a later statement whose every row must match fails the transaction when one does not',
    async (_name, options) => {
      const driver = await freshDriver();
      await driver.tx((db) => db.run('INSERT INTO t (x) VALUES (?), (?)', [1, 2]), options);
      const bump = (db: SqlDb, xs: number[]) =>
        db.allLater<{ x: number }>(
          `WITH v AS (SELECT * FROM unnest(CAST(? AS INTEGER[])) AS v(x)),
            u AS (UPDATE t SET x = t.x + 10 FROM v WHERE t.x = v.x RETURNING v.x AS was)
           SELECT v.x, ${everyRowMatched('u.was')} AS one FROM v LEFT JOIN u ON u.was = v.x`,
          [`{${xs.join(',')}}`, xs.length, 'a row to bump vanished'],
        );
      // Its rows are never read, as a body that returned before them never reads them: the
      // COMMIT sent behind it still fails, with its error.
      const failed = driver.tx(async (db) => {
        await db.run('INSERT INTO t (x) VALUES (?)', [3]);
        return bump(db, [1, 7]);
      }, options);
      await expect(failed).rejects.toThrow('a row to bump vanished');
      expect(await stored(driver)).toEqual([1, 2]);
      const later = await driver.tx((db) => bump(db, [1, 2]), options);
      expect((await later.rows).map((r) => r.x).sort()).toEqual([1, 2]);
      expect(await stored(driver)).toEqual([11, 12]);
    },
  );

  it('a deferred write that fails is the failure of the statement after it', async () => {
    const driver = await freshDriver();
    await driver.tx((db) => db.run('INSERT INTO t (x) VALUES (?)', [1]));
    let next: unknown;
    await expect(
      driver.tx(async (db) => {
        await db.defer('INSERT INTO t (x) VALUES (?)', [1]);
        try {
          await db.get('SELECT COUNT(*) AS n FROM t');
        } catch (err) {
          next = err;
          throw err;
        }
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(next).toMatchObject({ code: '23505' });
    expect(await stored(driver)).toEqual([1]);
  });
});
