/**
 * Pull-mode throughput (SPEC §8): no-op tasks claimed and completed by SDK workers over HTTP,
 * durable on SQLite (WAL, synchronous=FULL), with 1 and 8 workers. Each round is a fresh home
 * and a fresh `warden serve`; the tasks exist before the workers start, and the clock runs
 * from the workers' start to the moment the store says every task is done.
 */
import { performance } from 'node:perf_hooks';
import { loadWarden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { machine } from './lib/machine.js';

interface Sdk {
  createWorker(options: {
    url: string;
    token: string;
    concurrency?: number;
    claimWaitMs?: number;
    handler: () => Promise<{ summary: string }>;
  }): { start(): Promise<void>; stop(): Promise<void> };
}

function arg(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const v = i === -1 ? undefined : Number(argv[i + 1]);
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
}

async function round(workers: number, tasks: number): Promise<number> {
  const warden = await loadWarden();
  const sdk = (await import(new URL('../dist/sdk/index.js', import.meta.url).href)) as Sdk;
  const home = new BenchHome(warden);
  try {
    await home.init();
    await home.cli(['profile', 'add', 'noop', '--pull']);
    const token = (
      JSON.parse(await home.cli(['token', 'create', 'bench', '--profile', 'noop', '--json'])) as {
        token: string;
      }
    ).token;
    const serve = await home.serve();
    const store = await home.store();
    const ana = warden.person('bench');
    for (let i = 0; i < tasks; i++)
      await store.createTask({ title: `noop ${i}`, assignee: 'noop' }, ana);
    const ws = Array.from({ length: workers }, () =>
      sdk.createWorker({
        url: serve.url,
        token,
        concurrency: 1,
        claimWaitMs: 1000,
        handler: () => Promise.resolve({ summary: '' }),
      }),
    );
    const start = performance.now();
    await Promise.all(ws.map((w) => w.start()));
    for (;;) {
      const done = (await store.countTasks('default')).done ?? 0;
      if (done >= tasks) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = (performance.now() - start) / 1000;
    await Promise.all(ws.map((w) => w.stop()));
    return tasks / seconds;
  } finally {
    await home.cleanup();
  }
}

export async function run(argv: readonly string[]): Promise<void> {
  const tasks = arg(argv, '--tasks', 1000);
  const rounds = arg(argv, '--rounds', 3);
  const rows: string[] = [];
  const results: Record<string, number[]> = {};
  for (const workers of [1, 8]) {
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) rates.push(await round(workers, tasks));
    results[String(workers)] = rates;
    const target = workers === 8 ? '≥ 1000/s' : '';
    const met = workers === 8 ? (median(rates) >= 1000 ? 'yes' : '**no**') : '';
    rows.push(
      `| ${workers} | ${rounds} × ${tasks} | ${median(rates).toFixed(0)} | ${Math.min(...rates).toFixed(0)} | ${Math.max(...rates).toFixed(0)} | ${target} | ${met} |`,
    );
  }
  const m = machine();
  process.stdout.write(
    `\n## Pull-mode throughput (SQLite, durable), claim + complete per second\n\n` +
      `machine: ${JSON.stringify(m)}\n\n` +
      '| workers | rounds × tasks | median tasks/s | min | max | target | met |\n|--:|---|--:|--:|--:|---|---|\n' +
      rows.join('\n') +
      '\n',
  );
  process.stdout.write(`\nraw: ${JSON.stringify(results)}\n`);
}
