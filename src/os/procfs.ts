import { readFileSync, readdirSync } from 'node:fs';
import type { ProcessIdentity } from '../core/run.js';

/**
 * What the kernel says about processes (Linux /proc). A pid alone is reused and a start time
 * alone repeats after a reboot, so a process is known by boot id + pid + start time.
 */

let cachedBootId: string | null = null;

/** This boot's id (changes at every reboot). */
export function bootId(): string {
  if (cachedBootId === null) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = 'unknown-boot';
    }
  }
  return cachedBootId;
}

interface Stat {
  state: string;
  pgid: number;
  startTime: string;
}

/** Fields of /proc/PID/stat, or null if there is no such process. */
function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself hold spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgid = fields[2];
  const startTime = fields[19];
  if (state === undefined || pgid === undefined || startTime === undefined) return null;
  return { state, pgid: Number(pgid), startTime };
}

/** The identity of a running process, or null if it is gone. */
export function identify(pid: number): ProcessIdentity | null {
  const stat = readStat(pid);
  if (!stat) return null;
  return { boot_id: bootId(), pid, start_time: stat.startTime };
}

/** Whether a process with this pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && !isDead(stat.state);
}

/** Whether the process `identity` names is still there and not a zombie. */
export function isSameProcessAlive(identity: ProcessIdentity): boolean {
  if (identity.boot_id !== bootId()) return false;
  const stat = readStat(identity.pid);
  return stat !== null && stat.startTime === identity.start_time && !isDead(stat.state);
}

/**
 * Whether the process `identity` names is there but stopped (SIGSTOP, a terminal's Ctrl-Z,
 * a debugger): it runs nothing, answers nothing, until it is continued.
 */
export function isStoppedProcess(identity: ProcessIdentity): boolean {
  if (identity.boot_id !== bootId()) return false;
  const stat = readStat(identity.pid);
  return (
    stat !== null &&
    stat.startTime === identity.start_time &&
    (stat.state === 'T' || stat.state === 't')
  );
}

function isDead(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

/**
 * Whether any live (non-zombie) process is left in a process group. Zombies are ignored: an
 * orphan whose parent is gone may never be reaped on machines whose init does not reap.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  return groupMembers(pgid).length > 0;
}

/** Live members of a process group, read from /proc. */
export function groupMembers(pgid: number): number[] {
  return liveProcesses()
    .filter((p) => p.pgid === pgid)
    .map((p) => p.pid);
}

/** Every live (non-zombie) process, with its process group. */
export function liveProcesses(): { pid: number; pgid: number }[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const live: { pid: number; pgid: number }[] = [];
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = readStat(Number(entry));
    if (stat && !isDead(stat.state)) live.push({ pid: Number(entry), pgid: stat.pgid });
  }
  return live;
}

/** The process group of a live process; null if it is gone or a zombie. */
export function liveGroup(pid: number): number | null {
  const stat = readStat(pid);
  return stat === null || isDead(stat.state) ? null : stat.pgid;
}

/**
 * The environment a process was started with (`NAME=value` each), or null if it is gone or
 * not this user's to read. It is what the process's program was given at exec: a process
 * that changes its own variables later still shows these, one that execs with a cleared
 * environment shows none.
 */
export function environment(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

/** Sends a signal to every process of a group; false if the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  return signalProcess(-pgid, signal);
}

/** Sends a signal to one process; false if it is already gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** A process's command line, or null if it is gone. */
export function commandLine(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
  } catch {
    return null;
  }
}
