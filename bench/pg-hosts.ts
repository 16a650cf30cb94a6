/**
 * Several hosts on PostgreSQL (SPEC §3, §8; issue #6), on this one machine:
 *
 * - spawned-mode throughput: `/bin/true` tasks started by `warden serve` and booked done, per
 *   second, with one host and with three (each `--max-workers 4`), beside one host on SQLite.
 *   The tasks wait on a paused board; the clock runs from resuming it to the store counting
 *   every task done.
 * - host-loss detection: a host's `serve` and its worker are SIGKILLed; the time from that
 *   host's last lease renewal (on PostgreSQL's clock) to its run being ended `host_lost` and
 *   its task requeued by the other host (SPEC §8: within TTL + 2 s).
 *
 * Three hosts on a 2-core machine share its cores and its one PostgreSQL: the three-host rows
 * show what coordination costs, not how warden scales across machines.
 *
 * - `--burn`: a busy loop per core runs through the whole measurement (issue #11: detection
 *   under load), so renewals, claims and reaps all wait for CPU.
 * - `--hosts N` (host loss, default 2): N hosts, the first of them lost; with `--busy N` the
 *   others work through N `/bin/true` tasks meanwhile, so claims and completions contend with
 *   the reap. `--losses-only` skips the throughput rows.
 *
 *   node bench/run.ts pg-hosts [--tasks 200] [--rounds 3] [--host-ttl 5000] [--losses 5]
 *     [--hosts 2] [--busy 0] [--burn] [--losses-only]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type * as OpenPg from '../src/store/postgres/open.js';
import type { Store } from '../src/store/store.js';
import { loadWarden } from './lib/dist.js';
import type { Warden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { machine } from './lib/machine.js';
import { report } from './lib/results.js';
import { summarize } from './lib/stats.js';
import type { Row } from './lib/stats.js';
import { waitFor } from './lib/time.js';
import { runAll, uniqueName } from './peers/peer.js';
import { BenchDb, PG_URL } from './peers/postgres.js';
import { wardenDb } from './peers/warden.js';

const DIST = new URL('../dist/', import.meta.url);

function positive(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${option} wants a positive integer`);
  return n;
}

/** One board shared by `hosts` homes: on PostgreSQL (a fresh schema) or, for 0, SQLite. */
class Cluster {
  readonly homes: BenchHome[] = [];
  readonly schema = uniqueName('hosts');
  store: Store | null = null;
  private readonly db = new BenchDb();
  private readonly warden: Warden;
  readonly postgres: boolean;

  constructor(warden: Warden, postgres: boolean) {
    this.warden = warden;
    this.postgres = postgres;
  }

  async setUp(hosts: number): Promise<void> {
    if (this.postgres) await this.db.open();
    for (let i = 0; i < hosts; i++) {
      const home = new BenchHome(this.warden);
      if (this.postgres) home.env.WARDEN_DB = wardenDb(this.schema);
      this.homes.push(home);
      await home.init();
    }
    if (this.postgres) {
      const { openPgStore } = (await import(
        new URL('store/postgres/open.js', DIST).href
      )) as typeof OpenPg;
      this.store = await openPgStore(
        { url: PG_URL, schema: this.schema, max: 2, create: false },
        this.warden.systemClock,
      );
    } else {
      this.store = await (this.homes[0] as BenchHome).store();
    }
  }

  async close(): Promise<void> {
    await runAll([
      ...this.homes.map((h) => () => h.cleanup()),
      () => (this.postgres ? (this.store?.close() ?? Promise.resolve()) : Promise.resolve()),
      () => (this.postgres ? this.db.dropSchema(this.schema) : Promise.resolve()),
      () => (this.postgres ? this.db.close() : Promise.resolve()),
    ]);
  }
}

