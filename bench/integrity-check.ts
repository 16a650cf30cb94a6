/**
 * What the integrity checks cost (issue #11): on a home of 10,000 finished tasks, each with a
 * run (reason and a 4 KiB log tail, as real runs keep) and its events, plus a comment on every
 * third task, how long the checks warden runs take, in the benchmark process (wall and CPU
 * time, so a loaded machine shows in the gap between them), and what the commands that run
 * them take as whole processes:
 *
 * - the header check (every command), a read-only open with the schema version (every
 *   command), `PRAGMA quick_check` (writing commands), `PRAGMA integrity_check` (`serve` at
 *   start, `warden check`);
 * - `warden list --limit 50` (reads: no check), `warden create` (quick_check, then the
 *   write), `warden check --quick`, `warden check`, each as a whole process.
 *
 * The home is filled with `synchronous = OFF` on the benchmark's own connection (it takes
 * minutes with an fsync per transaction otherwise); what is measured runs as warden runs.
 *
 *   node bench/run.ts integrity-check [--tasks 10000] [--samples 15]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as ConnectModule from '../src/store/sqlite/connect.js';
import type * as HeaderModule from '../src/store/sqlite/header.js';
import type * as IntegrityModule from '../src/store/sqlite/integrity.js';
import type { RunReason } from '../src/core/run.js';
import { loadWarden } from './lib/dist.js';
import { BenchHome, WARDEN_BIN } from './lib/home.js';
import { report } from './lib/results.js';
import { summarize } from './lib/stats.js';
import type { Row } from './lib/stats.js';

const DIST = new URL('../dist/', import.meta.url);

/** Wall and CPU milliseconds of `fn`, `n` times. */
function time(n: number, fn: () => void): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = process.cpuUsage();
    const start = process.hrtime.bigint();
    fn();
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall, cpu };
}

/** Spawn to exit of `warden ARGS...`, in milliseconds; fails unless it exits 0. */
function timeCli(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [WARDEN_BIN, ...args], { env, stdio: 'ignore' });
    child.on('exit', (code) => {
      const took = Number(process.hrtime.bigint() - start) / 1e6;
      if (code === 0) resolve(took);
      else reject(new Error(`warden ${args.join(' ')} exited ${code}`));
    });
  });
}

async function fill(home: BenchHome, tasks: number): Promise<void> {
  const warden = await loadWarden();
  const store = await warden.openSqliteStore(join(home.root, 'warden.db'), warden.systemClock);
  store.sqlite.connection.pragma('synchronous = OFF');
  const bench = warden.person('bench');
  await store.addProfile('p', { argv: ['true'] }, bench);
  const tail = 'a line of the worker’s output, as a run keeps its last 4 KiB\n'.repeat(64);
  const reason: RunReason = { rule: 'exit_zero', message: 'the worker exited 0' };
  const host = { host: 'bench', config: {} };
  for (let made = 0; made < tasks;) {
    const batch = Math.min(100, tasks - made);
    for (let i = 0; i < batch; i++) {
      const t = await store.createTask(
        {
          title: `Task ${made + i}`,
          body: 'What to do, in a paragraph or two. '.repeat(6),
          assignee: 'p',
        },
        bench,
      );
      if ((made + i) % 3 === 0) await store.addComment(t.id, 'a note from a person', bench);
    }
    const claims = await store.claimRuns(
      { host: 'bench', maxWorkers: batch, limit: batch, mode: 'spawned' },
      join(home.root, 'workspaces'),
    );
    for (const c of claims) {
      await store.beginEnding(c.run.id, 'completed', reason, warden.person('bench'));
      await store.finishRun(
        c.run.id,
        { outcome: 'completed', reason, exit_code: 0, log_tail: tail },
        host,
      );
    }
    made += batch;
  }
  await store.close();
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      tasks: { type: 'string', default: '10000' },
      samples: { type: 'string', default: '15' },
    },
  });
  const tasks = Number(values.tasks);
  const n = Number(values.samples);
  const started = new Date();
  const [header, connect, integrity] = await Promise.all([
    import(new URL('store/sqlite/header.js', DIST).href) as Promise<typeof HeaderModule>,
    import(new URL('store/sqlite/connect.js', DIST).href) as Promise<typeof ConnectModule>,
    import(new URL('store/sqlite/integrity.js', DIST).href) as Promise<typeof IntegrityModule>,
  ]);
  const home = new BenchHome(await loadWarden());
  try {
    await home.init();
    await fill(home, tasks);
    const db = join(home.root, 'warden.db');
    const verdict = header.checkSqliteHeader(db);
    const bytes = verdict.ok ? verdict.header.size : 0;
    const inProcess: [string, () => void][] = [
      ['header check (every command)', () => void header.checkSqliteHeader(db)],
      [
        'read-only open + schema version (every command)',
        () => {
          const c = connect.openReadOnly(db).db;
          integrity.schemaVersion(c);
          c.close();
        },
      ],
      [
        '`PRAGMA quick_check` (writing commands)',
        () => {
          const c = connect.openReadOnly(db).db;
          integrity.integrityProblems(c, 'quick');
          c.close();
        },
      ],
      [
        '`PRAGMA integrity_check` (serve at start, warden check)',
        () => {
          const c = connect.openReadOnly(db).db;
          integrity.integrityProblems(c, 'full');
          c.close();
        },
      ],
    ];
    const rows: Row[] = [];
    const notes: Row[] = [];
    const samples: unknown[] = [];
    for (const [label, fn] of inProcess) {
      fn(); // warm the page cache
      const t = time(n, fn);
      rows.push({ label: `${label}: wall`, summary: summarize(t.wall) });
      notes.push({ label: `${label}: CPU`, summary: summarize(t.cpu) });
      samples.push({ label, ...t });
    }
    const clis: [string, string[]][] = [
      ['`warden list --limit 50` (reads, no check)', ['list', '--limit', '50']],
      ['`warden create` (quick_check, then writes)', ['create', 'one more']],
      ['`warden check --quick`', ['check', '--quick']],
      ['`warden check` (integrity_check)', ['check']],
    ];
    for (const [label, args] of clis) {
      await timeCli(home.env, args);
      const took: number[] = [];
      for (let i = 0; i < n; i++) took.push(await timeCli(home.env, args));
      rows.push({ label: `${label}: whole process`, summary: summarize(took) });
      samples.push({ label, took });
    }
    report({
      name: 'integrity-check',
      title: `Integrity checks on ${tasks} tasks (${(bytes / 1024 / 1024).toFixed(1)} MiB database)`,
      started_at: started.toISOString(),
      duration_s: (Date.now() - started.getTime()) / 1000,
      method:
        'Each check in the benchmark process on a read-only connection, after one warm-up (page cache full); each command as a whole process, spawn to exit. Milliseconds.',
      rows,
      notes,
      samples,
    });
  } finally {
    await home.cleanup();
  }
}
