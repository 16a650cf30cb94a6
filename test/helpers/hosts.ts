/**
 * Several `warden serve` hosts on one PostgreSQL, each with its own home, for the several-hosts
 * tests. Each test gets a fresh schema, dropped afterwards.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../src/config/clock.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import type { PgStore } from '../../src/store/postgres/open.js';
import { commandLine, groupAlive, signalGroup } from '../../src/os/procfs.js';
import { TestHome } from './host.js';

/** `WARDEN_DB` for `url` with `schema` as its `?schema=`. */
export function wardenDb(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** One home per host, all on the PostgreSQL schema `schema`. */
export async function pgHomes(
  url: string,
  schema: string,
  count: number,
  lifeLog: string,
): Promise<TestHome[]> {
  const homes: TestHome[] = [];
  for (let i = 0; i < count; i++) {
    const h = new TestHome();
    Object.assign(h.env, { WARDEN_DB: wardenDb(url, schema), LIFE_LOG: lifeLog });
    await h.init();
    homes.push(h);
  }
  return homes;
}

/** The shared store, opened in the test process. */
export function openShared(url: string, schema: string): Promise<PgStore> {
  return openPgStore({ url, schema, max: 2, create: false }, systemClock);
}

/** Process groups whose shim runs in `home` (found by command line, recorded or not). */
export function shimGroups(home: string): number[] {
  const runs = join(home, 'runs') + '/';
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = commandLine(Number(name));
    if (argv?.some((a) => a.endsWith('warden-shim')) && argv.some((a) => a.startsWith(runs))) {
      out.push(Number(name));
    }
  }
  return out.filter((pid) => groupAlive(pid));
}

/**
 * The longest gap between two lines (beats or its stop) of any one worker in the life log: how
 * long a worker was frozen, at most.
 */
export function longestPause(lifeLog: string): number {
  const beats = new Map<number, number[]>();
  for (const line of readFileSync(lifeLog, 'utf8').split('\n')) {
    const [event, , run, , at] = line.split(' ');
    if (event === 'beat' || event === 'stop')
      beats.set(Number(run), [...(beats.get(Number(run)) ?? []), Number(at)]);
  }
  let longest = 0;
  for (const times of beats.values()) {
    for (let i = 1; i < times.length; i++)
      longest = Math.max(longest, (times[i] ?? 0) - (times[i - 1] ?? 0));
  }
  return longest;
}

/** SIGKILLs every worker group of a home; returns how many there were. */
export function killWorkers(home: string): number {
  const groups = shimGroups(home);
  for (const g of groups) signalGroup(g, 'SIGKILL');
  return groups.length;
}

/** A worker's lines in the life log. */
export interface WorkerLife {
  task: number;
  run: number;
  pid: number;
  start: number;
  /** The last line it wrote (a beat or its stop). */
  last: number;
  stopped: boolean;
  /** When it wrote each line, in order (for a failure's message). */
  times: number[];
}

/**
 * The workers' own record of their lives, by run (each line names its run): by process, a pid
 * the kernel gave again to a later worker would merge two lives.
 */
export function workerLives(lifeLog: string): WorkerLife[] {
  if (!existsSync(lifeLog)) return [];
  const byRun = new Map<number, WorkerLife>();
  for (const line of readFileSync(lifeLog, 'utf8').split('\n')) {
    const [event, task, run, pid, at] = line.split(' ');
    if (!event || at === undefined) continue;
    const r = Number(run);
    const t = Number(at);
    const w = byRun.get(r) ?? {
      task: Number(task),
      run: r,
      pid: Number(pid),
      start: t,
      last: t,
      stopped: false,
      times: [],
    };
    w.last = Math.max(w.last, t);
    w.times.push(t);
    if (event === 'stop') w.stopped = true;
    byRun.set(r, w);
  }
  return [...byRun.values()];
}

/** Run tokens the workers wrote down, by run id. */
export function runTokens(lifeLog: string): Map<number, string> {
  const out = new Map<number, string>();
  if (!existsSync(`${lifeLog}.tokens`)) return out;
  for (const line of readFileSync(`${lifeLog}.tokens`, 'utf8').split('\n')) {
    const [run, token] = line.split(' ');
    if (run && token) out.set(Number(run), token);
  }
  return out;
}

/**
 * P3 on the workers' own lines: for each task, no worker wrote a line after a later worker of
 * the same task had started.
 */
export function overlaps(lives: readonly WorkerLife[]): string[] {
  const byTask = new Map<number, WorkerLife[]>();
  for (const w of lives) byTask.set(w.task, [...(byTask.get(w.task) ?? []), w]);
  const problems: string[] = [];
  for (const [task, ws] of byTask) {
    ws.sort((a, b) => a.start - b.start);
    for (let i = 1; i < ws.length; i++) {
      const earlier = ws.slice(0, i).reduce((m, w) => Math.max(m, w.last), 0);
      const next = ws[i];
      if (next && earlier >= next.start) {
        problems.push(
          `task ${task}: run ${next.run} started at ${next.start} while an earlier worker still wrote at ${earlier}`,
        );
      }
    }
  }
  return problems;
}
