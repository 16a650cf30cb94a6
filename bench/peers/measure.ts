/**
 * One round of `peers-throughput`: a fresh queue of no-op jobs, workers started, and the clock
 * from their first fetch until the store counts every job completed. The store is asked only
 * once every handler has returned (then every millisecond), so the counting does not compete
 * with the workers for the database.
 */
import { performance } from 'node:perf_hooks';
import type { Peer } from './peer.js';
import { waitFor } from '../lib/time.js';

/** What one round found. */
export interface RoundSample {
  peer: string;
  concurrency: number;
  round: number;
  tasks: number;
  seconds: number;
  tasks_per_s: number;
  durability: string;
}

/** Runs one round; rejects if the library reports an error or the jobs are not done in time. */
export async function measureRound(
  peer: Peer,
  tasks: number,
  concurrency: number,
  round: number,
): Promise<RoundSample> {
  let handled = 0;
  let settle: (err?: unknown) => void = () => undefined;
  const handlersDone = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(asError(err)));
  });
  // A failure after the round has given up on it (in `close()`, say) is not an unhandled one.
  handlersDone.catch(() => undefined);
  const hooks = {
    handled: (): void => {
      handled++;
      if (handled === tasks) settle();
    },
    failed: (err: unknown): void => settle(err ?? new Error(`${peer.name}: failure`)),
  };
  const r = await peer.prepare(tasks, concurrency, hooks);
  try {
    const before = await r.completed();
    if (before !== 0) throw new Error(`${peer.name}: ${before} jobs completed before the start`);
    // Generous: a library that stalls fails the round instead of hanging the benchmark.
    const timeoutMs = 60_000 + tasks * 200;
    const timer = setTimeout(
      () => settle(new Error(`${peer.name}: ${handled} of ${tasks} handled in ${timeoutMs} ms`)),
      timeoutMs,
    );
    let start: number;
    try {
      start = await r.start();
      await handlersDone;
    } finally {
      clearTimeout(timer);
    }
    const end = await waitFor(
      `${peer.name}: the store to count ${tasks} jobs completed`,
      async () => ((await r.completed()) >= tasks ? performance.now() : undefined),
      30_000,
      1,
    );
    const seconds = (end - start) / 1000;
    return {
      peer: peer.name,
      concurrency,
      round,
      tasks,
      seconds,
      tasks_per_s: tasks / seconds,
      durability: r.durability,
    };
  } finally {
    await r.close();
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
