import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { SQLITE_DEFAULTS } from '../core/defaults.js';
import { WardenError } from '../core/errors.js';

/**
 * Storage errors in words (issue #11): a full disk, a read-only home, a lock held too long, a
 * corrupt file and an unreachable PostgreSQL each become one line that says what happened to
 * which file and what to do, with an exit code of its own (5 try again, 6 fix the storage,
 * 7 restore a backup). Anything else is left as it is.
 */

/** The way back from a corrupt or lost database, said the same way everywhere. */
export const RESTORE_HINT =
  'restore a backup with `warden restore BACKUP`, or move the file away and run `warden init` for a new home (docs/operations.md#backups)';

/** A database file that failed a check: it is not written to. */
export function corruptError(path: string, check: string, problem: string): WardenError {
  return new WardenError(
    'corrupt',
    `${path} failed the ${check}: ${problem}; nothing was written to it. To go on, ${RESTORE_HINT}`,
    { path, check, problem },
  );
}

/** Free bytes for unprivileged writers on the file system holding `path`, if it can be read. */
export function freeBytes(path: string): number | null {
  return diskSpace(path)?.free ?? null;
}

/** The space free to this user on the disk of `path`, and the disk's size, in bytes. */
export function diskSpace(path: string): { free: number; size: number } | null {
  try {
    const s = statfsSync(path);
    return { free: s.bavail * s.bsize, size: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

/** Why `path` (and its folder) cannot be written, as an errno code, or null if it can. */
export function notWritable(path: string): string | null {
  for (const p of [path, dirname(path)]) {
    try {
      accessSync(p, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return code ?? 'EACCES';
    }
  }
  return null;
}

/** The disk holding `path` is full. */
export function diskFullError(path: string, detail: string): WardenError {
  const free = freeBytes(dirname(path));
  const left = free === null ? '' : `, ${free} bytes free`;
  return new WardenError(
    'storage',
    `${path}: the disk is full (${detail}${left}); nothing was written. Free space on ${dirname(path)}'s file system (\`df -h ${dirname(path)}\`; \`warden gc --older-than 30d\` removes old runs' logs and workspaces), then try again`,
    { path, cause: 'disk_full' },
  );
}

/** `path` cannot be written: a read-only file system or missing permissions. */
export function readOnlyError(path: string, detail: string): WardenError {
  return new WardenError(
    'storage',
    `${path} is read-only (${detail}); this command writes, so nothing was done. Reading commands (list, show, runs, events, stats, doctor, check) still work; to write, remount it read-write or give this user write permission on the file and its folder`,
    { path, cause: 'read_only' },
  );
}

/** An I/O error that is neither a full disk nor a read-only file system. */
function ioError(path: string, detail: string): WardenError {
  return new WardenError(
    'storage',
    `${path}: the disk reported an I/O error (${detail}); the change was not made. Check the disk (\`dmesg\`, \`df -h ${dirname(path)}\`), then run \`warden check\``,
    { path, cause: 'io_error' },
  );
}

/**
 * The sync that makes committed writes durable failed (sqlite/wal-sync.ts). They are in the
 * database, and nobody was told they are stored; whether the disk kept them is unknown.
 */
export function syncFailedError(path: string, err: unknown): WardenError {
  const e = err as NodeJS.ErrnoException;
  const detail = `${e.code ?? 'error'}: ${e.syscall ?? 'fdatasync'} ${path}-wal`;
  return new WardenError(
    'storage',
    `${path}: the disk did not confirm the last writes (${detail}); they were not acknowledged and may be lost on a power cut, and this process takes no more writes. Check the disk (\`dmesg\`, \`df -h ${dirname(path)}\`), then restart and run \`warden check\``,
    { path, cause: 'io_error' },
  );
}

/** SQLite waited for another process's lock past the busy timeout, every retry. */
function lockedError(path: string, detail: string): WardenError {
  const waited = SQLITE_DEFAULTS.busy_timeout_ms / 1000;
  return new WardenError(
    'unavailable',
    `${path} is locked by another process (${detail}; waited ${waited}s, ${SQLITE_DEFAULTS.busy_retries + 1} times); try again, and if it lasts, find the process holding it with \`fuser ${path}\``,
    { path, cause: 'locked' },
  );
}

/** Says which of full or read-only explains a failed write to `path`, from the file system. */
function writeFailure(path: string, detail: string): WardenError {
  const denied = notWritable(path);
  if (denied !== null) return readOnlyError(path, `${denied}; ${detail}`);
  const free = freeBytes(dirname(path));
  if (free !== null && free < 64 * 1024) return diskFullError(path, detail);
  return ioError(path, detail);
}

/**
 * A SQLite error on the database at `path` as a storage error in words, or null when it is not
 * one (a constraint, a bug): SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR and SQLITE_CANTOPEN by
 * what the file system says, SQLITE_BUSY past the retries, SQLITE_CORRUPT and SQLITE_NOTADB.
 */
export function fromSqliteError(err: unknown, path: string): WardenError | null {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return null;
  const detail = `${code}: ${(err as Error).message}`;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return corruptError(path, 'read check', `${(err as Error).message} (${code})`);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return lockedError(path, code);
  }
  if (code === 'SQLITE_FULL') return diskFullError(path, detail);
  if (code.startsWith('SQLITE_READONLY')) return writeFailure(path, detail);
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
    return writeFailure(path, detail);
  }
  return null;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Whether a PostgreSQL client error means the server could not be reached or went away: a
 * network error, a connection timeout, SQLSTATE class 08 (connection exception) or 57P (the
 * server is shutting down or starting), or a server that refuses connections for now: 53300
 * (too many connections, for the server or the role) and 55000 when it says the database is
 * not accepting connections (`ALLOW_CONNECTIONS false`; not every 55000, which a statement can
 * get for its own reasons).
 */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code === '55000')
      return /not currently accepting connections/.test((err as Error).message ?? '');
    return (
      UNREACHABLE.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '53300'
    );
  }
  const message = err instanceof Error ? err.message : '';
  return /timeout expired|connection terminated|connection timeout/i.test(message);
}

