import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import type { SqlDb } from '../../src/store/sql/driver.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';

/**
 * A run a person's stop fenced before the stop intent had its own column kept the intent in
 * its reason's `extra`. The migration that adds the column moves it, so a `serve` upgraded
 * while such a run ends still applies what the person asked for. Both backends.
 */
const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI)
  throw new Error('WARDEN_TEST_PG_URL is not set: the PostgreSQL suite must run in CI');

const ana = person('ana');
const schemas: string[] = [];
const dirs: string[] = [];

/** The data move of the migration that added `runs.stop_intent` (the column exists already). */
function dataMove(migrations: readonly { sql: string }[]): string[] {
  const m = migrations.find((x) => x.sql.includes('ADD COLUMN stop_intent'));
  if (!m) throw new Error('no migration adds runs.stop_intent');
  return m.sql
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.startsWith('UPDATE'));
}

async function check(
  store: Store,
  db: SqlDb,
  migrations: readonly { sql: string }[],
): Promise<void> {
  await store.addBoard('default', ana);
  await store.addProfile('p', { argv: ['true'] }, ana);
  const legacy = {
    rule: 'stopped_by',
    message: 'stopped by ana',
    extra: { pid: 12, requeue: true, reassign: null, block_kind: 'transient' },
  };
  const plain = { rule: 'stall_timeout', message: 'silent' };
  const ids: number[] = [];
  for (const reason of [legacy, plain]) {
    await store.createTask({ title: 't', assignee: 'p' }, ana);
    const [c] = await store.claimRuns(
      { host: 'h1', maxWorkers: 9, limit: 1, mode: 'spawned' },
      null,
    );
    if (!c) throw new Error('nothing claimed');
    await db.run("UPDATE runs SET state = 'ending', reason = ?, stop_intent = NULL WHERE id = ?", [
      JSON.stringify(reason),
      c.run.id,
    ]);
    ids.push(c.run.id);
  }
  for (const statement of dataMove(migrations)) await db.exec(statement);
  const [stopped, stalled] = await Promise.all(ids.map((id) => store.getRun(id)));
  expect(stopped?.stop_intent).toEqual({
    requeue: true,
    archive: false,
    now: false,
    reassign: null,
    kind: 'transient',
  });
  expect(stalled?.stop_intent).toBeNull();
  // The run closes as the person asked: requeued, not blocked.
  const task = await store.finishRun(
    ids[0] ?? 0,
    { outcome: 'stopped', reason: { rule: 'stopped_by', message: 'stopped by ana' } },
    { host: 'h1', config: {} },
  );
  expect(task?.status).toBe('ready');
}

afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (!URL) return;
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.end();
});

describe('moving a stop intent out of the reason', () => {
  it('on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-intent-'));
    dirs.push(dir);
    const store = await openSqliteStore(join(dir, 'warden.db'), new ManualClock(), {
      create: true,
    });
    try {
      await check(store, store.sqlite, SQLITE_MIGRATIONS);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!URL)('on PostgreSQL', async () => {
    const schema = `warden_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    const store = await openPgStore({ url: URL ?? '', schema, max: 2 }, new ManualClock());
    try {
      await check(store, store.pg, PG_MIGRATIONS);
    } finally {
      await store.close();
    }
  });
});