async function spawnedRound(warden: Warden, hosts: number, tasks: number): Promise<number> {
  const c = new Cluster(warden, hosts > 0);
  try {
    await c.setUp(Math.max(hosts, 1));
    const first = c.homes[0] as BenchHome;
    await first.profile('noop', ['/bin/true']);
    const store = c.store as Store;
    const ana = warden.person('bench');
    await store.setBoardPaused('default', true, ana);
    for (let i = 0; i < tasks; i++)
      await store.createTask({ title: `noop ${i}`, assignee: 'noop' }, ana);
    for (const [i, h] of c.homes.entries())
      await h.serve(['--max-workers', '4', ...(c.postgres ? ['--host-id', `bench${i}`] : [])]);
    const start = performance.now();
    await store.setBoardPaused('default', false, ana);
    await waitFor(
      'every task done',
      async () => (((await store.countTasks('default')).done ?? 0) >= tasks ? true : undefined),
      120_000,
      5,
    );
    return tasks / ((performance.now() - start) / 1000);
  } finally {
    await c.close();
  }
}

interface LossSample {
  detect_ms: number;
  requeued_ms: number;
  restarted_ms: number;
}

/** A busy loop per core, until stopped (`--burn`). */
function burners(): () => void {
  const procs: ChildProcess[] = [];
  for (let i = 0; i < availableParallelism(); i++)
    procs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return () => {
    for (const p of procs) p.kill('SIGKILL');
  };
}

