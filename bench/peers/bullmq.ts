/**
 * BullMQ on the machine's Redis, with a queue name of its own per round (obliterated after).
 * One `Worker` with BullMQ's `concurrency` option; it fetches the next job in the same Redis
 * call that completes the last one.
 */
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Hooks, Peer, Round } from './peer.js';
import { packageVersion, runAll, uniqueName } from './peer.js';

/** The local server. BullMQ's workers need `maxRetriesPerRequest: null` (they block). */
const CONNECTION = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

/** Redis keeps jobs only in memory unless its own persistence is on: say which it is. */
async function redisDurability(): Promise<string> {
  const redis = new Redis(CONNECTION);
  try {
    const info = await redis.info('server');
    const version = /^redis_version:(\S+)/m.exec(info)?.[1] ?? '?';
    const get = async (key: string): Promise<string> => (await redis.config('GET', key))[1] ?? '?';
    return (
      `Redis ${version}, appendonly=${await get('appendonly')} ` +
      `(appendfsync=${await get('appendfsync')}), save="${await get('save')}"`
    );
  } finally {
    redis.disconnect();
  }
}

async function prepare(tasks: number, concurrency: number, hooks: Hooks): Promise<Round> {
  const name = uniqueName('bullmq');
  // Every other setting is BullMQ's default (completed jobs are kept, so they can be counted).
  const queue = new Queue(name, { connection: CONNECTION });
  const worker = new Worker(
    name,
    () => {
      hooks.handled();
      return Promise.resolve();
    },
    { connection: CONNECTION, concurrency, autorun: false },
  );
  worker.on('failed', (_job, err) => hooks.failed(err));
  worker.on('error', (err) => hooks.failed(err));
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await runAll([
      () => worker.close(),
      () => running,
      () => queue.obliterate({ force: true }),
      () => queue.close(),
    ]);
  };
  try {
    await queue.waitUntilReady();
    await queue.addBulk(Array.from({ length: tasks }, () => ({ name: 'noop', data: {} })));
    await worker.waitUntilReady();
    const durability = await redisDurability();
    return {
      durability,
      start: () => {
        const first = performance.now();
        running = worker.run().catch((err: unknown) => hooks.failed(err));
        return Promise.resolve(first);
      },
      completed: () => queue.getCompletedCount(),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export const bullmq: Peer = {
  name: `BullMQ ${packageVersion('bullmq')}`,
  workers: (n) => `one Worker, concurrency ${n} (one process)`,
  prepare,
};
