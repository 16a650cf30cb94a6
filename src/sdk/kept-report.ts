import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WardenError, conflict } from '../core/errors.js';

/**
 * A worker's terminal report (`complete`, `fail`, `block`, ...) that `serve` did not answer for
 * the whole retry is kept in the run's folder, and `serve` books it at its first look at the
 * run once it is back (serve/kept-reports.ts): finished work is not lost to an outage longer
 * than the retry.
 * Written by `warden worker` and by `warden mcp`'s tools, read by `serve`.
 */

/** The file of the run's folder (`WARDEN_RUN_DIR`) a report is kept in. */
export const KEPT_REPORT = 'report.json';

/**
 * Written by `serve` beside a kept report it refused (renamed `report.json.refused`): the one
 * line saying why, which the run's ending reason then quotes.
 */
export const KEPT_REPORT_REFUSAL = 'report.refused.txt';

/** The most a kept report may hold: what one API request may (api/app.ts MAX_BODY_BYTES). */
export const KEPT_REPORT_MAX_BYTES = 256 * 1024;

/** What the file holds. `token_sha256` binds it to the run whose token the worker holds. */
export interface KeptReport {
  op: string;
  body: Record<string, unknown>;
  token_sha256: string;
  kept_at: number;
}

/** Whether `err` says that `serve` never decided the call (no answer, or a failure of its own). */
function unanswered(err: unknown): err is WardenError {
  return err instanceof WardenError && err.details.unreachable === true;
}

/**
 * Keeps a report `serve` did not answer (`err`, from `unanswered`) in the run's folder, and
 * gives the path. When it cannot be kept either (the disk that failed serve is full here
 * too), `err` is thrown again, saying so.
 */
export function keepReport(
  err: WardenError,
  runDir: string,
  token: string,
  op: string,
  body: Record<string, unknown>,
): string {
  const crypto = process.getBuiltinModule('node:crypto');
  const kept: KeptReport = {
    op,
    body,
    token_sha256: crypto.createHash('sha256').update(token).digest('hex'),
    kept_at: Date.now(),
  };
  const file = join(runDir, KEPT_REPORT);
  const tmp = `${file}.tmp-${process.pid}`;
  const text = `${JSON.stringify(kept)}\n`;
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    // Made only if there is none: a run reports once, and the first report kept is the one
    // serve books (an agent that takes another turn after `complete` must not replace it).
    createFrom(tmp, file, text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return keptAlready(file, kept);
    throw new WardenError(
      err.code,
      `${err.message}; and the report could not be kept in ${file} either: ${(e as Error).message}`,
      err.details,
    );
  } finally {
    rmSync(tmp, { force: true });
  }
  return file;
}

/**
 * `file` with `text`, only if it is not there: a hard link of the whole `tmp` (never seen half
 * written); where the file system has no hard links (some network and FUSE mounts), written
 * with an exclusive create instead.
 */
function createFrom(tmp: string, file: string, text: string): void {
  try {
    linkSync(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS')
      throw e;
    try {
      writeFileSync(file, text, { flag: 'wx', mode: 0o600 });
    } catch (w) {
      // A part written (the disk full half way) would block every later keep: it goes.
      if ((w as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(file, { force: true });
      throw w;
    }
  }
}

/**
 * A report kept while one is kept already: the same again is that one (a retried call);
 * another is refused, as serve refuses a second report.
 */
function keptAlready(file: string, kept: KeptReport): string {
  let first: Partial<KeptReport> = {};
  try {
    first = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeptReport>;
  } catch {
    // Unreadable: not the same report, whatever it is; serve judges it.
  }
  const same =
    first.op === kept.op &&
    first.token_sha256 === kept.token_sha256 &&
    JSON.stringify(first.body) === JSON.stringify(kept.body);
  if (same) return file;
  throw conflict(
    `a ${String(first.op ?? 'terminal').replaceAll('_', '-')} report is already kept for this run in ${file}, and a run reports its result once: serve books that one when it is back; stop working and exit`,
  );
}

/**
 * Sends a terminal report with `send`; when `serve` does not answer it (`unanswered`) and the
 * run's folder is known, keeps it there instead (`keepReport`): the answer, or the file it is
 * kept in with the error that made it so.
 */
export async function sendOrKeep(
  send: () => Promise<unknown>,
  runDir: string | null | undefined,
  token: string,
  op: string,
  body: Record<string, unknown>,
): Promise<{ answer: unknown } | { kept: string; why: WardenError }> {
  try {
    return { answer: await send() };
  } catch (err) {
    if (!unanswered(err) || !runDir) throw err;
    return { kept: keepReport(err, runDir, token, op, body), why: err };
  }
}
