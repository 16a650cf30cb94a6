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
 * Before issue #14 every block was `needs_input`, a task warden gave up on as much as a real
 * question. The migration that types blocks gives the ones warden made the kind `failed` and a
 * spent budget's the kind `budget`, and leaves a worker's or a person's own. Both backends.
 */
const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI)
  throw new Error('WARDEN_TEST_PG_URL is not set: the PostgreSQL suite must run in CI');

const ana = person('ana');
const schemas: string[] = [];
const dirs: string[] = [];

/** The data move of the migration that typed blocks (its columns exist already). */
function dataMove(migrations: readonly { sql: string }[]): string[] {
  const m = migrations.find((x) => x.sql.includes("SET block_kind = 'failed'"));
  if (!m) throw new Error('no migration types blocks');
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
  const rules = ['gave_up', 'stall_loop', 'config_error', 'budget', 'worker', 'person'];
  const ids: number[] = [];
  for (const rule of rules) {
    const t = await store.createTask({ title: rule }, ana);
    // As a version before #14 left it: every block needs_input.
    await db.run(
      "UPDATE tasks SET status = 'blocked', block_kind = 'needs_input', block_rule = ?, block_reason = ? WHERE id = ?",
      [rule, `${rule}: why`, t.id],
    );
    ids.push(t.id);
  }
  for (const statement of dataMove(migrations)) await db.exec(statement);
  const kinds = await Promise.all(ids.map(async (id) => (await store.getTask(id)).block_kind));
  expect(kinds).toEqual(['failed', 'failed', 'failed', 'budget', 'needs_input', 'needs_input']);
}

afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (!URL) return;
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.end();
});

describe('typing the blocks made before issue #14', () => {
  it('on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-kinds-'));
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
