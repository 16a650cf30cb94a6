import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  ftruncateSync,
  writeSync,
} from 'node:fs';
import { dispatcher } from '../core/actor.js';
import { formatSize } from '../core/size.js';
import type { LiveRun } from './live-run.js';
import type { Supervision } from './supervision.js';

/**
 * Run logs are capped (SPEC §7, issue #11: a 200 MB print left a 210 MB log). The worker
 * appends to its log file itself (O_APPEND, through the shim, so it needs no `serve`), so the
 * cap is kept by `serve` at each look: past `log_cap` the middle is cut out, keeping the first
 * quarter of the cap and the latest quarter, with one marker line between them that says how
 * many bytes were cut in all. The file then holds about half the cap, and grows to the cap
 * again before the next cut.
 */

/** The line that stands where bytes were cut; it carries the total cut so far. */
const MARKER = /^\n\[warden: log truncated: (\d+) bytes cut here[^\n]*\] *\n/;
/**
 * Every marker line has this length (padded with spaces before its newline), so it can be
 * written last, once the total is known, in front of a tail already in place.
 */
const MARKER_BYTES = 160;

function marker(total: number, cap: number): Buffer {
  const text = `\n[warden: log truncated: ${total} bytes cut here (log_cap ${formatSize(cap)}); the start and the latest output are kept]`;
  return Buffer.from(`${text.padEnd(MARKER_BYTES - 1)}\n`);
}

function pread(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(Math.max(0, length));
  const n = readSync(fd, buf, 0, buf.length, position);
  return buf.subarray(0, n);
}

/** What one cut did. */
export interface LogCut {
  /** Bytes of output cut this time. */
  cut: number;
  /** Bytes of output cut from this log so far. */
  total: number;
  /** The file's size after the cut. */
  size: number;
  /** Whether this was the log's first cut. */
  first: boolean;
}

/**
 * Cuts the middle out of the log at `path` if it is larger than `cap`; null when it is not
 * (or is gone). Safe while the worker appends (see the steps inside).
 */
export function capLog(path: string, cap: number): LogCut | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR);
  } catch {
    return null;
  }
  try {
    let end = fstatSync(fd).size;
    if (end <= cap) return null;
    const head = Math.floor(cap / 4);
    const keep = Math.floor(cap / 4);
    const earlier = MARKER.exec(pread(fd, 512, head).toString('latin1'));
    const before = earlier ? Number(earlier[1]) : 0;
    let start = end - keep;
    let tail = pread(fd, keep, start);
    // Whole lines: the kept part starts after the first newline near its start.
    const newline = tail.subarray(0, 4096).indexOf(0x0a);
    if (newline !== -1) {
      tail = tail.subarray(newline + 1);
      start += newline + 1;
    }
    // The tail is written over the part being cut (which ends before the tail begins), behind
    // room for the marker; what the worker appends meanwhile is copied after it while that is
    // cheap. Then the file is cut short after it, so the worker's next appends land after the
    // tail, and the marker goes in front with the total: what was cut, and what the worker
    // wrote past the last copy and the truncation dropped. Only bytes written between the last
    // look at the size and the truncation, microseconds, are lost without being counted.
    const at = head + MARKER_BYTES;
    writeSync(fd, tail, 0, tail.length, at);
    let written = tail.length;
    let now = fstatSync(fd).size;
    for (let pass = 0; pass < 8 && now > end && now - end <= keep; pass++) {
      const more = pread(fd, now - end, end);
      writeSync(fd, more, 0, more.length, at + written);
      written += more.length;
      end += more.length;
      now = fstatSync(fd).size;
    }
    ftruncateSync(fd, at + written);
    const cut = start - head - (earlier ? MARKER_BYTES : 0) + (now - end);
    const total = before + cut;
    writeSync(fd, marker(total, cap), 0, MARKER_BYTES, head);
    return { cut, total, size: at + written, first: !earlier };
  } finally {
    closeSync(fd);
  }
}

/**
 * Keeps a live run's log within its `log_cap`; returns the log's size afterwards. The first
 * cut of a run is recorded as a `log_truncated` event and in the `serve` log.
 */
export async function capRunLog(sv: Supervision, live: LiveRun, size: number): Promise<number> {
  if (size <= live.policy.log_cap) return size;
  const cut = capLog(live.logPath, live.policy.log_cap);
  if (cut === null) return size;
  if (cut.first) {
    sv.log(
      `run ${live.runId}: its log passed log_cap ${formatSize(live.policy.log_cap)}; the middle is cut (${cut.cut} bytes), the start and the latest output kept`,
    );
    await sv.opts.store.writeEvent(dispatcher(sv.opts.host), {
      kind: 'log_truncated',
      board: live.board,
      task_id: live.taskId,
      run_id: live.runId,
      payload: { log_cap: live.policy.log_cap, bytes_cut: cut.cut, log_path: live.logPath },
    });
  }
  return cut.size;
}
