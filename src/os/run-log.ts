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

/** A piece of a log and where it stands, read while no cut was under way (unless `cutting`). */
export interface LogSlice {
  /** The bytes read. */
  data: Buffer;
  /** Where in the file they start. */
  offset: number;
  /** The file's size when read. */
  size: number;
  /** Bytes cut from the log's middle so far (0 when none). */
  cut: number;
  /** Where the marker line stands; null while the log has never been cut. */
  marker: number | null;
  /** A cut was under way: the bytes, `cut` and `marker` may not belong together; read again. */
  cutting: boolean;
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

/** Reads a small file of the run's folder; null when it is not there. */
function readSmall(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** What the shim's reader is doing: a killed one never finishes its cut, a frozen one later. */
type Reader = 'running' | 'stopped' | 'gone';

/**
 * The shim's cut counter (RUN_DIR/log-seq): 0 before any cut, odd while one is under way;
 * null while an older shim writes the file. After it the shim writes its reader's pid, so a
 * reader killed or frozen (SIGSTOP) in the middle of a cut, which leaves the counter odd, is
 * not waited for.
 */
function cutState(dir: string): { seq: number | null; reader: Reader } {
  const text = readSmall(join(dir, 'log-seq'));
  if (text === null) return { seq: 0, reader: 'running' };
  const m = /^(\d+)(?: (\d+))?\n$/.exec(text);
  if (m === null) return { seq: null, reader: 'running' };
  // An older shim names no reader: its cut is taken to be going.
  return { seq: Number(m[1]), reader: m[2] === undefined ? 'running' : reader(dir, Number(m[2])) };
}

/**
 * The shim's reader `pid`: its process group is the shim's (RUN_DIR/shim.pid), so a pid reused
 * by another process is not taken for it.
 */
function reader(dir: string, pid: number): Reader {
  const stat = readSmall(`/proc/${pid}/stat`);
  if (stat === null) return 'gone';
  const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (group !== readSmall(join(dir, 'shim.pid'))?.trim() || /^[ZX]$/.test(state ?? '')) {
    return 'gone';
  }
  return /^[Tt]$/.test(state ?? '') ? 'stopped' : 'running';
}

/** The marker's place and the count on it, found through the cap the first cut recorded. */
function readMarker(path: string): { marker: number | null; cut: number } {
  const dir = dirname(path);
  // In this order: `serve` renames the first to the second once it has recorded the cut.
  const recorded = readSmall(join(dir, 'log-cut')) ?? readSmall(join(dir, 'log-cut.seen'));
  const cap = Number(recorded?.trim().split(' ')[1]);
  if (!Number.isSafeInteger(cap)) return { marker: null, cut: 0 };
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

/** Waits `ms` without returning to the event loop (a cut takes milliseconds). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Up to `bytes` of the log from `offset`; a negative offset counts from the end (the last N).
 * Read while no cut is under way (the shim's counter is even and the same before and after),
 * so the bytes, the count of bytes cut and the marker's place belong together. A cut takes
 * milliseconds: the read is made again for up to `waitMs` (0, the default, for `serve`, which
 * must not block: its reader, the dashboard, reads again), then given with `cutting` set. A
 * cut whose reader is frozen is not waited for (`cutting` is set); nor one whose reader was
 * killed: that cut never finishes, so the file is as it will stay (`cutting` is not set).
 */
export function readLog(path: string, offset: number, bytes: number, waitMs = 0): LogSlice {
  const dir = dirname(path);
  for (let tries = 0; ; tries++) {
    const before = cutState(dir);
    const size = statSync(path).size;
    const from = Math.min(size, offset < 0 ? Math.max(0, size + offset) : offset);
    const data = readAt(path, from, Math.min(bytes, size - from));
    const { marker, cut } = readMarker(path);
    const after = cutState(dir);
    const settled = before.seq !== null && after.seq === before.seq;
    const odd = after.seq !== null && after.seq % 2 === 1;
    const cutting = !settled || (odd && after.reader !== 'gone');
    const slice = { data, offset: from, size, cut, marker, cutting };
    if (!cutting || (settled && after.reader === 'stopped') || tries * 5 >= waitMs) return slice;
    pause(5);
  }
}
