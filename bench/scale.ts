/**
 * Scale (issue #16): a board of 100,000 tasks and 1,000,000 events, on SQLite and on
 * PostgreSQL. Each backend gets a fresh home (`warden init`, a fresh schema on PostgreSQL),
 * filled straight through SQL (`lib/scale-fill.ts`), then a real `warden serve` answers the
 * reads a person and the dashboard make, one request at a time, in a shuffled order: the task
 * list with realistic filters and pages, the board in columns, events, a task's detail. Then
 * `warden list` (the CLI, a fresh process each time), the dashboard's first paint in Debian's
 * chromium (as `dashboard-paint` measures it) and the database's size.
 *
 *   node bench/run.ts scale [--tasks 100000] [--events 1000000] [--requests 300]
 *                           [--paints 5] [--only sqlite|postgres]
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadWarden } from './lib/dist.js';
import type { Warden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { machine } from './lib/machine.js';
import { fillPostgres, fillSqlite } from './lib/scale-fill.js';
import { percentile, summarize } from './lib/stats.js';
import { BenchDb, PG_URL } from './peers/postgres.js';
import { uniqueName } from './peers/peer.js';
import { wardenDb } from './peers/warden.js';
import { launchBrowser } from '../test/helpers/browser.js';

function positive(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${option} wants a positive integer`);
  return n;
}

/**
 * What a person and the dashboard read, as API paths (the name is the table's label). The
 * searches: `release` and `login` are each in one title of seven (lib/scale-fill.ts), `4242` in
 * about a dozen (a task's number, as in "Task 14242: ...").
 */
function reads(tasks: number): Record<string, string[]> {
  const some = (n: number): number[] =>
    Array.from({ length: n }, (_, k) => 1 + Math.floor(((k + 0.5) * tasks) / n));
  return {
    'list: ready, 50': ['/api/v1/tasks?board=default&status=ready&limit=50'],
    'list: open (default filter), 100': ['/api/v1/tasks?board=default&limit=100'],
    'list: blocked of one assignee': [
      '/api/v1/tasks?board=default&status=blocked&assignee=coder&limit=50',
    ],
    'list: search title': ['/api/v1/tasks?board=default&q=release&limit=50'],
    'list: search title, rare word': ['/api/v1/tasks?board=default&q=4242&limit=50'],
    'list: done, page 1 / 20 / 200 of 50': [0, 19, 199].map(
      (p) => `/api/v1/tasks?board=default&status=done&limit=50&offset=${p * 50}`,
    ),
    'board: columns (50 cards each)': ['/api/v1/board?board=default'],
    'board: columns, searched': ['/api/v1/board?board=default&q=login'],
    'board: columns, searched for a rare word': ['/api/v1/board?board=default&q=4242'],
    'events: newest 100 of the board': ['/api/v1/events?board=default&limit=100'],
    "events: one task's": some(5).map((id) => `/api/v1/events?task=${id}`),
    'task detail': some(5).map((id) => `/api/v1/tasks/${id}`),
  };
}

interface Timing {
  label: string;
  times: number[];
}

async function timeRequests(
  url: string,
  token: string,
  requests: number,
  tasks: number,
): Promise<Timing[]> {
  const plan = Object.entries(reads(tasks));
  const timings = plan.map(([label]) => ({ label, times: [] as number[] }));
  // Warm-up: every path once, not counted.
  for (const [, paths] of plan) for (const p of paths) await get(url, token, p);
  const order = plan.flatMap((_, k) => Array.from({ length: requests }, () => k));
  for (let k = order.length - 1; k > 0; k--) {
    const swap = Math.floor(Math.random() * (k + 1));
    [order[k], order[swap]] = [order[swap] as number, order[k] as number];
  }
  const seen = new Map<number, number>();
  for (const k of order) {
    const [, paths] = plan[k] as [string, string[]];
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    const start = performance.now();
    await get(url, token, paths[n % paths.length] as string);
    timings[k]?.times.push(performance.now() - start);
  }
  return timings;
}

