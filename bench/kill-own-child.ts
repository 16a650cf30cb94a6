/**
 * SPEC §8: worker SIGKILL → run ended and task requeued, for a worker the host started
 * itself (target p50 < 250 ms).
 *
 * A real `warden serve --port 0 --tick 1s` starts each worker (`sleep 3600` under the shim).
 * Once the worker has exec'd `sleep` and `serve` has been idle 50–250 ms, this process sends
 * the worker (not the shim) SIGKILL. Latency = the `task_requeued` event's `at` − the moment
 * just before `kill()`.
 *
 *   node bench/run.ts kill-own-child [--samples 200]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadWarden } from './lib/dist.js';
import { BenchHome, SHIM } from './lib/home.js';
import { addSleeperProfile, killAndTime, runningWorker } from './lib/kill.js';
import type { KillSample } from './lib/kill.js';
import { report } from './lib/results.js';
import { summarize } from './lib/stats.js';
import type { Row } from './lib/stats.js';
import { randomBetween, sleep, waitFor, wallNow } from './lib/time.js';

const TARGET = { p50: 250 };

/**
 * The floor: Node starts the shim with a sleeping worker, the worker is SIGKILLed, and Node
 * sees the shim exit (the shim has to write the status and exit first). `serve` learns of
 * an own child's death the same way.
 */
async function shimExitFloor(n: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-floor-'));
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const runDir = join(dir, String(i));
      mkdirSync(runDir);
      const fd = openSync(join(runDir, 'output.log'), 'a');
      const shim: ChildProcess = spawn('/bin/sh', [SHIM, runDir, 'sleep', '3600'], {
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      const exited = new Promise<number>((resolve) => shim.once('exit', () => resolve(wallNow())));
      const pid = await waitFor('the floor worker', () => {
        try {
          const p = Number(readFileSync(join(runDir, 'worker.pid'), 'utf8').trim());
          const comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
          return comm === 'sleep' ? p : undefined;
        } catch {
          return undefined;
        }
      });
      await sleep(randomBetween(20, 60));
      const killed = wallNow();
      process.kill(pid, 'SIGKILL');
      times.push((await exited) - killed);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    label: 'floor: worker SIGKILL → Node sees the shim exit (no warden)',
    summary: summarize(times),
  };
}

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { samples: { type: 'string', default: '200' } },
  });
  const wanted = Number(values.samples);
  const warden = await loadWarden();
  const home = new BenchHome(warden);
  const startedAt = new Date();
  try {
    await home.init();
    await addSleeperProfile(home);
    await home.serve();
    const store = await home.store();
    const actor = warden.person('bench');

    const samples: KillSample[] = [];
    process.stderr.write(`own child: ${wanted} kills, one at a time\n`);
    for (let i = -3; i < wanted; i++) {
      const task = await store.createTask({ title: `kill ${i}`, assignee: 'sleeper' }, actor);
      const worker = await runningWorker(home, store, task.id);
      await sleep(randomBetween(50, 250));
      const sample = await killAndTime(store, actor, worker);
      // The first three are warm-up.
      if (i >= 0) samples.push(sample);
      if ((i + 1) % 50 === 0 && i >= 0) process.stderr.write(`  ${i + 1}/${wanted}\n`);
    }

    process.stderr.write('floor\n');
    const floor = await shimExitFloor(30);

    report({
      name: 'kill-own-child',
      title: 'worker SIGKILL → run ended and task requeued (own child)',
      started_at: startedAt.toISOString(),
      duration_s: (Date.now() - startedAt.getTime()) / 1000,
      method:
        'The worker (`sleep`, the shim’s child) of a run `serve` started itself is sent SIGKILL ' +
        'by pid after 50–250 ms idle; latency = the `task_requeued` event’s `at` − the moment ' +
        'just before `kill()`. Each sample is a fresh task, archived afterwards.',
      rows: [
        {
          label: 'own child: kill → task_requeued',
          summary: summarize(samples.map((s) => s.requeued - s.killed)),
          target: TARGET,
        },
      ],
      notes: [
        {
          label: 'kill → run ending_at (exit noticed, run fenced)',
          summary: summarize(samples.map((s) => s.ending - s.killed)),
        },
        {
          label: 'ending_at → task_requeued (group checked, run closed)',
          summary: summarize(samples.map((s) => s.requeued - s.ending)),
        },
        {
          label: 'kill → seen by the benchmark (5 ms poll)',
          summary: summarize(samples.map((s) => s.observed - s.killed)),
        },
        floor,
      ],
      samples,
    });
  } finally {
    await home.cleanup();
  }
}
