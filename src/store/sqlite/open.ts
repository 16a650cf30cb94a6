import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Clock } from '../../core/clock.js';
import { WardenError } from '../../core/errors.js';
import { latestVersion, migrate } from '../sql/migrate.js';
import { SqlStore } from '../sql/sql-store.js';
import { upgradeGuard } from '../sql/upgrade-guard-lazy.js';
import { corruptError, fromSqliteError, notWritable, readOnlyError } from '../storage-errors.js';
import { openReadOnly } from './connect.js';
import type { Sqlite } from './connect.js';
import { SqliteDriver } from './driver.js';
import { checkSqliteHeader } from './header.js';
import { CHECK_NAMES, integrityProblems, problemsText, schemaVersion } from './integrity.js';
import type { IntegrityLevel } from './integrity.js';
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

/** How a command opens the store. */
export interface SqliteOpenOptions {
  /** Make the file when it is missing (`init`, tests). */
  create: boolean;
  /**
   * `read`: the command only reads, so it opens read-only and runs no integrity check (SQLite
   * still checks every page it reads). `write` (the default): the file is checked read-only
   * first, then opened read-write.
   */
  access?: 'read' | 'write';
  /** The check before the first write: `quick` for commands (default), `full` for `serve`. */
  check?: IntegrityLevel;
}

const LATEST = latestVersion(SQLITE_MIGRATIONS);

function newerSchema(current: number): WardenError {
  return new WardenError(
    'setup',
    `the database schema is version ${current}, newer than this warden understands (${LATEST}); upgrade warden to use it`,
    { current, latest: LATEST },
  );
}

/**
 * Checks an existing file before anything may write to it, on a read-only connection (issue
 * #11): the header (an empty, short or foreign file is refused, never given a fresh schema),
 * that it is warden's and not newer than this build, then, unless the command only reads,
 * SQLite's check at `level`. Returns the read-only connection when it is all the command
 * needs (a reading command on an up-to-date schema), else closes it.
 */
function checkBeforeOpening(
  path: string,
  access: 'read' | 'write',
  level: IntegrityLevel,
  create: boolean,
): Sqlite | null {
  const verdict = checkSqliteHeader(path);
  if (!verdict.ok) throw corruptError(path, 'header check', verdict.problem);
  let ro: Sqlite | null = null;
  try {
    ro = openReadOnly(path).db;
    const version = schemaVersion(ro);
    if (version === null || (version === 0 && !create)) {
      throw corruptError(
        path,
        'schema check',
        version === 0
          ? 'it is an empty SQLite database (no tables), not a warden one'
          : 'it is a SQLite database but not a warden one (no schema version in a meta table)',
      );
    }
    if (version > LATEST) throw newerSchema(version);
    if (access === 'read' && version === LATEST) {
      const keep = ro;
      ro = null;
      return keep;
    }
    const denied = notWritable(path);
    if (denied !== null) {
      if (access === 'write') throw readOnlyError(path, denied);
      throw new WardenError(
        'storage',
        `${path} is read-only (${denied}) and its schema is version ${version}, older than this warden needs (${LATEST}); run this warden once on a writable home to migrate it, or use the warden that wrote it`,
        { path, cause: 'read_only' },
      );
    }
    const problems = integrityProblems(ro, level);
    if (problems.length > 0) throw corruptError(path, CHECK_NAMES[level], problemsText(problems));
    return null;
  } catch (err) {
    throw fromSqliteError(err, path) ?? err;
  } finally {
    ro?.close();
  }
}

/**
 * What to do about a home with no `warden.db`. A home of several hosts keeps its board on
 * PostgreSQL and has a `host.secret`: used without `WARDEN_DB`, the advice to init a new home
 * would split its board in two (a trial's operator was told just that).
 */
export function missingDatabaseAdvice(path: string): string {
  return existsSync(join(dirname(path), 'host.secret'))
    ? 'this home has a host.secret, as a home of several hosts on PostgreSQL does: set WARDEN_DB to its postgres:// URL, as its serve has it (a new home here would be a second board)'
    : 'run `warden init` for a new home, or restore warden.db from a backup';
}

/**
 * Opens (and migrates) the SQLite store at `path`. With `create: false` a missing file is an
 * error: a database is never silently recreated. An existing file is checked before it is
 * opened read-write (see `checkBeforeOpening`), so a corrupt, empty or foreign file is refused
 * and left byte for byte as it was.
 */
export async function openSqliteStore(
  path: string,
  clock: Clock,
  options: SqliteOpenOptions = { create: false },
): Promise<SqliteStore> {
  const exists = existsSync(path);
  if (!options.create && !exists) {
    throw new WardenError('setup', `no warden database at ${path}; ${missingDatabaseAdvice(path)}`);
  }
  const readOnly = exists
    ? checkBeforeOpening(path, options.access ?? 'write', options.check ?? 'quick', options.create)
    : null;
  if (readOnly !== null) {
    return new SqliteStore(new SqliteDriver(path, { mustExist: true, readOnly }), clock);
  }
  const driver = new SqliteDriver(path, { mustExist: exists || !options.create });
  try {
    await migrate(driver, SQLITE_MIGRATIONS, undefined, upgradeGuard(clock, path));
  } catch (err) {
    await driver.close();
    throw err;
  }
  return new SqliteStore(driver, clock);
}
