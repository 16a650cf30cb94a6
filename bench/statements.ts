/**
 * Statements and transactions per pull-mode task (issue #16), counted, not estimated: a real
 * `warden serve` with lib/count-statements.ts preloaded counts every statement it sends to its
 * store, by kind; N no-op tasks are created beforehand from this process (not counted), then
 * SDK workers (`createWorker`, one job at a time) claim and complete them over HTTP. The
 * counts taken when the store says every task is done, less those taken just before the
 * workers started, divided by N, are one task's cost. An idle window of the same `serve`
 * (no workers) is counted too, so the background (ticks, the data_version watch) can be told
 * apart; on SQLite every statement is a call into the library, on PostgreSQL a round trip.
 *
 * With `--slots`, one SDK worker runs that many jobs at a time instead (`concurrency`), so its
 * claims and reports travel in groups, the shape a worker process with many slots has.
 *
 *   node bench/run.ts statements [--tasks 200] [--workers 1 | --slots 8] [--idle-ms 2000] [--only sqlite|postgres]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type * as OpenPg from '../src/store/postgres/open.js';
import type * as SdkModule from '../src/sdk/index.js';
import type { Store } from '../src/store/store.js';
import { loadWarden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { machine } from './lib/machine.js';
import { minus, statementCounts } from './lib/statement-counts.js';
import type { Counts } from './lib/statement-counts.js';
import { PostgresCpu, processCpuMs } from './lib/proc-cpu.js';
import { storeCounts } from './lib/store-counts.js';
import { sleep } from './lib/time.js';
import { BenchDb, PG_URL } from './peers/postgres.js';
import { uniqueName } from './peers/peer.js';
import { wardenDb } from './peers/warden.js';

const DIST = new URL('../dist/', import.meta.url);
const PRELOAD = fileURLToPath(new URL('./lib/count-statements.ts', import.meta.url));

type Backend = 'sqlite' | 'postgres';

/** Transaction control: BEGIN (any kind) starts one; COMMIT, ROLLBACK, SAVEPOINT are overhead. */
function isBegin(kind: string): boolean {
  return /^BEGIN\b/i.test(kind);
}

interface Measured {
  backend: Backend;
  tasks: number;
  workers: number;
  /** One worker with this many slots, instead of `workers` of one. */
  slots: boolean;
  seconds: number;
  idleMs: number;
  /** CPU ms `serve` spent over the run. */
  serveMs: number;
  /** CPU ms PostgreSQL's processes on this machine spent over the run (null: none seen). */
  pgMs: number | null;
  idle: Counts;
  work: Counts;
}

async function measure(
  backend: Backend,
  tasks: number,
  workers: number,
  idleMs: number,
  slots: boolean,
): Promise<Measured> {
  const warden = await loadWarden();
  const sdk = (await import(new URL('sdk/index.js', DIST).href)) as typeof SdkModule;
  const home = new BenchHome(warden);
  const schema = uniqueName('statements');
  const db = backend === 'postgres' ? new BenchDb() : null;
  let pgStore: Store | null = null;
  let ws: SdkModule.WardenWorker[] = [];
  try {
    if (db) {
      await db.open();
      home.env.WARDEN_DB = wardenDb(schema);
    }
    await home.init();
    await home.cli(['profile', 'add', 'noop', '--pull']);
    const { token } = JSON.parse(
      await home.cli(['token', 'create', 'bench', '--profile', 'noop', '--json']),
    ) as { token: string };
    const file = join(home.root, 'statement-counts.json');
    const serve = await home.serve([], {
      node: ['--import', PRELOAD],
      env: { BENCH_COUNT_FILE: file },
    });
    let store: Store;
    if (db) {
      const { openPgStore } = (await import(
        new URL('store/postgres/open.js', DIST).href
      )) as typeof OpenPg;
      pgStore = await openPgStore(
        { url: PG_URL, schema, max: 2, create: false },
        warden.systemClock,
      );
      store = pgStore;
    } else {
      store = await home.store();
    }
    const ana = warden.person('bench');
    for (let i = 0; i < tasks; i++)
      await store.createTask({ title: `noop ${i}`, assignee: 'noop' }, ana);
    // Let serve see the new tasks' changes before the idle window (it has no worker to wake).
    await sleep(200);
    const idleStart = await statementCounts(serve, file, 1);
    await sleep(idleMs);
    const idleEnd = await statementCounts(serve, file, 2);
    let handled = 0;
    ws = Array.from({ length: slots ? 1 : workers }, () =>
      sdk.createWorker({
        url: serve.url,
        token,
        concurrency: slots ? workers : 1,
        claimWaitMs: 1000,
        handler: () => {
          handled++;
          return Promise.resolve({ summary: '' });
        },
      }),
    );
    const serveCpu = processCpuMs(serve.proc.pid ?? 0);
    const pgCpu = new PostgresCpu();
    if (db) pgCpu.start();
    const started = performance.now();
    await Promise.all(ws.map((w) => w.start()));
    await storeCounts(tasks, () => handled, store);
    const seconds = (performance.now() - started) / 1000;
    const pgMs = db ? pgCpu.stop() : null;
    const serveMs = processCpuMs(serve.proc.pid ?? 0) - serveCpu;
    const end = await statementCounts(serve, file, 3);
    return {
      backend,
      tasks,
      workers,
      slots,
      seconds,
      idleMs,
      serveMs,
      pgMs,
      idle: minus(idleEnd, idleStart),
      work: minus(end, idleEnd),
    };
  } finally {
    await Promise.all(ws.map((w) => w.stop()));
    await home.cleanup();
    await pgStore?.close();
    if (db) {
      await db.dropSchema(schema);
      await db.close();
    }
  }
}

