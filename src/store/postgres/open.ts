import type { Clock } from '../../core/clock.js';
import { migrate } from '../sql/migrate.js';
import { SqlStore } from '../sql/sql-store.js';
import { upgradeGuard } from '../sql/upgrade-guard-lazy.js';
import { PgDriver } from './driver.js';
import type { PgOptions } from './driver.js';
import { PG_MIGRATIONS } from './migrations.js';

/** The PostgreSQL store. */
export class PgStore extends SqlStore {
  constructor(
    readonly pg: PgDriver,
    clock: Clock,
  ) {
    super(pg, clock);
  }
}

/** Hosts starting together take turns to migrate (a transaction-level advisory lock). */
export const MIGRATION_LOCK = 'SELECT pg_advisory_xact_lock(74200001)';

/**
 * Connects to PostgreSQL (`WARDEN_DB=postgres://...`) and brings its schema up to date under
 * an advisory lock, so hosts starting together migrate once.
 */
export async function openPgStore(options: PgOptions, clock: Clock): Promise<PgStore> {
  const driver = await PgDriver.connect(options);
  try {
    await migrate(driver, PG_MIGRATIONS, MIGRATION_LOCK, upgradeGuard(clock, null));
  } catch (err) {
    await driver.close();
    throw err;
  }
  return new PgStore(driver, clock);
}
