import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_KEYS } from '../../src/core/policy.js';
import type { Door, Fuzzed, World } from './fuzz.js';
import { closeWorld, makeWorld, sendChecked } from './fuzz.js';

// Random and malformed bodies on every write route (issue #11, "Must show").

interface WriteRoute {
  method: 'POST' | 'PATCH';
  path: (w: World, task: number) => string;
  door: Door;
  /** A body the route takes, for the properties to break one field at a time. */
  base: Record<string, unknown>;
}

const tasks = (w: World, task: number, rest = ''): string => `/api/v1/tasks/${task}${rest}`;

const ROUTES: readonly WriteRoute[] = [
  {
    method: 'POST',
    path: () => '/api/v1/tasks',
    door: 'admin',
    base: { title: 'new', priority: 1, policy: { max_runtime: '1h' } },
  },
  {
    method: 'PATCH',
    path: tasks,
    door: 'admin',
    base: { title: 'edited', policy: { max_failures: 2 }, clear_policy: ['kill_grace'] },
  },
  {
    method: 'POST',
    path: (w, t) => tasks(w, t, '/move'),
    door: 'admin',
    base: { verb: 'block', reason: 'why', kind: 'needs_input' },
  },
  {
    method: 'POST',
    path: (w, t) => tasks(w, t, '/comments'),
    door: 'admin',
    base: { body: 'a comment' },
  },
  { method: 'POST', path: (w, t) => tasks(w, t, '/links'), door: 'admin', base: { parent: 1 } },
  {
    method: 'POST',
    path: (w, t) => tasks(w, t, '/stop'),
    door: 'admin',
    base: { requeue: true, reason: 'enough' },
  },
  ...['progress', 'heartbeat'].map((p) => ({
    method: 'POST' as const,
    path: () => `/api/v1/worker/${p}`,
    door: 'run' as const,
    base: { note: 'going' },
  })),
  {
    method: 'POST',
    path: () => '/api/v1/worker/comment',
    door: 'run',
    base: { body: 'from the worker' },
  },
  ...['complete', 'request-review'].map((p) => ({
    method: 'POST' as const,
    path: () => `/api/v1/worker/${p}`,
    door: 'run' as const,
    base: { summary: 'done', metadata: { files: ['a'] } },
  })),
  { method: 'POST', path: () => '/api/v1/worker/fail', door: 'run', base: { reason: 'broke' } },
  {
    method: 'POST',
    path: () => '/api/v1/worker/block',
    door: 'run',
    base: { reason: 'stuck', kind: 'needs_input' },
  },
  {
    method: 'POST',
    path: () => '/api/v1/worker/create',
    door: 'run',
    base: { title: 'child', after_me: true, policy: { max_failures: 1 } },
  },
  { method: 'POST', path: () => '/api/v1/worker/link', door: 'run', base: { parent: 1, child: 2 } },
  {
    method: 'POST',
    path: () => '/api/v1/pull/leases',
    door: 'worker',
    base: { name: 'w', profiles: ['agent'] },
  },
  // An unknown lease: the claim is refused before it could long-poll.
  {
    method: 'POST',
    path: () => '/api/v1/pull/claim',
    door: 'worker',
    base: { lease_id: 'nope', max: 1, wait_ms: 0 },
  },
  {
    method: 'POST',
    path: (w) => `/api/v1/pull/leases/${w.leaseId}/renew`,
    door: 'worker',
    base: { acks: [1] },
  },
];

const FIELDS = [
  ...new Set(ROUTES.flatMap((r) => Object.keys(r.base))),
  'body',
  'assignee',
  'parents',
  'idempotency_key',
  'triage',
  'board',
  'summary',
  'metadata',
  'now',
  'archive',
  'reassign',
  'unknown_field',
];

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Values that have broken, or could break, an edge: each is tried in every field. */
const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '0.4ms',
    '0.0001ms',
    ' 90s',
    '90s ',
    '1e3ms',
    '3',
    '-1',
    '0',
    '',
    'colour',
    'needs_input',
  ),
  fc.constantFrom(
    'a\u0000b',
    'x\u202Ey',
    '\u001b[2J',
    'tab\there',
    'line\nbreak',
    '\u2066',
    '\uFEFF',
  ),
  fc.constantFrom(0, -1, 0.4, 1.5, 1e300, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc
    .integer({ min: 60, max: 400 })
    .map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown),
);

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...FIELDS), value: nasty }),
  fc.record({
    kind: fc.constant('policy' as const),
    key: fc.constantFrom(...POLICY_KEYS, 'colour'),
    value: nasty,
  }),
  fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...FIELDS) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(base: Record<string, unknown>, mutations: readonly Mutation[]): unknown {
  const body: Record<string, unknown> = structuredClone(base);
  for (const m of mutations) {
    if (m.kind === 'drop') delete body[m.key];
    else if (m.kind === 'set') body[m.key] = m.value;
    else body.policy = { ...(body.policy as object), [m.key]: m.value };
  }
  return body;
}

/** Bodies that are not what any route takes: not JSON, not UTF-8, too deep, empty. */
const rawBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => encode(JSON.stringify(v))),
  fc.string({ unit: 'binary', maxLength: 60 }).map(encode),
  fc.uint8Array({ maxLength: 60 }),
  fc
    .integer({ min: 60, max: 6000 })
    .map((n) => encode(`{"summary":"x","metadata":${'['.repeat(n)}${']'.repeat(n)}}`)),
  fc.integer({ min: 60, max: 6000 }).map((n) => encode(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
  fc.constant(new Uint8Array()),
);

const contentType = fc.option(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'APPLICATION/JSON;CHARSET="UTF-8"',
    'application/json;;',
    'application/json; charset=',
    'text/plain',
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'application/vnd.api+json',
    'multipart/form-data',
    '*/*',
  ),
  { nil: undefined },
);

let world: World;
beforeAll(async () => {
  world = await makeWorld();
});
afterAll(async () => {
  await closeWorld(world);
});

describe('random bodies on the write routes', () => {
  it('answer 200 or a documented error in one line, never 500, and a refusal changes nothing', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.boolean(),
        rawBody,
        contentType,
        async (route, onRunning, body, type) => {
          const task = onRunning ? world.taskId : world.taskId + 1;
          const req: Fuzzed = {
            method: route.method,
            path: route.path(world, task),
            door: route.door,
            contentType: type,
            body,
          };
          statuses.add(await sendChecked(world, req));
        },
      ),
      { numRuns: 150 },
    );
    // The properties reached the edges they are about.
    expect([...statuses]).toEqual(expect.arrayContaining([400, 415]));
  });

  it('a body of the right shape with fields broken is refused whole or taken whole', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.boolean(),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (route, onRunning, mutations) => {
          const task = onRunning ? world.taskId : world.taskId + 1;
          const body = encode(JSON.stringify(mutate(route.base, mutations)));
          const req: Fuzzed = {
            method: route.method,
            path: route.path(world, task),
            door: route.door,
            contentType: 'application/json',
            body,
          };
          statuses.add(await sendChecked(world, req));
        },
      ),
      { numRuns: 200 },
    );
    expect([...statuses]).toEqual(expect.arrayContaining([200, 400]));
  });
});
