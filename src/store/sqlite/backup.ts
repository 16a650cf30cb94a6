import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { WardenError, conflict, invalid } from '../../core/errors.js';
import { RESTORE_HINT, corruptError, fromSqliteError } from '../storage-errors.js';
import { openReadOnly } from './connect.js';
import type { Sqlite } from './connect.js';
import { checkSqliteHeader } from './header.js';
import { inspectFile } from './integrity.js';
import type { FileReport } from './integrity.js';

/** A time as `20261124T081502Z`, for file names. */
export function fileStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Flushes a file or a folder (so a rename in it is durable) to the disk. */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies the database `from` is connected to into `tmp` with SQLite's online backup API, in
 * one step (better-sqlite3's first step sets up; the next copies every page under one read
 * transaction), so writers such as `serve` go on meanwhile and the copy is one consistent
 * moment. Then flushes it to the disk.
 */
export async function copyDatabase(from: Sqlite, tmp: string): Promise<void> {
  rmSync(tmp, { force: true });
  await from.backup(tmp, { progress: () => 0x7fffffff });
  // A copy holds what the database holds (notification secrets, workers' environments).
  chmodSync(tmp, 0o600);
  syncPath(tmp);
}

/** Where a backup goes: `dest`, or a dated name inside it when it is a folder. */
export function backupTarget(dest: string, now: number): string {
  const full = resolve(dest);
  if (existsSync(full) && statSync(full).isDirectory()) {
    return join(full, `warden-${fileStamp(now)}.db`);
  }
  if (!existsSync(dirname(full))) {
    throw invalid(`${dirname(full)} does not exist; make the folder first, or pick another path`);
  }
  return full;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Checks a fresh copy of `source`; a damaged copy means a damaged source. */
function verifyCopy(copy: string, source: string): FileReport {
  try {
    return inspectFile(copy, 'full', 'immutable');
  } catch (err) {
    if (err instanceof WardenError && err.code === 'corrupt') {
      const { check, problem } = err.details as { check: string; problem: string };
      throw new WardenError(
        'corrupt',
        `no backup was written: a copy of ${source} failed the ${check} (${problem}), so the database itself is damaged; \`warden check\` says more. ${RESTORE_HINT.replace(/^r/, 'R')}`,
        { path: source, check, problem },
      );
    }
    throw err;
  }
}

/**
 * `warden backup`: copies the live database at `source` to `dest` while warden runs, verifies
 * the copy with `integrity_check`, and only then puts it at `dest` (a temp file renamed, so a
 * half-written copy never has the name). An existing `dest` is replaced only with `force`.
 */
export async function backupSqlite(
  source: string,
  dest: string,
  options: { force: boolean; now: number },
): Promise<FileReport> {
  const target = backupTarget(dest, options.now);
  const base = basename(source);
  const beside =
    sameFile(dirname(target), dirname(source)) &&
    ['-wal', '-shm', '-journal'].some((end) => basename(target) === `${base}${end}`);
  if (sameFile(target, source) || beside) {
    throw invalid(`${target} is the database itself; back it up to another path`);
  }
  if (existsSync(target) && !options.force) {
    throw conflict(`${target} exists; pick another path, or pass --force to replace it`);
  }
  const verdict = checkSqliteHeader(source);
  if (!verdict.ok) throw corruptError(source, 'header check', verdict.problem);
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    const { db } = openReadOnly(source);
    try {
      await copyDatabase(db, tmp);
    } finally {
      db.close();
    }
    const report = verifyCopy(tmp, source);
    renameSync(tmp, target);
    syncPath(dirname(target));
    return { ...report, path: target };
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fromSqliteError(err, target) ?? err;
  }
}
