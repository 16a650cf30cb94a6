/**
 * Shared by the SIGKILL benchmarks: a worker that sleeps, killed by pid (the worker, not the
 * shim: the shim lives on to record the status), timed until the task is requeued.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Actor } from '../../src/core/actor.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';
import type { BenchHome } from './home.js';
import { waitFor, wallNow } from './time.js';

/**
 * A profile whose workers sleep, with retries far enough away (and a breaker high enough)
 * that a killed worker's task is requeued, never restarted or blocked, during a sample.
 */
export async function addSleeperProfile(home: BenchHome): Promise<void> {
  await home.profile(
    'sleeper',
    ['sleep', '3600'],
    ['--backoff-base', '1h', '--backoff-max', '1h', '--profile-breaker', '1000000'],
  );
}

/** A running worker: its shim leads the process group; the worker is the shim's child. */
export interface Worker {
  task: number;
  run: number;
  shim: number;
  pid: number;
}

/** `comm` and process group of a pid, or null if there is none. */
function procInfo(pid: number): { comm: string; pgid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return { comm, pgid };
  } catch {
    return null;
  }
}

/** Waits until the task's worker is running `sleep` in its shim's process group. */
export async function runningWorker(
  home: BenchHome,
  store: SqliteStore,
  task: number,
): Promise<Worker> {
  return waitFor(`a sleeping worker for task ${task}`, async () => {
    const t = await store.getTask(task);
    if (t.current_run_id === null) return undefined;
    const run = await store.getRun(t.current_run_id);
    if (run.process === null) return undefined;
    let pid: number;
    try {
      pid = Number(readFileSync(join(home.runDir(run.id), 'worker.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
    const info = procInfo(pid);
    // Until it has exec'd, the worker is a fork of the shim (comm `sh`).
    if (info?.comm !== 'sleep') return undefined;
    if (info.pgid !== run.process.pid) {
      throw new Error(`worker ${pid} is in group ${info.pgid}, not its shim's ${run.process.pid}`);
    }
    return { task, run: run.id, shim: run.process.pid, pid };
  });
}

/** One SIGKILL, as epoch ms. */
export interface KillSample {
  task: number;
  run: number;
  /** Just before `kill(worker, SIGKILL)`. */
  killed: number;
  /** The run's `ending_at`: `serve` noticed the exit and fenced the run. */
  ending: number;
  /** The `task_requeued` event's `at`: the run was closed and the task released. */
  requeued: number;
  /** When this process saw the event (it polls every 5 ms). */
  observed: number;
}

/** Kills the worker, waits for its task to be requeued, checks how, and archives the task. */
export async function killAndTime(
  store: SqliteStore,
  actor: Actor,
  worker: Worker,
): Promise<KillSample> {
  const killed = wallNow();
  process.kill(worker.pid, 'SIGKILL');
  const event = await waitFor(
    `task ${worker.task} to be released`,
    async () =>
      (
        await store.listEvents({
          task_id: worker.task,
          kinds: ['task_requeued', 'task_blocked', 'task_done'],
        })
      )[0],
  );
  const observed = wallNow();
  if (event.kind !== 'task_requeued') {
    throw new Error(`task ${worker.task}: ${event.kind}, not requeued: ${JSON.stringify(event)}`);
  }
  const run = await store.getRun(worker.run);
  if (run.outcome !== 'crashed' || run.signal !== 'SIGKILL' || run.ending_at === null) {
    throw new Error(`run ${run.id} ended ${run.outcome} (${run.signal}), not crashed by SIGKILL`);
  }
  const task = await store.getTask(worker.task);
  if (task.status !== 'ready' || (task.not_before ?? 0) < Date.now()) {
    throw new Error(`task ${task.id} is ${task.status}, not ready and waiting its backoff`);
  }
  // Off the board, so the next samples' claims look at no more tasks than the first did.
  await store.moveTask(worker.task, { verb: 'archive' }, actor);
  return {
    task: worker.task,
    run: worker.run,
    killed,
    ending: run.ending_at,
    requeued: event.at,
    observed,
  };
}
