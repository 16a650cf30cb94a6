import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Door, Fuzzed, World } from './fuzz.js';
import { closeWorld, makeWorld, sendChecked } from './fuzz.js';

// Random path parameters, queries and credentials (issue #11, "Must show"): the id in a
// path, a query and a token are input like a body, and get the same treatment.

interface Route {
  method: Fuzzed['method'];
  path: (id: string) => string;
  door: Door;
  body?: string;
}

const ROUTES: readonly Route[] = [
  { method: 'GET', path: (id) => `/api/v1/tasks/${id}`, door: 'admin' },
  { method: 'PATCH', path: (id) => `/api/v1/tasks/${id}`, door: 'admin', body: '{"priority":2}' },
  {
    method: 'POST',
    path: (id) => `/api/v1/tasks/${id}/move`,
    door: 'admin',
    body: '{"verb":"retry"}',
  },
  {
    method: 'POST',
    path: (id) => `/api/v1/tasks/${id}/comments`,
    door: 'admin',
    body: '{"body":"hi"}',
  },
  {
    method: 'POST',
    path: (id) => `/api/v1/tasks/${id}/links`,
    door: 'admin',
    body: '{"parent":1}',
  },
  { method: 'POST', path: (id) => `/api/v1/tasks/${id}/stop`, door: 'admin', body: '{}' },
  { method: 'GET', path: () => '/api/v1/tasks', door: 'admin' },
  { method: 'GET', path: () => '/api/v1/events', door: 'admin' },
  { method: 'POST', path: (id) => `/api/v1/pull/leases/${id}/renew`, door: 'worker', body: '{}' },
  { method: 'POST', path: (id) => `/api/v1/pull/leases/${id}/close`, door: 'worker' },
  { method: 'POST', path: () => '/api/v1/worker/progress', door: 'run', body: '{}' },
];

const id = fc.oneof(
  fc.nat({ max: 5 }).map(String),
  fc.constantFrom(
    '0',
    '-1',
    '1.5',
    '007',
    '1e3',
    '0x1',
    '99999999999999999999',
    '9007199254740993',
  ),
  fc.constantFrom('%00', '%E2%80%AE', '..%2F..%2Fetc', 'null', '%201', '%0A', 'a%3Bb'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map(encodeURIComponent),
);

const query = fc
  .array(
    fc.tuple(
      fc.constantFrom('board', 'status', 'assignee', 'limit', 'offset', 'q', 'task', 'after', 'x'),
      fc.oneof(
        fc.constantFrom(
          'nope',
          'default',
          '-1',
          '0',
          '1e9',
          'ready,bogus',
          '99999999999999999999',
          '',
        ),
        fc.string({ unit: 'binary', maxLength: 12 }),
      ),
    ),
    { maxLength: 3 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`));

const door = fc.constantFrom<Fuzzed['door']>('admin', 'run', 'worker', 'none', 'garbage');

let world: World;
beforeAll(async () => {
  world = await makeWorld();
});
afterAll(async () => {
  await closeWorld(world);
});

describe('random ids, queries and tokens', () => {
  it('answer 200 or a documented error in one line, never 500, and a refusal changes nothing', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        id,
        query,
        fc.option(door, { nil: undefined }),
        async (route, pathId, q, other) => {
          const req: Fuzzed = {
            method: route.method,
            path: `${route.path(pathId)}${q}`,
            door: other ?? route.door,
            ...(route.body !== undefined
              ? { contentType: 'application/json', body: new TextEncoder().encode(route.body) }
              : {}),
          };
          statuses.add(await sendChecked(world, req));
        },
      ),
      { numRuns: 150 },
    );
    expect([...statuses]).toEqual(expect.arrayContaining([200, 400, 401, 404]));
  });
});
