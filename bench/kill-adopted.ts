/**
 * SPEC §8: worker SIGKILL → run ended and task requeued, for a re-adopted worker: one started
 * by an earlier `serve` that was then restarted (target p50 < 1.5 s).
 *
 * Each round: a real `warden serve --port 0 --tick 1s` starts N sleeping workers and is
 * stopped (SIGTERM: workers keep running); a new `serve` adopts them. Then, one at a time
 * after a random 100–1100 ms pause (so kills fall at every phase of the 1 s tick), this
 * process sends a worker (not its shim) SIGKILL. Latency = the `task_requeued` event's `at`
 * − the moment just before `kill()`.
 *
 *   node bench/run.ts kill-adopted [--rounds 2] [--workers 30]
 */
import { parseArgs } from 'node:util';
import { loadWarden } from './lib/dist.js';
import { BenchHome } from './lib/home.js';
import { addSleeperProfile, killAndTime, runningWorker } from './lib/kill.js';
import type { KillSample, Worker } from './lib/kill.js';
import { report } from './lib/results.js';
import { summarize } from './lib/stats.js';
import { randomBetween, sleep, waitFor } from './lib/time.js';

const TARGET = { p50: 1500 };

export async function run(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: 'string', default: '2' },
      workers: { type: 'string', default: '30' },
    },
  });
  const rounds = Number(values.rounds);
  const perRound = Number(values.workers);
  const warden = await loadWarden();
  const home = new BenchHome(warden);
  const startedAt = new Date();
  try {
    await home.init();
    await addSleeperProfile(home);
    const store = await home.store();
    const actor = warden.person('bench');
    const serveArgs = ['--max-workers', String(perRound)];

    const samples: KillSample[] = [];
    for (let r = 0; r < rounds; r++) {
      process.stderr.write(`round ${r + 1}/${rounds}: ${perRound} workers, serve restarted\n`);
      const first = await home.serve(serveArgs);
      const workers: Worker[] = [];
      for (let i = 0; i < perRound; i++) {
        const task = await store.createTask(
          { title: `adopt ${r}.${i}`, assignee: 'sleeper' },
          actor,
        );
        workers.push(await runningWorker(home, store, task.id));
      }
      await first.stop();
      const mark = (await store.listEvents({ newest: true, limit: 1 }))[0]?.id ?? 0;
      await home.serve(serveArgs);
      const adopted = await waitFor('the new serve to adopt every worker', async () => {
        const events = await store.listEvents({ kinds: ['adopted'], after_id: mark });
        return events.length >= perRound ? new Set(events.map((e) => e.run_id)) : undefined;
      });
      for (const w of workers) {
        if (!adopted.has(w.run)) throw new Error(`run ${w.run} was not adopted`);
      }
      for (const w of workers) {
        await sleep(randomBetween(100, 1100));
        samples.push(await killAndTime(store, actor, w));
      }
      // The next round's first serve is a fresh process; this one stops like the last.
      await home.stopServes();
    }

    report({
      name: 'kill-adopted',
      title: 'worker SIGKILL → run ended and task requeued (re-adopted)',
      started_at: startedAt.toISOString(),
      duration_s: (Date.now() - startedAt.getTime()) / 1000,
      method:
        'Workers started by one `serve`, which was then stopped; a new `serve --tick 1s` adopted ' +
        'them. Each worker (`sleep`, not its shim) is sent SIGKILL after a random 100–1100 ms ' +
        'pause; latency = the `task_requeued` event’s `at` − the moment just before `kill()`.',
      rows: [
        {
          label: 're-adopted: kill → task_requeued',
          summary: summarize(samples.map((s) => s.requeued - s.killed)),
          target: TARGET,
        },
      ],
      notes: [
        {
          label: 'kill → run ending_at (noticed on a tick, run fenced)',
          summary: summarize(samples.map((s) => s.ending - s.killed)),
        },
        {
          label: 'ending_at → task_requeued (group checked, run closed)',
          summary: summarize(samples.map((s) => s.requeued - s.ending)),
        },
      ],
      samples,
    });
  } finally {
    await home.cleanup();
  }
}
