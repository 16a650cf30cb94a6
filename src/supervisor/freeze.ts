import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
  const [up] = readFileSync('/proc/uptime', 'utf8').split(' ');
  return Math.floor(Number(up) * 100);
}

/** Deadlines on the uptime clock from monotonic times (ms) and the monotonic time now. */
export function deadlinesAt(
  freezeAtMono: number,
  killAtMono: number,
  nowMono: number,
): FreezeDeadlines {
  const up = uptimeCs();
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

/** Run ids whose folder has a watcher's `live` file but no exit status yet. */
export function watchedRunIds(runsDir: string): number[] {
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
