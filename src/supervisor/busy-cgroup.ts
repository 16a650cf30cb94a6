import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_FILE } from './spawn.js';
import { KILL_NOW, LIVE_FILE } from './freeze.js';

/** The run whose folder names cgroup `dir` (its `cgroup` file), or null when none does. */
function runOfCgroup(runsDir: string, dir: string): string | null {
  let names: string[];
  try {
    names = readdirSync(runsDir);
  } catch {
    return null;
  }
  for (const name of names) {
    try {
      if (readFileSync(join(runsDir, name, CGROUP_FILE), 'utf8').trim() === dir) return name;
    } catch {
      // No cgroup file: a run without one, or not a run's folder.
    }
  }
  return null;
}

/**
 * The log's line for a run cgroup that still holds processes though no run of this host
 * watches it: whose run it was, and what becomes of them. With several hosts the run's shim
 * kills them itself once the lease its `live` file holds runs out, since nothing renews it for
 * a run this host does not watch (a run reaped while this host was away); otherwise nothing
 * here ends them (it may be `dispatch --once`'s, not yet adopted), and the line says how a
 * person can.
 */
export function busyCgroupLine(runsDir: string, dir: string, pids: readonly number[]): string {
  const run = runOfCgroup(runsDir, dir);
  const whose =
    run === null ? 'no run this host watches' : `run ${run}, which this host does not watch`;
  const held = `cgroup ${dir} holds processes of ${whose} (pids ${pids.join(', ')})`;
  if (run === null || !existsSync(join(runsDir, run, LIVE_FILE)))
    return `${held}; not killed here: if they are a worker's leftovers, echo 1 > ${dir}/cgroup.kill`;
  // Deadlines of 0 are the word to kill at once (`KILL_NOW`): a trial's line said they would
  // be killed once the lease ran out, while the shim was killing them as it was written.
  return liveDeadlines(join(runsDir, run, LIVE_FILE)) ===
    `${KILL_NOW.freezeAtCs} ${KILL_NOW.killAtCs}`
    ? `${held}; the run's shim is killing them now, as the run was ended elsewhere`
    : `${held}; not killed here: the run's shim kills them once its lease runs out, as it is not renewed`;
}

/** What a run's `live` file says, as written (`FREEZE KILL`), or null. */
function liveDeadlines(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}
