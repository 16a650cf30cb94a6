import { WardenError } from '../../core/errors.js';
import type { SqlDriver } from './driver.js';

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
 */
export async function migrate(
  driver: SqlDriver,
  migrations: readonly Migration[],
  lockSql?: string,
): Promise<number> {
  const latest = latestVersion(migrations);
  return driver.tx(async (db) => {
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
  });
}
