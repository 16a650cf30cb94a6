import type { EpochMs } from './glossary.js';

/**
 * A run that was open in a backup `warden restore` put in place (issue #11's backups). What its
 * worker reported after the backup was taken (a `complete`, a `fail`, a question) went with the
 * database the restore replaced, so the exit the next `serve` books for it (most often "exited 0
 * without calling complete") is true of the restored database and misleading on its own. The
 * restore leaves this file in each such run's folder, and the run's ending reason says why.
 */
export const RESTORED_MARK = 'restored-while-open';

/** What the mark holds. */
export interface RestoredMark {
  restored_at: EpochMs;
  /** The backup file put in place. */
  source: string;
}

/** The words added to the ending reason of a run the mark is on. */
export function restoredNote(mark: RestoredMark, run: { taskId: number; runId: number }): string {
  return `; the home's database was restored from ${mark.source} at ${new Date(mark.restored_at).toISOString()} while this run was open, so what its worker reported after that backup was taken is not in it: \`warden log ${String(run.taskId)} --run ${String(run.runId)}\` shows what it did`;
}
