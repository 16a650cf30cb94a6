import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { ProcessIdentity } from '../core/run.js';
import { WardenError } from '../core/errors.js';
import { identify, isSameProcessAlive } from '../os/procfs.js';
import type { HomePaths } from '../config/home.js';

/**
 * Several hosts on PostgreSQL: the home's own record of its `serve` (the shared database
 * knows hosts by lease, not by process). It keeps a second `serve` off a home whose first is
 * alive, and tells the CLI where this home's API listens.
 */
export interface ServeLock {
  host_id: string;
  url: string;
  process: ProcessIdentity;
}

/** The home's recorded `serve`, alive or not (a killed one leaves its record behind). */
export function recordedServeLock(paths: HomePaths): ServeLock | null {
  try {
    return JSON.parse(readFileSync(paths.serveLock, 'utf8')) as ServeLock;
  } catch {
    return null;
  }
}

/** The home's `serve`, if the one recorded is still alive. */
export function liveServeLock(paths: HomePaths): ServeLock | null {
  const lock = recordedServeLock(paths);
  return lock !== null && isSameProcessAlive(lock.process) ? lock : null;
}

/**
 * This home's `serve` as recorded, when its process is gone: a serve killed, or stopped (its
 * record is kept, so the home knows whose host it was while that host's lease runs out).
 */
export function deadServeLock(paths: HomePaths): ServeLock | null {
  const lock = recordedServeLock(paths);
  return lock !== null && !isSameProcessAlive(lock.process) ? lock : null;
}

/** Refuses (`conflict`) while another live process is this home's `serve`. */
export function checkServeLock(paths: HomePaths): void {
  const held = liveServeLock(paths);
  if (held && held.process.pid !== process.pid) {
    throw new WardenError(
      'conflict',
      `warden serve is already running for this home (host ${held.host_id}, pid ${held.process.pid}); stop it first, or use its API at ${held.url}`,
    );
  }
}

/** Records this process as the home's `serve`. */
export function writeServeLock(paths: HomePaths, hostId: string, url: string): void {
  const me = identify(process.pid);
  if (!me) throw new Error('cannot read this process from /proc');
  const lock: ServeLock = { host_id: hostId, url, process: me };
  writeFileSync(`${paths.serveLock}.tmp`, `${JSON.stringify(lock)}\n`, { mode: 0o600 });
  renameSync(`${paths.serveLock}.tmp`, paths.serveLock);
}

/** Removes the record if it is this process's. */
export function releaseServeLock(paths: HomePaths): void {
  const held = liveServeLock(paths);
  if (held?.process.pid === process.pid) rmSync(paths.serveLock, { force: true });
}
