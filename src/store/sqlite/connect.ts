import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { WardenError } from '../../core/errors.js';

export type Sqlite = Database.Database;

let urisEnabled = false;

/**
 * Loads the native module with URI file names allowed, which `immutable=1` needs. The module
 * reads `SQLITE_USE_URI` once, when it loads, so this runs before any connection is made; the
 * variable is put back at once so workers do not inherit it. Names not starting with `file:`
 * are paths as before, and warden's paths are absolute.
 */
export function loadSqlite(): void {
  if (urisEnabled) return;
  urisEnabled = true;
  const before = process.env.SQLITE_USE_URI;
  process.env.SQLITE_USE_URI = '1';
  try {
    new Database(':memory:').close();
  } finally {
    if (before === undefined) delete process.env.SQLITE_USE_URI;
    else process.env.SQLITE_USE_URI = before;
  }
}

/** Whether a WAL file beside `path` holds frames (more than its 32-byte header). */
function walHasFrames(path: string): boolean {
  try {
    return statSync(`${path}-wal`).size > 32;
  } catch {
    return false;
  }
}

function cannotShareWal(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_CANTOPEN') ||
      code.startsWith('SQLITE_IOERR') ||
      code.startsWith('SQLITE_READONLY'))
  );
}

/** A `file:` URI for an absolute path, with the characters URIs reserve escaped. */
function fileUri(path: string, query: string): string {
  const escaped = resolve(path)
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
  return `file:${escaped}?${query}`;
}

/** A read-only connection, and whether it had to treat the file as immutable. */
export interface ReadOnlyConnection {
  db: Sqlite;
  immutable: boolean;
}

/**
 * Opens `path` read-only: nothing is ever written to the file through it, and it never
 * checkpoints. A WAL database needs its `-shm` file, which SQLite creates beside the database
 * when it can. On a read-only file system (or a full disk) it cannot; if no `-wal` with frames
 * is there either, the file alone is the whole database, and it is opened as immutable
 * (`immutable=1`: no locks, no `-shm`). With frames in a `-wal` that cannot be shared, the
 * error stands: reading the file alone would miss committed changes.
 */
export function openReadOnly(path: string): ReadOnlyConnection {
  loadSqlite();
  let db: Sqlite | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    // The WAL index is opened by the first read, so a missing -shm fails here.
    db.pragma('schema_version', { simple: true });
    return { db, immutable: false };
  } catch (err) {
    db?.close();
    if (!cannotShareWal(err)) throw err;
    if (walHasFrames(path)) {
      throw new WardenError(
        'storage',
        `${path} cannot be read here: its ${basename(path)}-wal holds changes not yet in the file, and SQLite needs to make ${basename(path)}-shm beside it to read them (${(err as { code?: string }).code ?? 'SQLITE_CANTOPEN'}), which this read-only or full file system refuses; mount it read-write once (any warden command then folds the WAL in), or copy the home, with its -wal, to a writable place`,
        { path, cause: 'read_only' },
      );
    }
  }
  return { db: openImmutable(path), immutable: true };
}

/**
 * Opens a file nobody else writes (a backup warden has just made) read-only and immutable:
 * no locks, no `-shm` or `-wal` beside it, nothing written.
 */
export function openImmutable(path: string): Sqlite {
  loadSqlite();
  return new Database(fileUri(path, 'immutable=1'), { readonly: true, fileMustExist: true });
}
