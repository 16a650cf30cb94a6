/**
 * SPEC §8: ready → worker process started (target p50 < 20 ms, p99 < 100 ms; SQLite, one
 * host).
 *
 * A real `warden serve --port 0 --tick 1s` runs in a temp home. This process creates tasks
 * through the store API from `dist/` (another process, as `warden create` would be: `serve`
 * learns of them through SQLite's `data_version`). The profile's command is `date +%s%N`, so
 * the worker process itself writes its wall-clock time in nanoseconds as its first act after
 * exec, into the run's log. Latency = that stamp − the task's `created_at`.
 *
 * Also measured: bursts, and tasks created through `serve`'s own HTTP API.
 *
 *   node bench/run.ts dispatch-latency [--samples 200] [--bursts 10] [--burst-size 20]
 *     [--api-samples 30] [--watch-poll-ms N (an experiment, see lib/watch-poll.ts)]
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Actor } from '../src/core/actor.js';
import type { SqliteStore } from '../src/store/sqlite/open.js';
import { loadWarden } from './lib/dist.js';
import type { Warden } from './lib/dist.js';
import { BenchHome, SHIM } from './lib/home.js';
import { report } from './lib/results.js';
import { summarize } from './lib/stats.js';
import type { Row } from './lib/stats.js';
import { parseDateStamp, randomBetween, sleep, waitFor, wallNow } from './lib/time.js';

const TARGET = { p50: 20, p99: 100 };

/** A task as created: epoch ms. */
interface Created {
  task: number;
  /** `created_at`: the task became ready (stamped in the creating transaction). */
  created: number;
  /** The creating transaction had committed (seen by this process). */
  committed: number;
}

/** One task's way from ready to a running worker, as epoch ms. */
interface Sample extends Created {
  kind: 'sequential' | 'burst' | 'api';
  /** Position in its burst (0 for sequential samples). */
  position: number;
  /** The run's `started_at`: `serve` claimed the task (stamped in the claim transaction). */
  claimed: number;
  /** The worker process's own first stamp. */
  worker: number;
}

async function create(store: SqliteStore, actor: Actor, title: string): Promise<Created> {
  const task = await store.createTask({ title, assignee: 'stamp' }, actor);
  const committed = wallNow();
  return { task: task.id, created: task.created_at, committed };
}

/**
 * Creates the task through `serve`'s own HTTP API instead: the commit is made on `serve`'s
 * connection, which its `data_version` watch does not see.
 */
