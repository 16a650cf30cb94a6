/**
 * Property-based requests against the API over a real port (issue #11): whatever a request
 * carries, the answer is 200 or a documented error (status, stable code, one line), never a
 * 500, and a refused request leaves every row of the SQLite file as it was.
 */
import { expect } from 'vitest';
import { hashToken as sha256 } from '../../src/os/token.js';
import { dbSnapshot } from '../helpers/db.js';
import type { DbSnapshot } from '../helpers/db.js';
import type { Harness } from './harness.js';
import { ana, makeHarness } from './harness.js';
import { listen } from './server.js';
import type { Listening } from './server.js';

/** The statuses docs/api.md documents, with the codes each may carry. */
export const DOCUMENTED: Readonly<Record<number, readonly string[]>> = {
  400: ['invalid'],
  401: ['unauthorized'],
  403: ['forbidden'],
  404: ['not_found'],
  409: ['conflict', 'illegal_state', 'stale_run'],
  415: ['unsupported_media_type'],
};

/** Which credential a route takes. */
export type Door = 'admin' | 'run' | 'worker';

/** One request as the properties build it. */
export interface Fuzzed {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  door: Door | 'none' | 'garbage';
  contentType?: string | undefined;
  body?: Uint8Array | undefined;
}

/** A store with a task, a claimed run and a pull lease, served on a real port. */
export interface World {
  h: Harness;
  server: Listening;
  tokens: Record<Door, string>;
  taskId: number;
  leaseId: string;
}

const WORKER_TOKEN = 'wdn_fuzz_pull_worker_secret';

export async function makeWorld(): Promise<World> {
  const h = await makeHarness();
  const claim = await h.claimNew({ title: 'running' });
  await h.store.createTask({ title: 'waiting', assignee: 'p' }, ana);
  await h.store.addProfile('agent', { mode: 'pull' }, ana);
  await h.store.addToken(
    { name: 'pullers', kind: 'worker', hash: sha256(WORKER_TOKEN), profiles: ['agent'] },
    ana,
  );
  const server = await listen(h.app);
  const world: World = {
    h,
    server,
    tokens: { admin: h.adminToken, run: claim.token, worker: WORKER_TOKEN },
    taskId: claim.task.id,
    leaseId: '',
  };
  const lease = await send(world, {
    method: 'POST',
    path: '/api/v1/pull/leases',
    door: 'worker',
    contentType: 'application/json',
    body: new TextEncoder().encode('{"name":"fuzz"}'),
  });
  world.leaseId = (JSON.parse(lease.text) as { lease_id: string }).lease_id;
  return world;
}

export async function closeWorld(world: World | undefined): Promise<void> {
  await world?.server.close();
  await world?.h.cleanup();
}

interface Sent {
  status: number;
  contentType: string | null;
  text: string;
}

async function send(world: World, req: Fuzzed): Promise<Sent> {
  const headers: Record<string, string> = {};
  if (req.door === 'garbage') headers.authorization = 'Bearer wdn_not-a-token';
  else if (req.door !== 'none') headers.authorization = `Bearer ${world.tokens[req.door]}`;
  if (req.contentType !== undefined) headers['content-type'] = req.contentType;
  const res = await fetch(`${world.server.url}${req.path}`, {
    method: req.method,
    headers,
    ...(req.body !== undefined && req.method !== 'GET' ? { body: req.body } : {}),
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    text: await res.text(),
  };
}

/** A refusal may add `stale_run` events (a stale worker is recorded) and nothing else. */
function expectUnchanged(before: DbSnapshot, after: DbSnapshot, code: string, what: string): void {
  if (code !== 'stale_run') {
    expect(after, `${what} changed the database`).toEqual(before);
    return;
  }
  // The events table's AUTOINCREMENT counter moves with the events it records.
  const rest = (s: DbSnapshot): DbSnapshot => ({
    ...s,
    events: [],
    sqlite_sequence: (s.sqlite_sequence ?? []).filter((row) => row.name !== 'events'),
  });
  expect(rest(after), `${what} changed the database`).toEqual(rest(before));
  const eventsBefore = before.events ?? [];
  const eventsAfter = after.events ?? [];
  expect(eventsAfter.slice(0, eventsBefore.length)).toEqual(eventsBefore);
  for (const e of eventsAfter.slice(eventsBefore.length)) expect(e.kind, what).toBe('stale_run');
}

/**
 * Sends `req` and checks the answer: 200, or a documented status with exactly
 * `{ error: { code, message } }`, the code documented for it and a one-line message; and on
 * a refusal, every row as it was. Returns the status.
 */
export async function sendChecked(world: World, req: Fuzzed): Promise<number> {
  const before = dbSnapshot(world.h.dbPath);
  const answer = await send(world, req);
  const what = `${req.method} ${req.path} (${req.contentType ?? 'no type'}, ${req.body?.length ?? 0} bytes)`;
  expect(answer.status, `${what}: ${answer.text}`).not.toBe(500);
  if (answer.status === 200) return 200;
  expect(Object.keys(DOCUMENTED), `${what}: ${answer.text}`).toContain(String(answer.status));
  expect(answer.contentType, what).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as { error: { code: string; message: string } };
  expect(Object.keys(body), what).toEqual(['error']);
  expect(Object.keys(body.error), what).toEqual(['code', 'message']);
  expect(DOCUMENTED[answer.status], `${what}: ${answer.text}`).toContain(body.error.code);
  expect(body.error.message, what).toMatch(/^[^\n\r]+$/);
  expectUnchanged(before, dbSnapshot(world.h.dbPath), body.error.code, what);
  return answer.status;
}
