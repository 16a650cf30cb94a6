/**
 * CPU time of processes on this machine, from Linux's /proc: where a benchmark's time goes,
 * not only how much. Clock ticks are 10 ms (USER_HZ 100, Linux's fixed value for /proc).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10;

/** A process's stat fields after its name (which may hold spaces), or null once it is gone. */
function statFields(pid: number | string): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The CPU time (user + system), in ms, that stat fields `f` (from `statFields`) give. */
function cpuMsOf(f: readonly string[]): number {
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** A process's CPU time so far (user + system), in ms. */
export function processCpuMs(pid: number): number {
  const f = statFields(pid);
  if (!f) throw new Error(`process ${pid} is gone; its CPU time cannot be read`);
  return cpuMsOf(f);
}

/**
 * The CPU time PostgreSQL's server processes on this machine spend over a window: all of them
 * (backends of every client, the WAL writer, autovacuum), sampled every 100 ms so that a
 * backend which exits within the window is counted up to its last sample. Null when none is
 * visible (a server on another machine).
 */
export class PostgresCpu {
  /** CPU ms at the window's start and at the latest sample, by pid and start time. */
  private readonly seen = new Map<string, { first: number; last: number }>();
  private timer: NodeJS.Timeout | null = null;

  start(): void {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), 100);
  }

  /** Ends the window: PostgreSQL's CPU ms within it, or null if no server process was seen. */
  stop(): number | null {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample(false);
    if (this.seen.size === 0) return null;
    let ms = 0;
    for (const { first, last } of this.seen.values()) ms += last - first;
    return ms;
  }

  private sample(atStart: boolean): void {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let comm: string;
      try {
        comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if (comm !== 'postgres') continue;
      const f = statFields(pid);
      if (!f) continue;
      const cpu = cpuMsOf(f);
      const key = `${pid}@${f[19]}`;
      const known = this.seen.get(key);
      // A process first seen after the start began within the window: all its time is in it.
      if (known) known.last = cpu;
      else this.seen.set(key, { first: atStart ? cpu : 0, last: cpu });
    }
  }
}
