/**
 * graphile-worker on the machine's PostgreSQL, in a fresh schema per round: one runner with
 * graphile-worker's `concurrency` option, each of its workers fetching one job at a time (the
 * default: no local queue, no batched completion). Its per-job "Completed task" info lines are
 * dropped; warnings and errors still reach stderr.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import type { Runner, WorkerEvents } from 'graphile-worker';
import type { Hooks, Peer, Round } from './peer.js';
import { packageVersion, runAll, uniqueName } from './peer.js';
import { BenchDb, PG_URL } from './postgres.js';

const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning')
    process.stderr.write(`graphile-worker ${level}: ${message}\n`);
});

async function prepare(tasks: number, concurrency: number, hooks: Hooks): Promise<Round> {
  const schema = uniqueName('graphile');
  const db = new BenchDb();
  await db.open();
  const events = new EventEmitter() as WorkerEvents;
  const firstFetch = new Promise<number>((resolve) =>
    events.once('worker:getJob:start', () => resolve(performance.now())),
  );
  events.on('job:error', ({ error }) => hooks.failed(error));
  events.on('worker:fatalError', ({ error }) => hooks.failed(error));
  events.on('pool:fatalError', ({ error }) => hooks.failed(error));
  let runner: Runner | null = null;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await runAll([async () => runner?.stop(), () => db.dropSchema(schema), () => db.close()]);
  };
  try {
    const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger });
    try {
      await utils.migrate();
      await utils.addJobs(
        Array.from({ length: tasks }, () => ({ identifier: 'noop', payload: {} })),
      );
    } finally {
      await utils.release();
    }
    const durability = await db.durability(schema);
    return {
      durability,
      start: async () => {
        // Every other setting is graphile-worker's default.
        runner = await run({
          connectionString: PG_URL,
          schema,
          concurrency,
          logger,
          events,
          noHandleSignals: true,
          taskList: { noop: () => hooks.handled() },
        });
        runner.promise.catch((err: unknown) => hooks.failed(err));
        return firstFetch;
      },
      // A completed job is deleted: what is left in the table is not done yet.
      completed: async () =>
        tasks - (await db.number(`select count(*)::int as n from "${schema}"._private_jobs`)),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export const graphileWorker: Peer = {
  name: `graphile-worker ${packageVersion('graphile-worker')}`,
  workers: (n) => `one runner, concurrency ${n} (one process)`,
  prepare,
};
