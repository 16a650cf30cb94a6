/*
 * A claim whose statement fails on PostgreSQL (its connection cut by `pg_terminate_backend`, a
 * failover, a network cut) fails the claim, and nothing else: the rows it would have given are
 * never read, and their failure must not go unhandled, or Node ends `serve`. Found in a trial
 * cutting several hosts' connections while they claimed (4 `serve` exits in about 45 cuts).
 * Here the claim's statement fails every time, by a trigger on the real runs table. On a real
 * PostgreSQL (WARDEN_TEST_PG_URL); skipped without one, except in CI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import type { Store } from '../../src/store/store.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const ana = person('ana');
const closing: Store[] = [];
afterEach(async () => {
  for (const s of closing.splice(0)) await s.close();
});

describe.skipIf(!PG_URL)('a claim whose statement fails (PostgreSQL)', () => {
  it('fails the claim with its error, and leaves no rejection unhandled', async () => {
    const schema = freshPgSchema();
    const store = await openPgStore({ url: PG_URL ?? '', schema, max: 2 }, new ManualClock());
    closing.push(store);
    await store.addBoard('default', ana);
    await store.addProfile('p', { argv: ['true'] }, ana);
    await store.createTask({ title: 'one', assignee: 'p' }, ana);
    await store.createTask({ title: 'two', assignee: 'p' }, ana);
    const pg = await import('pg');
    const admin = new pg.default.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE FUNCTION ${schema}.cut() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'the claim''s connection was cut'; END $$`);
      await admin.query(
        `CREATE TRIGGER cut BEFORE INSERT ON ${schema}.runs FOR EACH ROW EXECUTE FUNCTION ${schema}.cut()`,
      );
    } finally {
      await admin.end();
    }
    const unhandled: unknown[] = [];
    const listen = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', listen);
    try {
      await expect(
        store.claimRuns({ host: 'h1', maxWorkers: 5, limit: 2, mode: 'spawned' }, '/ws'),
      ).rejects.toThrow(/the claim's connection was cut/);
      // Node says a rejection is unhandled once the microtasks of its turn are done.
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    } finally {
      process.off('unhandledRejection', listen);
    }
    expect(unhandled).toEqual([]);
    // Nothing of the claim stayed: both tasks are still there to claim.
    expect((await store.listTasks({})).map((t) => t.status)).toEqual(['ready', 'ready']);
  });
});