async function get(url: string, token: string, path: string): Promise<void> {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 200)}`);
}

/** `warden ARGS` wall time, a fresh process each time. */
async function timeCli(home: BenchHome, args: string[], runs: number): Promise<number[]> {
  const times: number[] = [];
  await home.cli(args);
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await home.cli(args);
    times.push(performance.now() - start);
  }
  return times;
}

/** First full paint of the board, as `dashboard-paint` measures it. */
async function timePaint(home: BenchHome, paints: number): Promise<number[]> {
  const browser = await launchBrowser();
  const times: number[] = [];
  try {
    for (let i = 0; i < paints; i++) {
      const url = (await home.cli(['open'])).trim();
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForSelector('[data-column="done"] .card', { timeout: 60_000 });
      const start = performance.now();
      await page.goto(url.replace(/\/login.*/, '/'));
      await page.waitForSelector('[data-column="done"] .card', { timeout: 60_000 });
      await page.waitForSelector('[data-column="blocked"] .card', { timeout: 60_000 });
      times.push(performance.now() - start);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return times;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

function sqliteSize(root: string): number {
  let total = 0;
  for (const f of ['warden.db', 'warden.db-wal']) {
    try {
      total += statSync(join(root, f)).size;
    } catch {
      // no WAL file after a checkpoint
    }
  }
  return total;
}

interface Options {
  tasks: number;
  events: number;
  requests: number;
  paints: number;
}

async function measureBackend(warden: Warden, backend: string, o: Options): Promise<string> {
  const home = new BenchHome(warden);
  const postgres = backend === 'postgres';
  const schema = uniqueName('scale');
  const db = new BenchDb();
  if (postgres) {
    await db.open();
    home.env.WARDEN_DB = wardenDb(schema);
  }
  try {
    await home.init();
    await home.cli(['board', 'add', 'ops']);
    await home.profile('coder', ['true']);
    await home.profile('reviewer', ['true']);
    let start = performance.now();
    const plan = { tasks: o.tasks, events: o.events, now: Date.now() };
    if (postgres) await fillPostgres(PG_URL, schema, plan);
    else fillSqlite(join(home.root, 'warden.db'), plan);
    const fillS = (performance.now() - start) / 1000;
    process.stderr.write(`${backend}: filled in ${fillS.toFixed(0)} s\n`);
    // Paused, so nothing is dispatched while the reads are measured.
    await home.cli(['board', 'pause', 'default']);
    await home.cli(['board', 'pause', 'ops']);
    const serve = await home.serve();
    const token = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    start = performance.now();
    const timings = await timeRequests(serve.url, token, o.requests, o.tasks);
    process.stderr.write(
      `${backend}: requests in ${((performance.now() - start) / 1000).toFixed(0)} s\n`,
    );
    timings.push({ label: '`warden list` (1,000 rows)', times: await timeCli(home, ['list'], 10) });
    timings.push({
      label: '`warden list --status ready --limit 50`',
      times: await timeCli(home, ['list', '--status', 'ready', '--limit', '50'], 10),
    });
    timings.push({ label: 'dashboard first paint', times: await timePaint(home, o.paints) });
    const size = postgres
      ? await db.number(
          `select sum(pg_total_relation_size(c.oid))::bigint::float8 as n from pg_class c
             join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'`,
          [schema],
        )
      : sqliteSize(home.root);
    const lines = timings.map((t) => {
      const s = summarize(t.times);
      const p95 = percentile(
        [...t.times].sort((a, b) => a - b),
        95,
      );
      return `| ${backend} | ${t.label} | ${s.n} | ${s.p50.toFixed(1)} | ${p95.toFixed(1)} | ${s.max.toFixed(1)} |`;
    });
    return [
      ...lines,
      `| ${backend} | database size | | ${mib(size)} | | |`,
      `| ${backend} | fill (SQL, not counted above) | 1 | ${(fillS * 1000).toFixed(0)} | | |`,
    ].join('\n');
  } finally {
    await home.cleanup().catch(() => undefined);
    if (postgres) {
      await db.dropSchema(schema);
      await db.close();
    }
  }
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      tasks: { type: 'string', default: '100000' },
      events: { type: 'string', default: '1000000' },
      requests: { type: 'string', default: '300' },
      paints: { type: 'string', default: '5' },
      only: { type: 'string' },
    },
  });
  const o: Options = {
    tasks: positive(values.tasks, 'tasks'),
    events: positive(values.events, 'events'),
    requests: positive(values.requests, 'requests'),
    paints: positive(values.paints, 'paints'),
  };
  const warden = await loadWarden();
  const backends = ['sqlite', 'postgres'].filter(
    (b) => values.only === undefined || b === values.only,
  );
  process.stdout.write(
    `\n## Scale: ${o.tasks.toLocaleString('en')} tasks (+ a tenth on a second board), ` +
      `${o.events.toLocaleString('en')} events\n\n` +
      '| backend | read | n | p50 ms | p95 ms | max ms |\n|---|---|--:|--:|--:|--:|\n',
  );
  // Each backend's rows as soon as they are measured.
  for (const backend of backends)
    process.stdout.write(`${await measureBackend(warden, backend, o)}\n`);
  process.stdout.write(`\nmachine: ${JSON.stringify(machine())}\n`);
}
