import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uptimeMs } from '../os/uptime.js';
import { SpawnError } from './spawn.js';

/**
 * Several hosts (SPEC §3): each spawned run's folder holds a `live` file that its shim's
 * watcher reads — "FREEZE_AT KILL_AT" in hundredths of a second on the /proc/uptime clock.
 * `serve` moves them forward after each lease renewal while the run is still its own; when
 * `serve` is partitioned, paused or dead, they pass and the watcher freezes, then kills.
 */
export interface FreezeDeadlines {
  freezeAtCs: number;
  killAtCs: number;
}

/** The deadlines that make a watcher kill its worker at its next look. */
export const KILL_NOW: FreezeDeadlines = { freezeAtCs: 0, killAtCs: 0 };

/** The name of the file in a run's folder. */
export const LIVE_FILE = 'live';
/** What the watcher writes in the run's folder before it kills a worker frozen too long. */
export const LEASE_KILLED = 'lease-killed';

/** Seconds since boot, in hundredths, as the shim reads them. */
export function uptimeCs(): number {
  return Math.floor(uptimeMs() / 10);
}

/**
 * Deadlines on the uptime clock from monotonic times (ms). The uptime is read before the
 * monotonic time: a process paused between the two readings (SIGSTOP, a stall) then writes
 * deadlines that are early, never late, so its workers freeze too soon rather than too late.
 */
export function deadlinesAt(
  freezeAtMono: number,
  killAtMono: number,
  monotonicNow: () => number,
): FreezeDeadlines {
  const up = uptimeCs();
  const nowMono = monotonicNow();
  return {
    freezeAtCs: up + Math.floor((freezeAtMono - nowMono) / 10),
    killAtCs: up + Math.floor((killAtMono - nowMono) / 10),
  };
}

/** Writes a run's deadlines atomically (the watcher never reads half a file). */
export function writeLiveFile(runDir: string, d: FreezeDeadlines): void {
  const path = join(runDir, LIVE_FILE);
  writeFileSync(`${path}.tmp`, `${d.freezeAtCs} ${d.killAtCs}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/**
 * Tells the watchers of run folders whose run is no longer this host's to kill their workers:
 * every folder with a `live` file and no exit status for which `stillOurs` says false.
 */
export async function killStrayWatchers(
  runsDir: string,
  stillOurs: (runId: number) => Promise<boolean>,
): Promise<void> {
  for (const id of watchedRunIds(runsDir)) {
    if (!(await stillOurs(id))) writeLiveFile(join(runsDir, String(id)), KILL_NOW);
  }
}

/** Run ids whose folder has a watcher's `live` file but no exit status yet. */
function watchedRunIds(runsDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(runsDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => existsSync(join(runsDir, n, LIVE_FILE)) && !existsSync(join(runsDir, n, 'exit')))
    .map(Number);
}

/** A claimed run not started because this host's lease may have lapsed meanwhile. */
export class LeaseGoneError extends SpawnError {}

/** What a supervisor on several hosts knows of its lease (see `LeaseKeeper`). */
export interface FreezeSource {
  deadlines: () => FreezeDeadlines;
  valid: () => boolean;
  /** Counts the lease's gaps (see `LeaseKeeper.epoch`). */
  epoch: () => number;
  pollSeconds: number;
}

/**
 * Before a worker is spawned: refuses (`LeaseGoneError`) a run claimed under a lease that has
 * gone bad or had a gap since — the host stalled, and the run may have been reaped and started
 * elsewhere — else writes its deadlines, so it is never unwatched, and says what its shim
 * watches.
 */
export function prepareWatch(
  runDir: string,
  freeze: FreezeSource,
  claimedInEpoch: number,
): { liveFile: string; pollSeconds: number } {
  if (!freeze.valid() || freeze.epoch() !== claimedInEpoch) {
    throw new LeaseGoneError(
      'this host’s lease may have lapsed before the worker was started; nothing was started',
    );
  }
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  writeLiveFile(runDir, freeze.deadlines());
  return { liveFile: join(runDir, LIVE_FILE), pollSeconds: freeze.pollSeconds };
}
