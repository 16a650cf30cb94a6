import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { notFound } from '../core/errors.js';
import type { Run } from '../core/run.js';

/**
 * Reading a run's log (`warden log`, `GET /runs/{id}/log`, the dashboard's drawer). The shim
 * keeps the log within `log_cap` by cutting its middle (libexec/warden-shim): one marker line
 * of fixed length stands a quarter of the cap in and says how many bytes were cut so far. A
 * reader that follows the log uses that count to find its place again after a cut.
 */

/** Every marker line has this length (see the shim). */
export const MARKER_BYTES = 160;
const MARKER = /^\n\[warden: log truncated: (\d+) bytes cut here/;

/** A piece of a log and where it stands. */
export interface LogSlice {
  /** The bytes read. */
  data: Buffer;
  /** Where in the file they start. */
  offset: number;
  /** The file's size when read. */
  size: number;
  /** Bytes cut from the log's middle so far (0 when none). */
  cut: number;
}

/**
 * The path of a run's log, or a not-found error in one line saying why there is none: the run
 * never started a process here (a pull worker, a spawn that failed), or the file is gone
 * (`warden gc`, or a run of another host).
 */
export function runLogPath(run: Run): string {
  if (run.log_path === null) {
    throw notFound(
      run.mode === 'pull'
        ? `run ${run.id} has no log: it ran in a pull worker, which keeps its own output`
        : `run ${run.id} has no log: its worker never started`,
    );
  }
  if (!existsSync(run.log_path)) {
    throw notFound(
      `run ${run.id}'s log is gone: ${run.log_path} was removed (warden gc removes the run folders of tasks done long ago; a run of another host keeps its log on that host)`,
    );
  }
  return run.log_path;
}

/** Where the log's marker line stands (a quarter of the cap in), and the bytes cut so far. */
export interface LogCut {
  /** The marker's offset; null when the log has never been cut. */
  marker: number | null;
  /** Bytes cut from the log's middle so far. */
  cut: number;
}

/** The shim's marker in the log at `path`, found through the cap its first cut recorded. */
export function logCut(path: string): LogCut {
  const dir = dirname(path);
  let cap: number | undefined;
  for (const name of ['log-cut.seen', 'log-cut']) {
    try {
      cap = Number(readFileSync(join(dir, name), 'utf8').trim().split(' ')[1]);
      break;
    } catch {
      // Not this one.
    }
  }
  if (cap === undefined || !Number.isSafeInteger(cap)) return { marker: null, cut: 0 };
  const marker = Math.floor(cap / 4);
  const line = readAt(path, marker, MARKER_BYTES).toString('latin1');
  return { marker, cut: Number(MARKER.exec(line)?.[1] ?? 0) };
}

function readAt(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, length));
    const n = readSync(fd, buf, 0, buf.length, position);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Up to `bytes` of the log from `offset`; a negative offset counts from the end (the last N). */
export function readLog(path: string, offset: number, bytes: number): LogSlice {
  const size = statSync(path).size;
  const from = Math.min(size, offset < 0 ? Math.max(0, size + offset) : offset);
  const buf = readAt(path, from, Math.min(bytes, size - from));
  return { data: buf, offset: from, size, cut: logCut(path).cut };
}
