import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import type { SqlDb } from '../../src/store/sql/driver.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';

/**
 * Tests of a migration's data move on both backends: a store at the newest schema, rows put
 * back as an older version left them, then the move's UPDATE statements run again.
 */

const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI)
  throw new Error('WARDEN_TEST_PG_URL is not set: the PostgreSQL suite must run in CI');

/** The UPDATE statements of the migration whose SQL contains `marker`. */
export function dataMove(migrations: readonly { sql: string }[], marker: string): string[] {
  const m = migrations.find((x) => x.sql.includes(marker));
  if (!m) throw new Error(`no migration contains ${marker}`);
  return m.sql
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.startsWith('UPDATE'));
}

export type MigrationCheck = (
  store: Store,
  db: SqlDb,
  migrations: readonly { sql: string }[],
) => Promise<void>;

/** Runs `check` on a fresh SQLite store and, with WARDEN_TEST_PG_URL, a PostgreSQL schema. */
export function onBothBackends(check: MigrationCheck): void {
  const schemas: string[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (!URL) return;
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await client.end();
  });

  it('on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-migration-'));
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
}
