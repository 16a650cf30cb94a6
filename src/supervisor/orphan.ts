import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessIdentity } from '../core/run.js';
import { identify, liveGroup } from '../os/procfs.js';

/**
 * The worker of a run whose shim is gone without recording an exit (a `kill -9` of the shim's
 * pid, say), if it runs on: the shim writes the worker's pid to RUN_DIR/worker.pid as it
 * starts it, and leads the worker's process group, so that pid is still the run's worker only
 * while it is alive in the shim's group (a pid used again since is in another). Null when
 * there is none: the run ended with its shim.
 */
export function orphanedWorker(runDir: string, shimPid: number): ProcessIdentity | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(runDir, 'worker.pid'), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || liveGroup(pid) !== shimPid) return null;
  return identify(pid);
}