async function lossRound(
  warden: Warden,
  ttlMs: number,
  hosts: number,
  busy: number,
): Promise<LossSample> {
  const c = new Cluster(warden, true);
  try {
    await c.setUp(hosts);
    const [b, ...others] = c.homes as [BenchHome, ...BenchHome[]];
    await b.profile('sleep', ['/bin/sleep', '600'], ['--backoff-base', '1ms']);
    if (busy > 0) await b.profile('noop', ['/bin/true']);
    const store = c.store as Store;
    const ana = warden.person('bench');
    const ttl = ['--host-ttl', `${ttlMs}ms`, '--tick', '200ms'];
    // Host b alone at first, so the task runs there.
    const serveB = await b.serve(['--host-id', 'b', '--max-workers', '4', ...ttl]);
    const task = await store.createTask({ title: 'long', assignee: 'sleep' }, ana);
    const run = await waitFor(
      'the task to run on host b',
      async () => (await store.listRuns(task.id)).find((r) => r.process !== null),
      30_000,
    );
    if (busy > 0) {
      await store.setBoardPaused('default', true, ana);
      for (let i = 0; i < busy; i++)
        await store.createTask({ title: `noop ${i}`, assignee: 'noop' }, ana);
    }
    for (const [i, h] of others.entries())
      await h.serve(['--host-id', `h${i}`, '--max-workers', '4', ...ttl]);
    // The others must have renewed for a full TTL before they may reap anyone.
    await new Promise((r) => setTimeout(r, ttlMs + 500));
    if (busy > 0) {
      await store.setBoardPaused('default', false, ana);
      await new Promise((r) => setTimeout(r, 300));
    }
    serveB.proc.kill('SIGKILL');
    if (run.process) warden.signalGroup(run.process.pid, 'SIGKILL');
    const lastRenewal = await waitFor('host b’s last renewal', async () => {
      const h = (await store.activeHosts()).find((x) => x.host_id === 'b');
      return h?.renewed_at;
    });
    const ended = await waitFor(
      'host b’s run to be reaped',
      async () => {
        const r = await store.getRun(run.id);
        return r.state === 'ended' ? r : undefined;
      },
      ttlMs * 3 + 10_000,
      5,
    );
    const requeued = (await store.listEvents({ task_id: task.id, kinds: ['run_ended'] })).find(
      (e) => e.run_id === run.id,
    );
    const second = await waitFor(
      'the task to start again on host a',
      async () => (await store.listRuns(task.id)).find((r) => r.id !== run.id),
      ttlMs * 3 + 10_000,
      5,
    );
    if (ended.outcome !== 'host_lost') throw new Error(`run ended ${ended.outcome}`);
    return {
      detect_ms: (ended.ended_at ?? 0) - lastRenewal,
      requeued_ms: (requeued?.at ?? 0) - lastRenewal,
      restarted_ms: second.started_at - lastRenewal,
    };
  } finally {
    await c.close();
  }
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      tasks: { type: 'string', default: '200' },
      rounds: { type: 'string', default: '3' },
      'host-ttl': { type: 'string', default: '5000' },
      losses: { type: 'string', default: '5' },
      hosts: { type: 'string', default: '2' },
      busy: { type: 'string', default: '0' },
      burn: { type: 'boolean', default: false },
      'losses-only': { type: 'boolean', default: false },
    },
  });
  const tasks = positive(values.tasks, 'tasks');
  const rounds = positive(values.rounds, 'rounds');
  const ttlMs = positive(values['host-ttl'], 'host-ttl');
  const losses = positive(values.losses, 'losses');
  const hosts = positive(values.hosts, 'hosts');
  if (hosts < 2) throw new Error('--hosts wants at least 2: one to lose, one to reap it');
  const busy = values.busy === '0' ? 0 : positive(values.busy, 'busy');
  const warden = await loadWarden();
  const startedAt = new Date();
  const unburn = values.burn ? burners() : (): void => undefined;
  try {
    await measure();
  } finally {
    unburn();
  }

  async function measure(): Promise<void> {
    // 0 = one host on SQLite, the reference; rounds interleave so load falls on all alike.
    const variants = [0, 1, 3] as const;
    const rates = new Map<number, number[]>(variants.map((v) => [v, []]));
    for (let r = 0; r < (values['losses-only'] ? 0 : rounds); r++) {
      for (const v of variants) {
        const rate = await spawnedRound(warden, v, tasks);
        rates.get(v)?.push(rate);
        process.stderr.write(`round ${r + 1}/${rounds} spawned ${v}: ${rate.toFixed(0)} tasks/s\n`);
      }
    }
    const lossSamples: LossSample[] = [];
    for (let i = 0; i < losses; i++) {
      const s = await lossRound(warden, ttlMs, hosts, busy);
      lossSamples.push(s);
      process.stderr.write(`host loss ${i + 1}/${losses}: ${JSON.stringify(s)}\n`);
    }

    const label = (v: number): string =>
      v === 0 ? 'spawned, SQLite, 1 host' : `spawned, PostgreSQL, ${v} host${v === 1 ? '' : 's'}`;
    const rateRows: Row[] = (values['losses-only'] ? [] : variants).map((v) => ({
      label: `${label(v)} (tasks/s)`,
      summary: summarize(rates.get(v) ?? []),
    }));
    const lossRows: Row[] = [
      {
        label: `host loss: last renewal → run ended host_lost (TTL ${ttlMs} ms, ${hosts} hosts${busy ? `, ${busy} tasks flowing` : ''}${values.burn ? ', a busy loop per core' : ''})`,
        summary: summarize(lossSamples.map((s) => s.detect_ms)),
        target: { p99: ttlMs + 2000 },
      },
      {
        label: 'host loss: last renewal → task requeued (run_ended event)',
        summary: summarize(lossSamples.map((s) => s.requeued_ms)),
      },
      {
        label: 'host loss: last renewal → task started again on the other host',
        summary: summarize(lossSamples.map((s) => s.restarted_ms)),
      },
    ];
    report({
      name: 'pg-hosts',
      title:
        'Several hosts on PostgreSQL: spawned throughput (tasks/s) and host-loss detection (ms)',
      started_at: startedAt.toISOString(),
      duration_s: (Date.now() - startedAt.getTime()) / 1000,
      method:
        `Throughput: ${rounds} rounds × ${tasks} \`/bin/true\` tasks per row, each round a fresh ` +
        'home (SQLite) or schema (PostgreSQL) with each host `--max-workers 4`, from resuming the ' +
        'paused board to every task done. Host loss: ' +
        `${losses} samples, ${hosts} hosts with --host-ttl ${ttlMs}ms, the task's host SIGKILLed with ` +
        'its worker; times from its last renewal as PostgreSQL recorded it' +
        (busy ? `; the other hosts working through ${busy} \`/bin/true\` tasks meanwhile` : '') +
        (values.burn
          ? `; a busy loop on each of the ${availableParallelism()} cores throughout.`
          : '.'),
      rows: [...rateRows, ...lossRows],
      notes: [],
      samples: [{ rates: Object.fromEntries(rates) }, ...lossSamples],
    });
    process.stdout.write(`\nmachine: ${JSON.stringify(machine())}\n`);
  }
}
