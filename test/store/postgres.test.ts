import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { WardenError } from '../../src/core/errors.js';
import { changesChannel } from '../../src/store/postgres/driver.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import { toPgPlaceholders } from '../../src/store/postgres/placeholders.js';
import { runApplySuite } from './apply-suite.js';
import { runGcSuite } from './gc-suite.js';
import { runScheduleSuite } from './schedule-suite.js';
import { runWorktreeSuite } from './worktree-suite.js';
import { runLlmSuite } from './llm-suite.js';
import { runTimelineSuite } from './timeline-suite.js';
import { runPeopleSuite } from './people-suite.js';
import { runNotifySuite } from './notify-suite.js';
import { runEventWalkSuite } from './event-walk-suite.js';
import { runInboxSuite } from './inbox-suite.js';
import { runReportSuite } from './report-suite.js';
import { schemaClient, settled } from '../helpers/pg-clients.js';
import { runRunSuite } from './runs-suite.js';
import { runStoreSuite } from './suite.js';
import type { StoreFixture } from './suite.js';

/**
 * The store contract on a real PostgreSQL (WARDEN_TEST_PG_URL; .ci/run sets it and starts the
 * server). Each test gets a fresh schema. In CI a missing URL fails rather than skips.
 */
const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI)
  throw new Error('WARDEN_TEST_PG_URL is not set: the PostgreSQL suite must run in CI');

const schemas: string[] = [];

