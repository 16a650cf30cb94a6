/*
 * Hosts that start together on one PostgreSQL migrate its schema once, and all of them start:
 * on a new database, and on a schema a newer warden brings up to date. On a real PostgreSQL
 * (WARDEN_TEST_PG_URL); skipped without one, except in CI.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { MIGRATION_LOCK, openPgStore } from '../../src/store/postgres/open.js';
import type { PgStore } from '../../src/store/postgres/open.js';
import { latestVersion, migrate } from '../../src/store/sql/migrate.js';
import type { Migration } from '../../src/store/sql/migrate.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const URL = PG_URL ?? '';
const HOSTS = 4;

/** What each of `HOSTS` calls at once came to; every one must have succeeded. */
async function allTogether<T>(start: () => Promise<T>): Promise<T[]> {
  const settled = await Promise.allSettled(Array.from({ length: HOSTS }, start));
  const failed = settled.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
  expect(failed).toEqual([]);
  return settled.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
}

async function schemaVersion(store: PgStore): Promise<number> {
  const row = await store.pg.get<{ value: string }>(
    "SELECT value FROM meta WHERE key = 'schema_version'",
  );
  return Number(row?.value);
}

describe.skipIf(!PG_URL)('migrating a shared PostgreSQL from several hosts at once', () => {
  it('on a new database, every host starts and the schema is made once', async () => {
    const schema = freshPgSchema();
    const stores = await allTogether(() =>
      openPgStore({ url: URL, schema, max: 2 }, new ManualClock()),
    );
    try {
      for (const s of stores) expect(await schemaVersion(s)).toBe(latestVersion(PG_MIGRATIONS));
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('on a schema a newer warden migrates, every host starts and the new migration runs once', async () => {
    const schema = freshPgSchema();
    const old = await openPgStore({ url: URL, schema, max: 2 }, new ManualClock());
    await old.close();
    // A newer build: one migration more, which fails if it runs twice.
    const newer: Migration[] = [
      ...PG_MIGRATIONS,
      { version: latestVersion(PG_MIGRATIONS) + 1, sql: 'CREATE TABLE made_once (x INTEGER)' },
    ];
    const drivers = await allTogether(() => PgDriver.connect({ url: URL, schema, max: 2 }));
    try {
      const reached = await allTogether(async () => {
        const driver = drivers.pop();
        if (!driver) throw new Error('a host without a connection');
        try {
          return await migrate(driver, newer, MIGRATION_LOCK);
        } finally {
          await driver.close();
        }
      });
      expect(reached).toEqual(Array(HOSTS).fill(latestVersion(newer)));
    } finally {
      for (const d of drivers) await d.close();
    }
  });
});