async function createViaApi(url: string, token: string, title: string): Promise<Created> {
  const res = await fetch(`${url}/api/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title, assignee: 'stamp' }),
  });
  const committed = wallNow();
  if (!res.ok) throw new Error(`POST /api/v1/tasks: ${res.status} ${await res.text()}`);
  const task = (await res.json()) as { id: number; created_at: number };
  return { task: task.id, created: task.created_at, committed };
}

/** Waits until the task's worker has run and returns its stamps. */
async function collect(
  store: SqliteStore,
  created: Created,
  kind: Sample['kind'],
  position: number,
): Promise<Sample> {
  await waitFor(`task ${created.task} to be done`, async () => {
    const t = await store.getTask(created.task);
    if (t.status === 'done') return t;
    if (t.status === 'blocked' || t.status === 'archived') {
      throw new Error(`task ${t.id} is ${t.status}: ${t.block_reason ?? ''}`);
    }
    return undefined;
  });
  const [run] = await store.listRuns(created.task);
  if (!run?.log_path) throw new Error(`task ${created.task} has no run with a log`);
  const worker = parseDateStamp(readFileSync(run.log_path, 'utf8'));
  if (worker === undefined) throw new Error(`run ${run.id} left no stamp in ${run.log_path}`);
  return { ...created, kind, position, claimed: run.started_at, worker };
}

/**
 * Floors no dispatcher could beat on this machine (the claim transaction is timed after these,
 * in `run`): warden's own `spawnWorker()` (no store, no dispatcher, no cgroup), spawning the
 * shim or making a standby made ahead the shim; Node spawning the shim, which forks `date`; Node spawning `date` directly;
 * and one `date` after another in dash (fork + exec + libc start-up of the stamping process:
 * the most the stamp can lag its process's exec).
 */
async function floors(warden: Warden, n: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-floor-'));
  const ways = ['spawnWorker', 'standby', 'shim', 'direct'] as const;
  const times: Record<(typeof ways)[number], number[]> = {
    spawnWorker: [],
    standby: [],
    shim: [],
    direct: [],
  };
  // How long the call itself blocks `serve`'s event loop (Node's spawn waits for the exec).
  const spawnCall: Record<'spawnWorker' | 'standby', number[]> = { spawnWorker: [], standby: [] };
  const env = { ...process.env };
  try {
    for (let i = 0; i < n; i++) {
      for (const way of ways) {
        const runDir = join(dir, `${i}-${way}`);
        const log = join(runDir, 'output.log');
        let child: ChildProcess;
        let before: number;
        if (way === 'spawnWorker' || way === 'standby') {
          // warden's own spawn path: command lookup on PATH, cwd check, run folder, log file;
          // the shim spawned now, or a standby made ahead becoming it (in no cgroup here).
          const standby = way === 'standby' ? warden.makeStandby(null) : null;
          if (standby !== null) await sleep(5);
          before = wallNow();
          child = warden.spawnWorker(
            { runDir, logPath: log, argv: ['date', '+%s%N'], env, cwd: dir },
            standby,
          ).child;
          spawnCall[way].push(wallNow() - before);
        } else {
          mkdirSync(runDir);
          const fd = openSync(log, 'a');
          before = wallNow();
          child =
            way === 'shim'
              ? spawn('/bin/sh', [SHIM, runDir, 'date', '+%s%N'], {
                  detached: true,
                  stdio: ['ignore', fd, fd],
                })
              : spawn('date', ['+%s%N'], { detached: true, stdio: ['ignore', fd, fd] });
          closeSync(fd);
        }
        await once(child, 'exit');
        const stamp = parseDateStamp(readFileSync(log, 'utf8'));
        if (stamp === undefined) throw new Error(`no stamp in ${log}`);
        times[way].push(stamp - before);
        await sleep(5);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const loop = spawnSync('/bin/sh', ['-c', `for i in $(seq ${n + 1}); do date +%s%N; done`], {
    encoding: 'utf8',
  });
  const stamps = loop.stdout
    .trim()
    .split('\n')
    .map((l) => parseDateStamp(l))
    .filter((v): v is number => v !== undefined);
  const perDate = stamps.slice(1).map((s, i) => s - (stamps[i] ?? s));
  return [
    {
      label: 'floor: warden spawnWorker() → `date` stamp (no store)',
      summary: summarize(times.spawnWorker),
    },
    {
      label: 'floor: warden spawnWorker() call returns',
      summary: summarize(spawnCall.spawnWorker),
    },
    {
      label: 'floor: warden spawnWorker() from a waiting standby → `date` stamp',
      summary: summarize(times.standby),
    },
    {
      label: 'floor: warden spawnWorker() from a waiting standby, call returns',
      summary: summarize(spawnCall.standby),
    },
    { label: 'floor: Node spawn → shim → `date` stamp', summary: summarize(times.shim) },
    { label: 'floor: Node spawn → `date` stamp (no shim)', summary: summarize(times.direct) },
    { label: 'floor: `date` after `date` in a dash loop', summary: summarize(perDate) },
  ];
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      samples: { type: 'string', default: '200' },
      bursts: { type: 'string', default: '10' },
      'burst-size': { type: 'string', default: '20' },
      'api-samples': { type: 'string', default: '30' },
      // An experiment: serve's data_version poll at this interval instead of its own.
      'watch-poll-ms': { type: 'string' },
    },
  });
  const samplesWanted = Number(values.samples);
  const bursts = Number(values.bursts);
  const burstSize = Number(values['burst-size']);
  const apiSamples = Number(values['api-samples']);
  const pollMs = values['watch-poll-ms'];
  const experiment =
    pollMs === undefined
      ? {}
      : {
          node: ['--import', fileURLToPath(new URL('./lib/watch-poll.ts', import.meta.url))],
          env: { BENCH_WATCH_POLL_MS: pollMs },
        };
  const warden = await loadWarden();
  const home = new BenchHome(warden);
  const startedAt = new Date();
  try {
    await home.init();
    await home.profile('stamp', ['date', '+%s%N']);
    // Slots for a whole burst: a burst is held back only by the dispatcher's own work.
    const serve = await home.serve(['--max-workers', String(burstSize + 4)], experiment);
    const store = await home.store();
    const actor = warden.person('bench');

    // Warm-up: the first spawns pay for cold page caches and the JIT.
    for (let i = 0; i < 5; i++) {
      await collect(store, await create(store, actor, `warm-up ${i}`), 'sequential', 0);
    }

    const samples: Sample[] = [];
    process.stderr.write(`sequential: ${samplesWanted} tasks, one at a time\n`);
    for (let i = 0; i < samplesWanted; i++) {
      // A random idle gap: creations fall at random phases of the watch poll and the tick.
      await sleep(randomBetween(100, 300));
      samples.push(await collect(store, await create(store, actor, `seq ${i}`), 'sequential', 0));
      if ((i + 1) % 50 === 0) process.stderr.write(`  ${i + 1}/${samplesWanted}\n`);
    }

    process.stderr.write(`burst: ${bursts} × ${burstSize} tasks created back to back\n`);
    for (let b = 0; b < bursts; b++) {
      await sleep(randomBetween(300, 700));
      const created: Created[] = [];
      for (let i = 0; i < burstSize; i++) {
        created.push(await create(store, actor, `burst ${b}.${i}`));
      }
      for (const [i, c] of created.entries()) samples.push(await collect(store, c, 'burst', i));
    }

    process.stderr.write(`HTTP API: ${apiSamples} tasks created with POST /api/v1/tasks\n`);
    const token = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    for (let i = 0; i < apiSamples; i++) {
      // These wait for a tick, so the next one starts right after a tick: spread the gaps over
      // a whole tick, or every creation would fall at the same phase of it.
      await sleep(randomBetween(100, 1100));
      const created = await createViaApi(serve.url, token, `api ${i}`);
      samples.push(await collect(store, created, 'api', 0));
    }

    process.stderr.write('floors\n');
    const floorRows = await floors(warden, 50);
    // With serve stopped, this process claims alone: the claim transaction's own cost.
    await home.stopServes();
    const claims: number[] = [];
    for (let i = 0; i < 50; i++) {
      await store.createTask({ title: `claim ${i}`, assignee: 'stamp' }, actor);
      await sleep(5);
      const before = wallNow();
      const got = await store.claimRuns(
        { host: 'bench-claim-floor', maxWorkers: 1000, limit: 1, mode: 'spawned' },
        join(home.root, 'workspaces'),
      );
      if (got.length !== 1) throw new Error(`claimed ${got.length} runs, not 1`);
      claims.push(wallNow() - before);
    }
    floorRows.unshift({
      label: 'floor: claimRuns() of one task, committed (no serve)',
      summary: summarize(claims),
    });

    const seq = samples.filter((s) => s.kind === 'sequential');
    const burst = samples.filter((s) => s.kind === 'burst');
    const api = samples.filter((s) => s.kind === 'api');
    const latency = (xs: Sample[]): number[] => xs.map((s) => s.worker - s.created);
    const at = (p: number): Sample[] => burst.filter((s) => s.position === p);
    // Consecutive workers of one burst: what each further worker waits for the one before.
    const gaps = burst
      .filter((s) => s.position > 0)
      .map((s) => {
        const before = burst.find((b) => b.task === s.task - 1 && b.position === s.position - 1);
        return before ? s.worker - before.worker : Number.NaN;
      })
      .filter((g) => Number.isFinite(g));
    report({
      name: pollMs === undefined ? 'dispatch-latency' : `dispatch-latency-poll-${pollMs}ms`,
      title:
        pollMs === undefined
          ? 'ready → worker process started'
          : `ready → worker process started (experiment: data_version poll every ${pollMs} ms)`,
      started_at: startedAt.toISOString(),
      duration_s: (Date.now() - startedAt.getTime()) / 1000,
      method:
        'From the task’s `created_at` (stamped in the creating transaction, in another process) ' +
        'to the worker process’s own first act: the worker is `date +%s%N`, which stamps the ' +
        'time right after exec and libc start-up. Sequential: one task at a time, 100–300 ms ' +
        `idle between. Burst: ${burstSize} tasks created back to back, ${bursts} times, with ` +
        'more worker slots than tasks. HTTP API: one at a time, 100–1100 ms idle between, created ' +
        'with `POST /api/v1/tasks` on `serve` itself.',
      rows: [
        { label: 'sequential (one at a time)', summary: summarize(latency(seq)), target: TARGET },
        { label: `burst of ${burstSize}: every task`, summary: summarize(latency(burst)) },
        { label: `burst of ${burstSize}: first task`, summary: summarize(latency(at(0))) },
        {
          label: `burst of ${burstSize}: last task`,
          summary: summarize(latency(at(burstSize - 1))),
        },
        { label: 'created with serve’s HTTP API', summary: summarize(latency(api)) },
      ],
      notes: [
        {
          label: 'seq: created_at → create committed (bench fsync)',
          summary: summarize(seq.map((s) => s.committed - s.created)),
        },
        {
          label: 'seq: created_at → claimed (watch poll + wake + claim)',
          summary: summarize(seq.map((s) => s.claimed - s.created)),
        },
        {
          label: 'seq: create committed → claimed',
          summary: summarize(seq.map((s) => s.claimed - s.committed)),
        },
        {
          label: 'seq: claimed → worker stamp (commit + spawn + shim)',
          summary: summarize(seq.map((s) => s.worker - s.claimed)),
        },
        {
          label: 'seq: create committed → worker stamp',
          summary: summarize(seq.map((s) => s.worker - s.committed)),
        },
        {
          label: 'api: created_at → claimed',
          summary: summarize(api.map((s) => s.claimed - s.created)),
        },
        {
          label: 'burst: claimed → worker stamp',
          summary: summarize(burst.map((s) => s.worker - s.claimed)),
        },
        { label: 'burst: worker stamp → next worker’s stamp', summary: summarize(gaps) },
        ...floorRows,
      ],
      samples,
    });
  } finally {
    await home.cleanup();
  }
}
