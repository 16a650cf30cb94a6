import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Whether a run's log (`RUNS/ID/output.log`) is in the folder `runsDir`, compared by device
 * and inode: the same home reached by another path (a symlink, a bind mount) is still it,
 * while a copy of a home's database (a backup restored elsewhere) names the first home's.
 */
export function inRunsFolder(logPath: string, runsDir: string): boolean {
  try {
    const a = statSync(dirname(dirname(logPath)));
    const b = statSync(runsDir);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}
