import type { ProcessIdentity } from '../core/run.js';
import { holdsOpen } from './open-files.js';
import { isSameProcessAlive } from './procfs.js';

/**
 * Whether the process a `hosts` row records holds this home now: it is alive and, on SQLite,
 * has the home's database file (`dbFile`) open. A copy of the database (a backup restored
 * into another home, a file copied by hand) holds the rows of the home it came from, whose
 * `serve` may well be alive: it holds that home, not this one.
 */
export function holdsHome(process: ProcessIdentity | null, dbFile: string | null): boolean {
  if (process === null || !isSameProcessAlive(process)) return false;
  return dbFile === null || holdsOpen(process.pid, dbFile);
}
