import { dispatcher } from '../../core/actor.js';
import type { Random } from '../../core/backoff.js';
import { reapedReason } from '../../core/reasons.js';
import type { PolicyContext } from '../run-types.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';
import { reapHost } from './hosts.js';
import type { Reaped } from './hosts.js';
import { endRun, runRow } from './runs.js';

/**
 * A lapsed host reaped by host `by`, in the caller's transaction (`reapHost`): each of its open
 * spawned runs ended `host_lost`, with a reason naming the host, the lease and the reaper (a
 * run already ending keeps the outcome it was fenced with, a worker's result), then one
 * `host_lost` event listing them. Null when the host renewed or was already reaped.
 */
export async function reapLapsedHost(
  db: SqlDb,
  local: number,
  hostId: string,
  by: string,
  ctx: PolicyContext & { random: Random },
): Promise<Reaped | null> {
  const actor = dispatcher(by);
  const reaped = await reapHost(db, local, hostId, async (runId, now, host) => {
    const run = await runRow(db, runId);
    const reason = reapedReason(hostId, by, run?.attempt ?? 0, {
      lease_expired_at: host.lease_expires_at,
      reaped_at: now,
    });
    await endRun(db, now, runId, { outcome: 'host_lost', reason }, { ...ctx, host: by }, actor);
  });
  if (reaped) {
    await appendEvent(db, local, actor, {
      kind: 'host_lost',
      payload: {
        host: hostId,
        renewed_at: reaped.host.renewed_at,
        lease_expired_at: reaped.host.lease_expires_at,
        reaped_by: by,
        runs: reaped.runs.map((r) => r.run_id),
      },
    });
  }
  return reaped;
}
