import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { EpochMs, Millis } from '../core/glossary.js';

/**
 * When a spawned run started, on this boot's clocks, kept in its folder (`start-clocks`) for a
 * `serve` that adopts it after a restart. The store keeps only wall times, and a wall time
 * counts every suspend of the machine since: read back as a duration, a run started before
 * the laptop slept overnight would be hours past `max_runtime` and silent for as long.
 */
export interface RunStart {
  /** The monotonic reading at the start (on Linux, since boot: the same in every process). */
  mono: Millis;
  /** How long the machine had slept by then (`Clock.suspended`). */
  suspended: Millis;
}

/** The name of the file in a run's folder. */
export const RUN_START_FILE = 'start-clocks';

/** The clocks' readings now, for a run starting now. */
export function runStartNow(clock: Clock): RunStart {
  return { mono: clock.monotonic(), suspended: clock.suspended() };
}

/** Writes a run's start atomically; its folder exists. */
export function writeRunStart(runDir: string, start: RunStart): void {
  const path = join(runDir, RUN_START_FILE);
  writeFileSync(`${path}.tmp`, `${start.mono} ${start.suspended}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** A run's start as its folder keeps it, or null (none: a run started by an older warden). */
export function readRunStart(runDir: string): RunStart | null {
  let text: string;
  try {
    text = readFileSync(join(runDir, RUN_START_FILE), 'utf8');
  } catch {
    return null;
  }
  const [mono, suspended] = text.trim().split(' ').map(Number);
  if (mono === undefined || suspended === undefined) return null;
  return Number.isFinite(mono) && Number.isFinite(suspended) ? { mono, suspended } : null;
}

/**
 * An adopted run's start and last progress on this `serve`'s monotonic clock, from the wall
 * times the store and the log keep. Runtime is exact with a `start`: the monotonic clock is
 * the same across processes of one boot (adoption is refused across a reboot), so a sleep of
 * the machine is not counted and `serve`'s downtime is (the worker ran meanwhile). Silence
 * leaves out every sleep since the start, as if all of it came after the last progress, since
 * when each sleep happened is not kept: a worker is never judged silent for a night, and a
 * silent one may be given at most one more `stall_timeout` after a restart. Without a `start`
 * the wall times are taken as they are.
 */
export function adoptedClock(
  run: { startedAt: EpochMs; lastProgress: EpochMs | null },
  start: RunStart | null,
  clock: Clock,
): { started: Millis; lastProgress: Millis | null } {
  const wall = clock.now();
  const mono = clock.monotonic();
  const slept = start === null ? 0 : Math.max(0, clock.suspended() - start.suspended);
  const started = start === null ? mono - (wall - run.startedAt) : Math.min(start.mono, mono);
  if (run.lastProgress === null) return { started, lastProgress: null };
  const silent = Math.max(0, wall - run.lastProgress - slept);
  return { started, lastProgress: Math.max(started, mono - silent) };
}
