import { WardenError } from '../../core/errors.js';
import type { SqlDb, SqlDriver } from './driver.js';

/** A numbered schema change. */
export interface Migration {
  version: number;
  sql: string;
}

/** The newest schema version a list of migrations reaches. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * Brings the schema up to the newest migration in one transaction. Refuses a database whose
 * schema is newer than this build knows, so an old binary never writes a newer schema.
 *
 * On PostgreSQL the transaction runs READ COMMITTED (`rowLocked`): its lock (`lockSql`) is
 * what it depends on, and each statement after it sees what the one before it in the turn
 * committed. Under snapshot isolation the snapshot was taken by the lock's own SELECT, before
 * the wait, so every host that waited read the version as it was before the first one
 * migrated and ran the migrations again ("relation already exists"): of hosts starting
 * together on a new database, or on a newer warden, only one started. It also runs before the
 * write turn's table exists (./driver.ts, migration 21), so it must not take that turn.
 */
export async function migrate(
  driver: SqlDriver,
  migrations: readonly Migration[],
  lockSql?: string,
  /** Before upgrading an existing schema: refuses (throws) when it must not be upgraded now. */
  beforeUpgrade?: (db: SqlDb, current: number, latest: number) => Promise<void>,
): Promise<number> {
  const latest = latestVersion(migrations);
  return driver.tx(
    async (db) => {
      // PostgreSQL: hosts starting together take turns (a transaction-level advisory lock).
      if (lockSql !== undefined) await db.exec(lockSql);
      await db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      const row = await db.get<{ value: string }>(
        "SELECT value FROM meta WHERE key = 'schema_version'",
      );
      const current = row ? Number(row.value) : 0;
      if (current > latest) {
        throw new WardenError(
          'setup',
          `the database schema is version ${current}, newer than this warden understands (${latest}); upgrade warden to use it`,
          { current, latest },
        );
      }
      if (current > 0 && current < latest) await beforeUpgrade?.(db, current, latest);
      for (const m of migrations) {
        if (m.version > current) await db.exec(m.sql);
      }
      if (current !== latest) {
        await db.run(
          "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          [String(latest)],
        );
      }
      return latest;
    },
    { rowLocked: true },
  );
}
