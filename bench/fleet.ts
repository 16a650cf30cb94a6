/**
 * A fleet of sleeping spawned workers (issue #16): one real `warden serve` on SQLite runs N
 * workers that do nothing (`sleep`) for M minutes, and what it costs is measured from outside:
 * `serve`'s CPU (utime + stime from /proc over the window, as % of one core) and its RSS
 * (sampled every 10 s), each run's shim processes (the shim itself, its log reader and the
 * reader's `dd`: RSS and PSS from /proc/PID/smaps_rollup, PSS sharing the pages they have in
 * common), and the store's writes per second (every INSERT, UPDATE, DELETE and COMMIT
 * `serve` sends, counted by bench/lib/count-statements.ts preloaded into it).
 *
 *   node bench/run.ts fleet [--workers 200] [--minutes 5]
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadWarden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { machine } from './lib/machine.js';
import { processCpuMs } from './lib/proc-cpu.js';
import { minus, statementCounts } from './lib/statement-counts.js';
import type { Counts } from './lib/statement-counts.js';
import { summarize } from './lib/stats.js';
import { sleep, waitFor } from './lib/time.js';

const PRELOAD = fileURLToPath(new URL('./lib/count-statements.ts', import.meta.url));
const SAMPLE_MS = 10_000;

/** CPU time (user + system) a process has used, in seconds. */
function cpuSeconds(pid: number): number {
  return processCpuMs(pid) / 1000;
}

/** A process's resident and proportional set sizes in KiB, or null once it is gone. */
function memory(pid: number): { rss: number; pss: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return null;
  }
}

/** The processes of each run's group but the worker: the shim, its reader, the reader's dd. */
function shimProcesses(runsDir: string): { role: string; pid: number; group: number }[] {
  const shims = new Set<number>();
  for (const name of readdirSync(runsDir)) {
    const file = join(runsDir, name, 'shim.pid');
    if (existsSync(file)) shims.add(Number(readFileSync(file, 'utf8').trim()));
  }
  const out: { role: string; pid: number; group: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    let cmd: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0] ?? '';
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const group = Number(fields[2]);
    if (!shims.has(group)) continue;
    const pid = Number(entry);
    const role =
      pid === group
        ? 'shim'
        : cmd.endsWith('dd')
          ? 'dd'
          : cmd.endsWith('sleep')
            ? 'worker'
            : 'reader';
    out.push({ role, pid, group });
  }
  return out;
}

function writes(c: Counts): { statements: number; commits: number } {
  let statements = 0;
  let commits = 0;
  for (const [kind, n] of Object.entries(c)) {
    if (/^(INSERT|UPDATE|DELETE)\b/.test(kind)) statements += n;
    if (kind === 'COMMIT') commits += n;
  }
  return { statements, commits };
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      workers: { type: 'string', default: '200' },
      minutes: { type: 'string', default: '5' },
    },
  });
  const workers = Number(values.workers);
  const minutes = Number(values.minutes);
  if (!Number.isInteger(workers) || workers <= 0)
    throw new Error('--workers wants a positive integer');
  if (!(minutes > 0)) throw new Error('--minutes wants a positive number');
  const warden = await loadWarden();
  const home = new BenchHome(warden);
  try {
    await home.init();
    await home.profile('sleeper', ['sleep', '100000']);
    const store = await home.store();
    const ana = warden.person('bench');
    for (let i = 0; i < workers; i++)
      await store.createTask({ title: `sleep ${i}`, assignee: 'sleeper' }, ana);
    const file = join(home.root, 'counts.json');
    const serve = await home.serve(['--max-workers', String(workers)], {
      node: ['--import', PRELOAD],
      env: { BENCH_COUNT_FILE: file },
    });
    const pid = serve.proc.pid ?? 0;
    const runsDir = join(home.root, 'runs');
    await waitFor(
      `${workers} workers running`,
      () =>
        shimProcesses(runsDir).filter((p) => p.role === 'worker').length >= workers || undefined,
      120_000,
      200,
    );
    // Settled: the starts' writes are behind it.
    await sleep(10_000);
    const before = await statementCounts(serve, file, 1);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    const serveRss: number[] = [];
    const byRole = new Map<string, { rss: number[]; pss: number[] }>();
    const perRun: { rss: number[]; pss: number[] } = { rss: [], pss: [] };
    const end = t0 + minutes * 60_000;
    while (performance.now() < end) {
      serveRss.push(memory(pid)?.rss ?? 0);
      const groups = new Map<number, { rss: number; pss: number }>();
      for (const p of shimProcesses(runsDir)) {
        if (p.role === 'worker') continue;
        const m = memory(p.pid);
        if (!m) continue;
        const r = byRole.get(p.role) ?? { rss: [], pss: [] };
        r.rss.push(m.rss);
        r.pss.push(m.pss);
        byRole.set(p.role, r);
        const g = groups.get(p.group) ?? { rss: 0, pss: 0 };
        groups.set(p.group, { rss: g.rss + m.rss, pss: g.pss + m.pss });
      }
      for (const g of groups.values()) {
        perRun.rss.push(g.rss);
        perRun.pss.push(g.pss);
      }
      await sleep(Math.min(SAMPLE_MS, Math.max(0, end - performance.now())));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const after = await statementCounts(serve, file, 2);
    const window = minus(after, before);
    const w = writes(window);
    const running = shimProcesses(runsDir).filter((p) => p.role === 'worker').length;
    const mb = (kb: number): string => (kb / 1024).toFixed(1);
    const rss = summarize(serveRss);
    console.log(
      `\n## A fleet of ${workers} sleeping spawned workers for ${minutes} min (SQLite)\n`,
    );
    console.log(`machine: ${JSON.stringify(machine())}\n`);
    console.log('| measure | value | target |');
    console.log('|---|--:|---|');
    console.log(`| workers running at the end | ${running} of ${workers} | |`);
    console.log(`| serve CPU, % of one core | ${((100 * cpu) / seconds).toFixed(2)} | < 5 |`);
    console.log(`| serve RSS, median / max MB | ${mb(rss.p50)} / ${mb(rss.max)} | < 200 |`);
    for (const role of ['shim', 'reader', 'dd']) {
      const r = byRole.get(role);
      if (!r) continue;
      const rs = summarize(r.rss);
      console.log(
        `| ${role} process: RSS median / max MB; PSS median MB | ${mb(rs.p50)} / ${mb(rs.max)}; ${mb(summarize(r.pss).p50)} | |`,
      );
    }
    console.log(
      `| per run (shim + reader + dd): RSS median MB; PSS median MB | ${mb(summarize(perRun.rss).p50)}; ${mb(summarize(perRun.pss).p50)} | < 2 per shim |`,
    );
    console.log(
      `| store writes per second (INSERT/UPDATE/DELETE; COMMIT) | ${(w.statements / seconds).toFixed(2)}; ${(w.commits / seconds).toFixed(2)} | grow with hosts, not runs |`,
    );
    console.log(`\nwindow ${seconds.toFixed(0)} s; counts by kind over it:`);
    const delta = Object.entries(window).sort((a, b) => b[1] - a[1]);
    for (const [k, v] of delta.slice(0, 15)) console.log(`  ${k}: ${v}`);
  } finally {
    await home.cleanup();
  }
}
