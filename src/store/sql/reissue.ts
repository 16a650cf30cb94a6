import { hashToken, newRunToken } from '../../os/token.js';
import type { ReissuedRun } from '../run-types.js';
import type { SqlDb } from './driver.js';

const RUNNING_OF_CLAIM =
  "SELECT id, attempt FROM runs WHERE worker_id = ? AND claim_id = ? AND state = 'running' ORDER BY id";

/**
 * Whether claim `claimId` of lease `leaseId` made runs that still run: read outside any
 * transaction, since nearly every claim that asks made none (it is no retry).
 */
export async function claimHasRuns(db: SqlDb, leaseId: string, claimId: string): Promise<boolean> {
  return (await db.get(RUNNING_OF_CLAIM, [leaseId, claimId])) !== undefined;
}

/**
 * The runs claim `claimId` of lease `leaseId` made that are still running and unreported, each
 * with a new token in place of the one whose answer was lost: only a hash of that one is
 * stored, so it cannot be sent again, and whoever might hold it is refused from now on.
 * Oldest first, as the claim made them. None when the claim made no run (or never reached the
 * store).
 */
export async function reissueClaim(
  db: SqlDb,
  leaseId: string,
  claimId: string,
): Promise<ReissuedRun[]> {
  const rows = await db.all<{ id: number; attempt: number }>(RUNNING_OF_CLAIM, [leaseId, claimId]);
  const out: ReissuedRun[] = [];
  for (const row of rows) {
    const token = newRunToken();
    await db.run('UPDATE runs SET token_hash = ? WHERE id = ?', [hashToken(token), row.id]);
    out.push({ runId: row.id, attempt: row.attempt, token });
  }
  return out;
}
