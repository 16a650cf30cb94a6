import { existsSync } from 'node:fs';
import type { Clock } from '../../core/clock.js';
import { WardenError } from '../../core/errors.js';
import { migrate } from '../sql/migrate.js';
import { SqlStore } from '../sql/sql-store.js';
import { SqliteDriver } from './driver.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

/** The SQLite store; also exposes the driver for backups and change polling. */
export class SqliteStore extends SqlStore {
  constructor(
    readonly sqlite: SqliteDriver,
    clock: Clock,
  ) {
    super(sqlite, clock);
  }
}

/**
 * Opens (and migrates) the SQLite store at `path`. With `create: false` a missing file is an
 * error: a database is never silently recreated.
 */
export async function openSqliteStore(
  path: string,
  clock: Clock,
  options: { create: boolean } = { create: false },
): Promise<SqliteStore> {
  if (!options.create && !existsSync(path)) {
    throw new WardenError(
      'setup',
      `no warden database at ${path}; run \`warden init\` for a new home, or restore warden.db from a backup`,
    );
  }
  const driver = new SqliteDriver(path, { mustExist: !options.create });
  try {
    await migrate(driver, SQLITE_MIGRATIONS);
  } catch (err) {
    await driver.close();
    throw err;
  }
  return new SqliteStore(driver, clock);
}
