/**
 * Pull-mode throughput (SPEC §8): no-op tasks claimed and completed by SDK workers over HTTP,
 * durable on SQLite (WAL; nothing is answered before its group is fdatasynced), with 1 and 8
 * workers (`--workers 8` for one count; `--slots` for one worker with that many slots
 * instead). Each round is a fresh home and a fresh `warden serve`; the tasks exist before the
 * workers start, and the clock runs from the workers' start to the moment the store says every
 * task is done. Beside tasks a second, each round records the CPU time `serve` and the
 * workers' process spent per task (Linux /proc): where the time goes, not only how much.
 */
import { performance } from 'node:perf_hooks';
import { loadWarden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { machine } from './lib/machine.js';
import { processCpuMs } from './lib/proc-cpu.js';
import { storeCounts } from './lib/store-counts.js';

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

/** One round: tasks a second, and the CPU `serve` and the workers' process spent per task. */
interface Round {
  rate: number;
  serveMs: number;
  clientMs: number;
}

/**
 * Runs one round with `workers` handlers at once: that many SDK workers of one slot each, or
 * with `slots`, one SDK worker with that many slots (as graphile-worker runs `concurrency`
 * jobs in one runner).
 */
async function round(workers: number, tasks: number, slots: boolean): Promise<Round> {
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
    let handled = 0;
    const ws = Array.from({ length: slots ? 1 : workers }, () =>
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
    const pid = serve.proc.pid ?? 0;
    const serveCpu = processCpuMs(pid);
    const clientCpu = process.cpuUsage();
    const start = performance.now();
    await Promise.all(ws.map((w) => w.start()));
    await storeCounts(tasks, () => handled, store);
    const seconds = (performance.now() - start) / 1000;
    const client = process.cpuUsage(clientCpu);
    const serveMs = (processCpuMs(pid) - serveCpu) / tasks;
    await Promise.all(ws.map((w) => w.stop()));
    return {
      rate: tasks / seconds,
      serveMs,
      clientMs: (client.user + client.system) / 1000 / tasks,
    };
  } finally {
    await home.cleanup();
  }
}

export async function run(argv: readonly string[]): Promise<void> {
  const tasks = arg(argv, '--tasks', 1000);
  const rounds = arg(argv, '--rounds', 3);
  const i = argv.indexOf('--workers');
  const counts = (i === -1 ? '1,8' : (argv[i + 1] ?? '')).split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error('--workers takes counts of workers, e.g. 8 or 1,8');
  const slots = argv.includes('--slots');
  const rows: string[] = [];
  const results: Record<string, number[]> = {};
  const cpu: Record<string, { serve_ms: number[]; client_ms: number[] }> = {};
  for (const workers of counts) {
    const done: Round[] = [];
    for (let r = 0; r < rounds; r++) done.push(await round(workers, tasks, slots));
    const rates = done.map((d) => d.rate);
    results[String(workers)] = rates;
    cpu[String(workers)] = {
      serve_ms: done.map((d) => d.serveMs),
      client_ms: done.map((d) => d.clientMs),
    };
    const target = workers === 8 ? '≥ 1000/s' : '';
    const met = workers === 8 ? (median(rates) >= 1000 ? 'yes' : '**no**') : '';
    const serveMs = median(done.map((d) => d.serveMs)).toFixed(2);
    const clientMs = median(done.map((d) => d.clientMs)).toFixed(2);
    rows.push(
      `| ${slots ? `1 × ${workers} slots` : workers} | ${rounds} × ${tasks} | ${median(rates).toFixed(0)} | ${Math.min(...rates).toFixed(0)} | ${Math.max(...rates).toFixed(0)} | ${serveMs} | ${clientMs} | ${target} | ${met} |`,
    );
  }
  const m = machine();
  process.stdout.write(
    `\n## Pull-mode throughput (SQLite, durable), claim + complete per second\n\n` +
      `machine: ${JSON.stringify(m)}\n\n` +
      '| workers | rounds × tasks | median tasks/s | min | max | serve CPU ms/task | workers CPU ms/task | target | met |\n|--:|---|--:|--:|--:|--:|--:|---|---|\n' +
      rows.join('\n') +
      '\n',
  );
  process.stdout.write(`\nraw: ${JSON.stringify(results)}\ncpu: ${JSON.stringify(cpu)}\n`);
}
