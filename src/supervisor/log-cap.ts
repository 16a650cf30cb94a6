import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { dispatcher } from '../core/actor.js';
import { formatSize } from '../core/size.js';
import type { LiveRun } from './live-run.js';
import type { Supervision } from './supervision.js';

/**
 * Run logs are capped (SPEC §7, issue #11: a 200 MB print left a 210 MB log; issue #15: the
 * cap must hold while `serve` is down). The shim keeps the cap (libexec/warden-shim, `-c`):
 * the worker writes into a pipe, and the shim's reader appends to the log, keeping the first
 * quarter of the cap and, before the file would pass the cap, cutting its middle down to the
 * latest quarter behind one marker line that says how many bytes were cut in all. Being the
 * log's only writer it never lets the file past the cap, whether or not `serve` is looking.
 * `serve` only records the first cut, which the shim announces in the run's `log-cut` file.
 */

/** The file in which the shim says how many bytes its first cut dropped, and the cap it kept. */
const CUT_FILE = 'log-cut';
/** The same, once `serve` has recorded it (so a restarted `serve` does not record it again). */
const SEEN_FILE = 'log-cut.seen';

/** The shim's arguments that make it keep the log at `path` within `cap` bytes. */
export function logCapArgs(path: string, cap: number): string[] {
  return ['-c', path, String(cap), formatSize(cap)];
}

/**
 * Records a run's first log cut, once: a `log_truncated` event and a line in the `serve` log.
 * Cheap when there is none (one `stat`). The file is renamed to `log-cut.seen` only once the
 * event is stored, so a failed write is tried again at the next look; a file that does not
 * hold two whole numbers (one an older shim was still writing) waits for the next look too.
 */
export async function recordLogCut(sv: Supervision, live: LiveRun): Promise<void> {
  const path = join(live.runDir, CUT_FILE);
  if (!existsSync(path)) return;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  const match = /^(\d+) (\d+)\n$/.exec(text);
  if (match === null) return;
  const [cut, cap] = [Number(match[1]), Number(match[2])];
  await sv.opts.store.writeEvent(dispatcher(sv.opts.host), {
    kind: 'log_truncated',
    board: live.board,
    task_id: live.taskId,
    run_id: live.runId,
    payload: { log_cap: cap, bytes_cut: cut, log_path: live.logPath },
  });
  renameSync(path, join(live.runDir, SEEN_FILE));
  sv.log(
    `run ${live.runId}: its log passed log_cap ${formatSize(cap)}; the middle is cut (${cut} bytes), the start and the latest output kept`,
  );
}
