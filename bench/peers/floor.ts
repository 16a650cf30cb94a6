/**
 * The floor of a pull round (./floor-round.ts) as a peer of `peers-throughput --floor`, over
 * warden's real schema in a fresh PostgreSQL schema. Each loop carries its finished runs'
 * tokens on the claim for the next ones, as warden's SDK worker does: one loop of
 * `concurrency` slots (the shape of one warden worker with that many), or `concurrency` loops
 * of one slot (the shape of as many workers). `direct` runs the round's statement from each
 * loop's own connection, as pg-boss and graphile-worker run theirs; over HTTP it goes through
 * a separate server process (./floor-server.ts), as a warden worker reaches its store through
 * `warden serve`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type * as OpenPg from '../../src/store/postgres/open.js';
import { loadWarden } from '../lib/dist.js';
import { FLOOR_ROUND } from './floor-round.js';
import type { FloorClaim } from './floor-round.js';
import type { Hooks, Peer, Round } from './peer.js';
import { runAll, uniqueName } from './peer.js';
import { BenchDb, PG_URL } from './postgres.js';

const DIST = new URL('../../dist/', import.meta.url);
const SERVER = fileURLToPath(new URL('./floor-server.ts', import.meta.url));

/** One round: the finished runs' tokens in, the new claims out. */
type Exchange = (done: readonly string[], max: number) => Promise<FloorClaim[]>;

/** Starts the server process and resolves with its URL and the process. */
async function startServer(
  schema: string,
  secret: string,
  connections: number,
): Promise<[string, ChildProcess]> {
  const child = spawn(process.execPath, [SERVER, PG_URL, schema, secret, String(connections)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`floor-server exited ${String(code)}`)));
  });
  return [url, child];
}

/** One POST /round over node:http, with the keep-alive global agent, as warden's SDK calls. */
function overHttp(url: string, secret: string): Exchange {
  const target = new URL('/round', url);
  return (done, max) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ done, max });
      const req = request(
        target,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${secret}`,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            if (res.statusCode !== 200)
              reject(new Error(`floor-server ${res.statusCode}: ${text}`));
            else resolve((JSON.parse(text) as { claims: FloorClaim[] }).claims);
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

/** The round's statement from this process's own connection. */
function direct(client: pg.Client): Exchange {
  return async (done, max) => {
    const r = await client.query<{ claims: FloorClaim[] }>({
      name: 'floor_round',
      text: FLOOR_ROUND,
      values: [done, 'floor', Date.now(), max],
    });
    return r.rows[0]?.claims ?? [];
  };
}

/** How a floor peer's workers are shaped and reach the database. */
interface Shape {
  viaHttp: boolean;
  /** `concurrency` loops of one slot each, instead of one loop of `concurrency` slots. */
  loops: boolean;
}

async function prepare(
  tasks: number,
  concurrency: number,
  hooks: Hooks,
  shape: Shape,
): Promise<Round> {
  const warden = await loadWarden();
  const { openPgStore } = (await import(
    new URL('store/postgres/open.js', DIST).href
  )) as typeof OpenPg;
  const schema = uniqueName('floor');
  const db = new BenchDb();
  await db.open();
  let server: ChildProcess | null = null;
  const clients: pg.Client[] = [];
  let stopped = false;
  let loop: Promise<void> = Promise.resolve();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    stopped = true;
    await runAll([
      () => loop.catch(() => undefined),
      async () => {
        if (server && server.exitCode === null && server.signalCode === null) {
          const exited = new Promise((resolve) => server?.once('exit', resolve));
          server.kill('SIGTERM');
          await exited;
        }
      },
      () => Promise.all(clients.map((c) => c.end())),
      () => db.dropSchema(schema),
      () => db.close(),
    ]);
  };
  try {
    // warden's own schema, every table and index, made by its migrations.
    const store = await openPgStore({ url: PG_URL, schema, max: 1 }, warden.systemClock);
    try {
      await store.addBoard('default', warden.person('bench'));
      await store.addProfile('noop', { argv: ['true'], mode: 'pull' }, warden.person('bench'));
    } finally {
      await store.close();
    }
    await db.number(
      `insert into "${schema}".tasks (board, title, assignee, status, created_by, created_at, updated_at)
       select 'default', 'noop ' || g, 'noop', 'ready', 'person:bench', $1, $1
       from generate_series(1, $2) g`,
      [Date.now(), tasks],
    );
    await db.number(`analyze "${schema}".tasks`);
    const durability = await db.durability(schema);
    const loops = shape.loops ? concurrency : 1;
    const slots = shape.loops ? 1 : concurrency;
    const exchanges: Exchange[] = [];
    if (shape.viaHttp) {
      const secret = randomBytes(24).toString('base64url');
      const [url, child] = await startServer(schema, secret, loops);
      server = child;
      for (let i = 0; i < loops; i++) exchanges.push(overHttp(url, secret));
    } else {
      for (let i = 0; i < loops; i++) {
        const client = new pg.Client({
          connectionString: PG_URL,
          options: `-c search_path=${schema}`,
        });
        clients.push(client);
        await client.connect();
        exchanges.push(direct(client));
      }
    }
    return {
      durability,
      start: () => {
        const startAt = performance.now();
        const one = async (exchange: Exchange): Promise<void> => {
          let done: string[] = [];
          while (!stopped) {
            const claims = await exchange(done, slots);
            done = [];
            for (const c of claims) {
              hooks.handled();
              done.push(c.token);
            }
            // Every task was made before the start: no claim means the last results are in.
            if (claims.length === 0) break;
          }
        };
        loop = Promise.all(exchanges.map(one)).then(() => undefined);
        loop.catch((err: unknown) => hooks.failed(err));
        return Promise.resolve(startAt);
      },
      completed: () =>
        db.number(`select count(*)::int as n from "${schema}".tasks where status = 'done'`),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The floor in one loop of N slots, the statement sent from the loop's own connection. */
export const floorDirect: Peer = {
  name: 'floor round, direct (not warden)',
  workers: (n) => `one loop of ${n} slot${n === 1 ? '' : 's'}, the statement from its connection`,
  prepare: (tasks, n, hooks) => prepare(tasks, n, hooks, { viaHttp: false, loops: false }),
};

/** The floor in one loop of N slots, the statement sent through an HTTP server process. */
export const floorHttp: Peer = {
  name: 'floor round, over HTTP (not warden)',
  workers: (n) => `one loop of ${n} slot${n === 1 ? '' : 's'}, through a node:http server process`,
  prepare: (tasks, n, hooks) => prepare(tasks, n, hooks, { viaHttp: true, loops: false }),
};

/** The floor in N loops of one slot, each sending the statement from its own connection. */
export const floorDirectLoops: Peer = {
  name: 'floor round, direct, loops of 1 slot (not warden)',
  workers: (n) =>
    `${n} loop${n === 1 ? '' : 's'} of 1 slot in one process, each the statement from its own connection`,
  prepare: (tasks, n, hooks) => prepare(tasks, n, hooks, { viaHttp: false, loops: true }),
};

/** The floor in N loops of one slot, each through the same HTTP server process. */
export const floorHttpLoops: Peer = {
  name: 'floor round, over HTTP, loops of 1 slot (not warden)',
  workers: (n) =>
    `${n} loop${n === 1 ? '' : 's'} of 1 slot in one process, through a node:http server ` +
    `process with ${n} connection${n === 1 ? '' : 's'}`,
  prepare: (tasks, n, hooks) => prepare(tasks, n, hooks, { viaHttp: true, loops: true }),
};
