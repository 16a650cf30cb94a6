/**
 * warden itself among the peers: pull mode on PostgreSQL (`WARDEN_DB`), with one `warden serve`
 * host or three, in a fresh schema per round. The no-op tasks are created before the workers
 * start; each worker is the SDK's `createWorker` with one job at a time, the workers spread
 * round-robin over the hosts' APIs. Completion is durable: each `complete` is a SERIALIZABLE
 * transaction committed with PostgreSQL's defaults.
 */
import { performance } from 'node:perf_hooks';
import type * as OpenPg from '../../src/store/postgres/open.js';
import type * as SdkModule from '../../src/sdk/index.js';
import { loadWarden } from '../lib/dist.js';
import { BenchHome } from '../lib/home.js';
import type { Hooks, Peer, Round } from './peer.js';
import { runAll, uniqueName } from './peer.js';
import { BenchDb, PG_URL } from './postgres.js';

const DIST = new URL('../../dist/', import.meta.url);

/** `WARDEN_DB` for the shared server and `schema`. */
export function wardenDb(schema: string): string {
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  return u.toString();
}

async function prepare(
  hostCount: number,
  tasks: number,
  concurrency: number,
  hooks: Hooks,
  slots: boolean,
): Promise<Round> {
  const warden = await loadWarden();
  const { openPgStore } = (await import(
    new URL('store/postgres/open.js', DIST).href
  )) as typeof OpenPg;
  const sdk = (await import(new URL('sdk/index.js', DIST).href)) as typeof SdkModule;
  const schema = uniqueName('warden');
  const db = new BenchDb();
  await db.open();
  const homes: BenchHome[] = [];
  let store: OpenPg.PgStore | null = null;
  let workers: SdkModule.WardenWorker[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await runAll([
      () => Promise.all(workers.map((w) => w.stop())),
      ...homes.map((h) => () => h.cleanup()),
      () => store?.close() ?? Promise.resolve(),
      () => db.dropSchema(schema),
      () => db.close(),
    ]);
  };
  try {
    for (let i = 0; i < hostCount; i++) {
      const home = new BenchHome(warden);
      home.env.WARDEN_DB = wardenDb(schema);
      homes.push(home);
      await home.init();
    }
    const first = homes[0] as BenchHome;
    await first.cli(['profile', 'add', 'noop', '--pull']);
    const { token } = JSON.parse(
      await first.cli(['token', 'create', 'bench', '--profile', 'noop', '--json']),
    ) as { token: string };
    const urls: string[] = [];
    for (const [i, home] of homes.entries()) {
      urls.push((await home.serve(['--host-id', `bench${i}`])).url);
    }
    store = await openPgStore({ url: PG_URL, schema, max: 2, create: false }, warden.systemClock);
    const ana = warden.person('bench');
    for (let i = 0; i < tasks; i++)
      await store.createTask({ title: `noop ${i}`, assignee: 'noop' }, ana);
    const durability = `${await db.durability(schema)}; warden's writes are SERIALIZABLE transactions`;
    const counted = store;
    return {
      durability,
      start: async () => {
        const startAt = performance.now();
        workers = Array.from({ length: slots ? 1 : concurrency }, (_, i) =>
          sdk.createWorker({
            url: urls[i % urls.length] ?? '',
            token,
            concurrency: slots ? concurrency : 1,
            claimWaitMs: 1000,
            handler: () => {
              hooks.handled();
              return Promise.resolve({ summary: '' });
            },
          }),
        );
        await Promise.all(workers.map((w) => w.start()));
        return startAt;
      },
      completed: async () => (await counted.countTasks('default')).done ?? 0,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** warden's pull mode on PostgreSQL with `hosts` serve processes on this machine. */
export function wardenPg(hosts: number): Peer {
  return {
    name: `warden (pull, PostgreSQL, ${hosts} host${hosts === 1 ? '' : 's'})`,
    workers: (n) =>
      `${n} SDK worker${n === 1 ? '' : 's'} (createWorker, one job at a time) in one process, ` +
      `spread over ${hosts} \`warden serve\` host${hosts === 1 ? '' : 's'}`,
    prepare: (tasks, concurrency, hooks) => prepare(hosts, tasks, concurrency, hooks, false),
  };
}

/**
 * The same on one host, with one SDK worker of `concurrency` slots: the shape graphile-worker
 * and BullMQ run in (one runner or Worker with `concurrency` N), where claims and results of
 * several slots share requests.
 */
export const wardenPgSlots: Peer = {
  name: 'warden (pull, PostgreSQL, 1 host, one worker)',
  workers: (n) => `one SDK worker (createWorker), concurrency ${n} (one process)`,
  prepare: (tasks, concurrency, hooks) => prepare(1, tasks, concurrency, hooks, true),
};