/** PostgreSQL at `where` did not answer. */
export function unreachableError(where: string, err: unknown): WardenError {
  const message = err instanceof Error ? err.message : String(err);
  return new WardenError(
    'unavailable',
    `cannot reach PostgreSQL at ${where}: ${message || 'no answer'}; is it running? try again, or check WARDEN_DB`,
    { cause: 'unreachable' },
  );
}

/**
 * A PostgreSQL client error that reached the CLI mid-command, for the database at `url`
 * (`WARDEN_DB`), as `unavailable` when the server went away: a network error on the database's
 * own port (not, say, on `serve`'s API), or the driver's lost-connection messages.
 */
export function fromPgClientError(err: unknown, url: string): WardenError | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const e = err as { port?: unknown; code?: unknown };
  const port = parsed.port === '' ? '5432' : parsed.port;
  const onDbPort = typeof e.code === 'string' && UNREACHABLE.has(e.code) && String(e.port) === port;
  const lost =
    err instanceof Error &&
    /^(Connection terminated|timeout expired|Client has encountered a connection error)/i.test(
      err.message,
    );
  if (!onDbPort && !lost) return null;
  const schema = parsed.searchParams.get('schema');
  const shown = `${parsed.protocol}//${parsed.host}${parsed.pathname}${schema ? ` (schema ${schema})` : ''}`;
  return unreachableError(shown, err);
}

/**
 * An operating-system error writing one of the home's files (`ENOSPC`, `EROFS`, `EACCES`,
 * `EPERM`, `EDQUOT`) in words, or null.
 */
export function fromErrnoError(err: unknown): WardenError | null {
  const e = err as NodeJS.ErrnoException;
  const path = typeof e.path === 'string' ? e.path : null;
  if (path === null) return null;
  const detail = `${e.code}: ${e.syscall ?? 'write'}`;
  switch (e.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return diskFullError(path, detail);
    case 'EROFS':
      return readOnlyError(path, detail);
    case 'EACCES':
    case 'EPERM':
      return new WardenError(
        'storage',
        `${path}: permission denied (${detail}); give this user read and write permission on it and its folder`,
        { path, cause: 'permission' },
      );
    default:
      return null;
  }
}
