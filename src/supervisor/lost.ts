import { WardenError, ErrorCode } from '../core/errors.js';
import { KILL_NOW, killStrayWatchers, writeLiveFile } from './freeze.js';
import type { LiveRun } from './live-run.js';
import type { Supervision } from './supervision.js';

/**
 * Several hosts (SPEC §3): the freeze deadlines of this host's workers, and the runs that
 * ended elsewhere while this host's lease lapsed.
 */

function isNotFound(err: unknown): boolean {
  return err instanceof WardenError && err.code === ErrorCode.not_found;
}

/** After a renewal: moves the freeze deadlines of every run still this host's forward. */
export function refreshLiveness(sv: Supervision): void {
  const freeze = sv.opts.freeze;
  if (!freeze) return;
  const d = freeze.deadlines();
  for (const live of sv.live.values()) {
    if (!sv.lost.has(live.runId)) writeLiveFile(live.runDir, d);
  }
}

/**
 * Another host reaped the run and its task may already run there. The worker, frozen or not,
 * is killed at once (by this host and by its watcher) and never thawed.
 */
export function killLost(sv: Supervision, live: LiveRun): void {
  sv.lost.add(live.runId);
  writeLiveFile(live.runDir, KILL_NOW);
  sv.endings.endedElsewhere(live, true);
}

/**
 * After a gap in the host's lease, before anything is thawed: the runs that ended elsewhere
 * meanwhile are killed at once, frozen as they are, and so are the processes of any run
 * folder whose run is no longer this host's.
 */
export async function dropLost(sv: Supervision): Promise<void> {
  const { store, host } = sv.opts;
  const seen = sv.seq;
  const open = new Set((await store.openRuns(host)).map((r) => r.id));
  for (const live of sv.live.values()) {
    if (open.has(live.runId) || sv.lost.has(live.runId) || live.seq > seen) continue;
    killLost(sv, live);
    sv.log(`run ${live.runId}: ended elsewhere while this host's lease lapsed; killing it`);
    sv.kick(live);
  }
  await killStrayWatchers(sv.opts.runsDir, async (id) => {
    if (open.has(id) || sv.live.has(id) || sv.starting.has(id)) return true;
    // Read again: the folder may belong to a run claimed after the read above began.
    const run = await store
      .getRun(id)
      .catch((err: unknown) => (isNotFound(err) ? null : undefined));
    // Unknown (the store did not answer): leave it; it is looked at after the next gap.
    if (run === undefined) return true;
    return run !== null && run.state !== 'ended' && run.host_id === host;
  });
}