function table(m: Measured): string {
  const per = (n: number): string => (n / m.tasks).toFixed(2);
  const kinds = Object.entries(m.work).sort((a, b) => b[1] - a[1]);
  const total = kinds.reduce((s, [, n]) => s + n, 0);
  const begins = kinds.filter(([k]) => isBegin(k)).reduce((s, [, n]) => s + n, 0);
  const idleTotal = Object.values(m.idle).reduce((s, n) => s + n, 0);
  const idlePerS = (idleTotal / m.idleMs) * 1000;
  return [
    `### ${m.backend}: ${m.tasks} tasks, ${m.slots ? `one worker of ${m.workers} slots` : `${m.workers} worker${m.workers === 1 ? '' : 's'}`}, ${m.seconds.toFixed(2)} s`,
    '',
    `statements per task: ${per(total)}; transactions (BEGIN) per task: ${per(begins)}; ` +
      `idle serve: ${idlePerS.toFixed(1)} statements/s (${(idlePerS * (m.seconds / m.tasks)).toFixed(2)} per task of this run's length)`,
    '',
    `CPU per task: serve ${(m.serveMs / m.tasks).toFixed(2)} ms` +
      (m.pgMs === null
        ? ''
        : `; PostgreSQL (every server process here) ${(m.pgMs / m.tasks).toFixed(2)} ms`),
    '',
    '| statement kind | per task | total |',
    '|---|--:|--:|',
    ...kinds.map(([k, n]) => `| \`${k.replaceAll('|', '\\|')}\` | ${per(n)} | ${n} |`),
  ].join('\n');
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      tasks: { type: 'string', default: '200' },
      workers: { type: 'string', default: '1' },
      slots: { type: 'string' },
      'idle-ms': { type: 'string', default: '2000' },
      only: { type: 'string' },
    },
  });
  const tasks = Number(values.tasks);
  if (values.slots !== undefined && values.workers !== '1')
    throw new Error('--slots stands for --workers: give one or the other');
  const slots = values.slots !== undefined;
  const workers = Number(values.slots ?? values.workers);
  const idleMs = Number(values['idle-ms']);
  if (![tasks, workers, idleMs].every((n) => Number.isInteger(n) && n > 0))
    throw new Error('--tasks, --workers (or --slots) and --idle-ms want positive whole numbers');
  const backends = (['sqlite', 'postgres'] as const).filter(
    (b) => values.only === undefined || values.only === b,
  );
  const out: string[] = [];
  for (const backend of backends) {
    const m = await measure(backend, tasks, workers, idleMs, slots);
    out.push(table(m));
    process.stderr.write(`${backend}: done in ${m.seconds.toFixed(2)} s\n`);
  }
  process.stdout.write(`${out.join('\n\n')}\n\nmachine: ${JSON.stringify(machine())}\n`);
}
