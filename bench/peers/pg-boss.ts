/**
 * pg-boss on the machine's PostgreSQL, in a fresh schema per round. Its `work()` polls: by
 * default one job every 2 s per worker, by design. So each worker here is pg-boss's pull API
 * in a loop, the shape of warden's SDK worker: `fetch()` one job, run the no-op handler,
 * `complete()` it, fetch the next; a loop ends when a fetch finds nothing left.
 */
import { performance } from 'node:perf_hooks';
import { PgBoss } from 'pg-boss';
import type { Hooks, Peer, Round } from './peer.js';
import { packageVersion, runAll, uniqueName } from './peer.js';
import { BenchDb, PG_URL } from './postgres.js';

const QUEUE = 'noop';

async function prepare(tasks: number, concurrency: number, hooks: Hooks): Promise<Round> {
  const schema = uniqueName('pgboss');
  const db = new BenchDb();
  await db.open();
  // Every other setting is pg-boss's default.
  const boss = new PgBoss({ connectionString: PG_URL, schema });
  boss.on('error', (err) => hooks.failed(err));
  let loops: Promise<void>[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await runAll([
      () => Promise.allSettled(loops),
      () => boss.stop(),
      () => db.dropSchema(schema),
      () => db.close(),
    ]);
  };
  try {
    await boss.start();
    await boss.createQueue(QUEUE);
    await boss.insert(
      QUEUE,
      Array.from({ length: tasks }, () => ({ data: {} })),
    );
    const durability = await db.durability(schema);
    const worker = async (): Promise<void> => {
      for (;;) {
        const [job] = await boss.fetch(QUEUE);
        if (job === undefined) return;
        hooks.handled();
        await boss.complete(QUEUE, job.id);
      }
    };
    return {
      durability,
      start: () => {
        const first = performance.now();
        loops = Array.from({ length: concurrency }, () =>
          worker().catch((err: unknown) => hooks.failed(err)),
        );
        return Promise.resolve(first);
      },
      completed: () =>
        db.number(
          `select count(*)::int as n from "${schema}".job where name = $1 and state = 'completed'`,
          [QUEUE],
        ),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export const pgBoss: Peer = {
  name: `pg-boss ${packageVersion('pg-boss')}`,
  workers: (n) =>
    `${n} concurrent fetch → complete loop${n === 1 ? '' : 's'} on one PgBoss instance (one process)`,
  prepare,
};