async function makePg(): Promise<StoreFixture> {
  const schema = `warden_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  const clock = new ManualClock();
  const store = await openPgStore({ url: URL ?? '', schema, max: 4 }, clock);
  await store.addBoard('default', person('ana'));
  return { store, clock, db: store.pg, cleanup: () => store.close() };
}

afterAll(async () => {
  if (!URL) return;
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.end();
});

describe.skipIf(!URL)('PostgreSQL', () => {
  runStoreSuite('postgres', makePg);
  runRunSuite('postgres', makePg);
  runGcSuite('postgres', makePg);
  runWorktreeSuite('postgres', makePg);
  runLlmSuite('postgres', makePg);
  runTimelineSuite('postgres', makePg);
  runPeopleSuite('postgres', makePg);
  runInboxSuite('postgres', makePg);
  runReportSuite('postgres', makePg);
  runScheduleSuite('postgres', makePg);
  runApplySuite('postgres', makePg);
  runNotifySuite('postgres', makePg);
  runEventWalkSuite('postgres', makePg);

  it('refuses a schema newer than this build, and an unreachable server, with one clear error', async () => {
    const f = await makePg();
    await f.store.close();
    const schema = schemas.at(-1) ?? '';
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query(`UPDATE ${schema}.meta SET value = '999' WHERE key = 'schema_version'`);
    await client.end();
    const err = await openPgStore({ url: URL ?? '', schema }, new ManualClock()).catch(
      (e: unknown) => e,
    );
    expect((err as WardenError).message).toMatch(/schema is version 999, newer than this warden/);
    const down = await openPgStore(
      { url: 'postgres://nobody@127.0.0.1:1/x' },
      new ManualClock(),
    ).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(WardenError);
    expect((down as WardenError).code).toBe('unavailable');
    expect((down as WardenError).message).toMatch(
      /^cannot reach PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/x: .+; is it running\? try again, or check WARDEN_DB$/,
    );
  });
});

describe('placeholders', () => {
  it('numbers ? outside quotes only', () => {
    expect(toPgPlaceholders("SELECT ? AS a, '?' AS b, \"x?\" AS c WHERE d = ? AND e = '??'")).toBe(
      "SELECT $1 AS a, '?' AS b, \"x?\" AS c WHERE d = $2 AND e = '??'",
    );
  });
});

describe.skipIf(!URL)('PostgreSQL prepared statements', () => {
  it('keeps working when another host adds a column under its prepared SELECT *, in and out of transactions', async () => {
    const f = await makePg();
    const schema = schemas.at(-1) ?? '';
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    try {
      const ana = person('ana');
      const t = await f.store.createTask({ title: 'before' }, ana);
      // Prepared on every pooled connection that reads it (more reads than connections).
      for (let i = 0; i < 8; i++) expect((await f.store.getTask(t.id)).title).toBe('before');
      await admin.query(`ALTER TABLE ${schema}.tasks ADD COLUMN newer_warden INTEGER`);
      expect((await f.store.getTask(t.id)).title).toBe('before');
      // A write transaction that reads the task (SELECT * inside it) is tried again whole.
      await f.store.editTask(t.id, { title: 'after' }, ana);
      for (let i = 0; i < 8; i++) expect((await f.store.getTask(t.id)).title).toBe('after');
    } finally {
      await admin.end();
      await f.cleanup();
    }
  });
});

describe.skipIf(!URL)('PostgreSQL wake-ups', () => {
  const waitFor = async (what: string, ok: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('notices another connection’s commit through LISTEN, and listens again after the connection is cut', async () => {
    const a = await makePg();
    const schema = schemas.at(-1) ?? '';
    const b = await openPgStore({ url: URL ?? '', schema, max: 2 }, new ManualClock());
    let changes = 0;
    const stop = (a.store as Awaited<ReturnType<typeof openPgStore>>).watchChanges(
      () => (changes += 1),
    );
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    // This schema's listeners only: other test files on the server listen to channels of their own.
    const listeners = async (): Promise<number[]> =>
      (
        await admin.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()',
          [`LISTEN ${changesChannel(schema)}`],
        )
      ).rows.map((r) => r.pid);
    try {
      await waitFor('the listener to start', () => changes >= 1);
      const before = changes;
      await b.createTask({ title: 'from another host' }, person('bo'));
      await waitFor('a notification', () => changes > before);
      // Cut every LISTEN connection of this schema: the watcher must notice and listen again.
      for (const pid of await listeners())
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      const cut = changes;
      await waitFor('the listener to come back', () => changes > cut);
      const back = changes;
      await b.createTask({ title: 'after the cut' }, person('bo'));
      await waitFor('a notification after the cut', () => changes > back);
    } finally {
      stop();
      await admin.end();
      await b.close();
      await a.cleanup();
    }
  });

  it('is not woken by its own commits, those on the connection it opened first too', async () => {
    const a = await makePg();
    const schema = schemas.at(-1) ?? '';
    // One connection: the one opened to check the schema, before anything else was set up.
    const own = await openPgStore({ url: URL ?? '', schema, max: 1 }, new ManualClock());
    const other = await openPgStore({ url: URL ?? '', schema, max: 1 }, new ManualClock());
    let changes = 0;
    const stop = own.watchChanges(() => (changes += 1));
    try {
      await waitFor('the listener to start', () => changes >= 1);
      const before = changes;
      for (let i = 0; i < 3; i++) await own.createTask({ title: `own ${i}` }, person('ana'));
      await other.createTask({ title: 'from another host' }, person('bo'));
      await waitFor('the other host’s notification', () => changes > before);
      // Notifications come in commit order: any of its own would have come first.
      expect(changes).toBe(before + 1);
    } finally {
      stop();
      await own.close();
      await other.close();
      await a.cleanup();
    }
  });
});

describe.skipIf(!URL)('PostgreSQL event cursors', () => {
  it('never skip an event whose transaction commits after a later one', async () => {
    const f = await makePg();
    const schema = schemas.at(-1) ?? '';
    const slow = await schemaClient(schema);
    try {
      // The cursor starts after every event so far: none may be held back by other files'.
      await settled(f.db);
      const cursor =
        (await f.store.listEvents({ limit: 1, newest: true, final: true }))[0]?.id ?? 0;
      // A transaction takes an event id and stays open...
      await slow.query('BEGIN');
      await slow.query(
        `INSERT INTO ${schema}.events (board, actor, kind, payload, at) VALUES ('default', 'person:slow', 'task_commented', '{}', 1)`,
      );
      // ...while a later one commits.
      await f.store.createTask({ title: 'fast' }, person('ana'));
      await settled(f.db);
      expect(await f.store.listEvents({ after_id: cursor })).toEqual([]);
      await slow.query('COMMIT');
      await settled(f.db);
      const seen = await f.store.listEvents({ after_id: cursor });
      expect(seen.map((e) => e.actor)).toEqual(['person:slow', 'person:ana']);
    } finally {
      await slow.end();
      await f.cleanup();
    }
  });
});
