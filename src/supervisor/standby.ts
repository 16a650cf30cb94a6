import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProcessIdentity } from '../core/run.js';
import { removeCgroup } from '../os/cgroup.js';
import { bootId, identify } from '../os/procfs.js';

/** The process a worker's start begins with, made before its run is claimed (a sh script). */
export const STANDBY_PATH = fileURLToPath(new URL('../../libexec/warden-standby', import.meta.url));

/**
 * A process waiting to become a run's shim (libexec/warden-standby): it leads a session and
 * process group of its own, has joined its cgroup (or is joining it), and waits for the script
 * that makes it the shim (./spawn.ts). Its pid, and so its identity, are the run's.
 */
export interface Standby {
  child: ChildProcess;
  pid: number;
  identity: ProcessIdentity;
  /** The cgroup it joins for its run; null: the run has none. */
  cgroup: string | null;
}

/**
 * Starts a standby in `cgroup` (made for it, still empty), or in none. It has no environment and
 * works in `/`: its script gives the shim the run's own. Neither it nor its standard input
 * keeps `serve`'s event loop alive; that input's end (`serve` stopped or died) ends it.
 */
export function makeStandby(cgroup: string | null): Standby {
  const child = spawn('/bin/sh', [STANDBY_PATH, ...(cgroup !== null ? ['-g', cgroup] : [])], {
    cwd: '/',
    env: {},
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const pid = child.pid;
  // A spawn that failed says so here (no pid) and again in an 'error' event, which is not news.
  child.on('error', () => undefined);
  if (pid === undefined) {
    if (cgroup !== null) removeCgroup(cgroup);
    throw new Error('could not start /bin/sh for a standby');
  }
  // A standby gone before its script was written (killed): its exit says so, not the write.
  child.stdin?.on('error', () => undefined);
  (child.stdin as { unref?: () => void } | null)?.unref?.();
  child.unref();
  const identity = identify(pid) ?? { boot_id: bootId(), pid, start_time: 'unknown' };
  return { child, pid, identity, cgroup };
}

/** Sends a standby given no run away: its input ends, so it leaves its cgroup, removes it and exits. */
export function sendAway(standby: Standby): void {
  standby.child.stdin?.end();
}

/**
 * One standby kept waiting for a host's next start (`take`), made again once the starts of the
 * moment are made (`refill`): the time a process and its cgroup take to start is spent between
 * starts, not in one. A start that finds none waiting (the host's first, or a burst's after its
 * first) spawns its shim itself, as a standby would cost it an exec more. Only a host that has
 * started a worker keeps one.
 */
export class Standbys {
  private waiting: Standby | null = null;
  private closed = false;

  /** `cgroup`: makes an empty cgroup for a standby to join, or null (none, or not allowed). */
  constructor(private readonly cgroup: () => string | null) {}

  /** The waiting standby, if one waits (one that died has been dropped at its exit, below). */
  take(): Standby | null {
    const waiting = this.waiting;
    this.waiting = null;
    return waiting;
  }

  /** The cgroup of the standby waiting, if one waits in one. */
  cgroupWaiting(): string | null {
    return this.waiting?.cgroup ?? null;
  }

  /** Makes a standby to wait for the next start, unless one waits (or the host has stopped). */
  refill(): void {
    if (this.closed || this.waiting !== null) return;
    const cgroup = this.cgroup();
    let standby: Standby;
    try {
      standby = makeStandby(cgroup);
    } catch {
      return; // The next start spawns its shim itself.
    }
    this.waiting = standby;
    standby.child.once('exit', () => {
      // Gone while it waited (killed): its cgroup is still empty.
      if (this.waiting !== standby) return;
      this.waiting = null;
      if (standby.cgroup !== null) removeCgroup(standby.cgroup);
    });
  }

  /** Ends the waiting standby, and makes no more. */
  close(): void {
    this.closed = true;
    if (this.waiting !== null) sendAway(this.waiting);
    this.waiting = null;
  }
}
