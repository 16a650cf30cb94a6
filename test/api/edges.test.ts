import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/task.js';
import { dbSnapshot } from '../helpers/db.js';
import type { Answer, Harness, RequestOptions } from './harness.js';
import { ana, expectError, makeHarness } from './harness.js';

// The lax edges of issue #11 on the people's routes: each reproduction is refused with one
// line and leaves every row of the database as it was.

let h: Harness;
let task: Task;
beforeEach(async () => {
  h = await makeHarness();
  task = await h.store.createTask({ title: 'port the parser', policy: { max_failures: 2 } }, ana);
});
afterEach(async () => {
  await h.cleanup();
});

async function refused(
  method: string,
  path: string,
  options: Omit<RequestOptions, 'token'>,
  status: number,
  code: string,
  message: RegExp,
): Promise<Answer> {
  const before = dbSnapshot(h.dbPath);
  const a = await h.request(method, path, { token: h.adminToken, ...options });
  expectError(a, status, code, message);
  expect((a.body as { error: { message: string } }).error.message).not.toContain('\n');
  expect(dbSnapshot(h.dbPath), `${method} ${path} changed the database`).toEqual(before);
  return a;
}

describe('durations that would be stored as 0 (unlimited) are refused', () => {
  it.each([
    ['0.0001ms', /^policy\.max_runtime: '0\.0001ms' is shorter than 1ms; .*write 1ms or more$/],
    ['0.4ms', /'0\.4ms' is shorter than 1ms/],
    [
      '90s ',
      /^policy\.max_runtime: '90s ' has spaces around it; write the duration alone, like '90s'$/,
    ],
    [' 90s', /has spaces around it/],
    ['-5m', /is not a duration/],
    ['1h 30m', /is not a duration/],
  ])('max_runtime %j', async (value, message) => {
    for (const [method, path] of [
      ['POST', '/api/v1/tasks'],
      ['PATCH', `/api/v1/tasks/${task.id}`],
    ] as const) {
      const json =
        method === 'POST'
          ? { title: 't', policy: { max_runtime: value } }
          : { policy: { max_runtime: value } };
      await refused(method, path, { json }, 400, 'invalid', message);
    }
  });

  it('milliseconds must be whole and not negative', async () => {
    const post = (policy: unknown) => ({ json: { title: 't', policy } });
    await refused(
      'POST',
      '/api/v1/tasks',
      post({ max_runtime: 0.4 }),
      400,
      'invalid',
      /^policy\.max_runtime: expected whole milliseconds or a duration like 90s, got 0\.4$/,
    );
    await refused(
      'POST',
      '/api/v1/tasks',
      post({ kill_grace: -1 }),
      400,
      'invalid',
      /^policy\.kill_grace: a duration cannot be negative$/,
    );
    await refused(
      'POST',
      '/api/v1/tasks',
      post({ stall_timeout: 0 }),
      400,
      'invalid',
      /^policy\.stall_timeout: must be longer than 0$/,
    );
    // A zero written as zero keeps its documented meaning where it has one.
    const a = await h.request('POST', '/api/v1/tasks', {
      token: h.adminToken,
      ...post({ max_runtime: 0 }),
    });
    expect(a.status, a.text).toBe(200);
    expect((a.body as Task).policy).toEqual({ max_runtime: 0 });
  });
});

describe('exact types and known names', () => {
  it('max_failures: "3" is a string, not a number', async () => {
    await refused(
      'POST',
      '/api/v1/tasks',
      { json: { title: 't', policy: { max_failures: '3' } } },
      400,
      'invalid',
      /^policy\.max_failures: expected a whole number of at least 1 \(a JSON number, not a string\), got "3"$/,
    );
    await refused(
      'PATCH',
      `/api/v1/tasks/${task.id}`,
      { json: { policy: { max_failures: '3' } } },
      400,
      'invalid',
      /not a string/,
    );
  });

  it('an unknown clear_policy entry is refused, naming the known ones', async () => {
    const a = await refused(
      'PATCH',
      `/api/v1/tasks/${task.id}`,
      { json: { clear_policy: ['max_failures', 'colour'] } },
      400,
      'invalid',
      /^clear_policy\.1: unknown policy option; use one of stall_warn_after, stall_timeout, max_runtime, /,
    );
    expect((a.body as { error: { message: string } }).error.message).toContain('max_failures');
    await refused(
      'PATCH',
      `/api/v1/tasks/${task.id}`,
      { json: { clear_policy: [3] } },
      400,
      'invalid',
      /^clear_policy\.0: /,
    );
    // The store refuses the same, whatever door the edit comes through.
    await expect(h.store.editTask(task.id, { clear_policy: ['colour'] }, ana)).rejects.toThrow(
      /^clear_policy: unknown policy option "colour"; known: stall_warn_after/,
    );
  });

  it('unknown keys in a body are refused', async () => {
    await refused(
      'PATCH',
      `/api/v1/tasks/${task.id}`,
      { json: { titel: 'x' } },
      400,
      'invalid',
      /titel/,
    );
    await refused(
      'POST',
      `/api/v1/tasks/${task.id}/links`,
      { json: { parent: 1, child: 2 } },
      400,
      'invalid',
      /child/,
    );
  });
});

describe('control and bidi characters in titles', () => {
  it.each([
    ['NUL', 'a\u0000b', 'U+0000'],
    ['ESC', '\u001b[31mred', 'U+001B'],
    ['a newline', 'one\ntwo', 'U+000A'],
    ['a C1 control', 'x\u0085y', 'U+0085'],
    ['RIGHT-TO-LEFT OVERRIDE', 'invoice\u202Etxt.exe', 'U+202E'],
    ['LEFT-TO-RIGHT EMBEDDING', 'a\u202Ab', 'U+202A'],
    ['FIRST STRONG ISOLATE', 'a\u2068b', 'U+2068'],
  ])('%s is refused on create and edit', async (_what, title, point) => {
    const message = new RegExp(
      `^title: must not contain control or bidi-override characters \\(found ${point.replace('+', '\\+')}\\)$`,
    );
    await refused('POST', '/api/v1/tasks', { json: { title } }, 400, 'invalid', message);
    await refused(
      'PATCH',
      `/api/v1/tasks/${task.id}`,
      { json: { title } },
      400,
      'invalid',
      message,
    );
  });

  it('a body or comment keeps newlines and tabs but not NUL or ESC', async () => {
    await refused(
      'PATCH',
      `/api/v1/tasks/${task.id}`,
      { json: { body: 'a\u0000' } },
      400,
      'invalid',
      /^body: must not contain control characters other than tab and newline \(found U\+0000\)$/,
    );
    await refused(
      'POST',
      `/api/v1/tasks/${task.id}/comments`,
      { json: { body: '\u001b]0;pwned\u0007' } },
      400,
      'invalid',
      /^comment: .*U\+001B/,
    );
    await refused(
      'POST',
      `/api/v1/tasks/${task.id}/move`,
      { json: { verb: 'block', reason: 'why\u0000' } },
      400,
      'invalid',
      /^reason: .*U\+0000/,
    );
    const ok = await h.request('PATCH', `/api/v1/tasks/${task.id}`, {
      token: h.adminToken,
      json: { body: 'steps:\n\t1. read\r\n\t2. write' },
    });
    expect(ok.status, ok.text).toBe(200);
  });
});

describe('nesting and unknown things on the people’s routes', () => {
  it('5,000 levels of nesting in a move’s metadata → 400, not 500', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    await refused(
      'POST',
      `/api/v1/tasks/${task.id}/move`,
      { raw: `{"verb":"done","summary":"x","metadata":${deep}}` },
      400,
      'invalid',
      /^request body nests arrays and objects deeper than 64 levels; flatten it$/,
    );
    // Behind the edge, the store refuses the same without overflowing its stack.
    const value: unknown = JSON.parse(deep);
    await expect(
      h.store.moveTask(task.id, { verb: 'done', metadata: value as never }, ana),
    ).rejects.toThrow(
      /^metadata: JSON nests deeper than 64 levels of arrays and objects; flatten it$/,
    );
  });

  it('GET /events?board=nope and /tasks?board=nope answer 404 like /board; so does an unknown task', async () => {
    await refused(
      'GET',
      '/api/v1/events?board=nope',
      {},
      404,
      'not_found',
      /^board 'nope' does not exist/,
    );
    await refused(
      'GET',
      '/api/v1/events?task=999',
      {},
      404,
      'not_found',
      /^task 999 does not exist/,
    );
    await refused('GET', '/api/v1/tasks?board=nope', {}, 404, 'not_found', /^board 'nope'/);
    const a = await h.request('GET', '/api/v1/events?board=default', { token: h.adminToken });
    expect(a.status).toBe(200);
  });

  it('a task id in a path must be a positive safe integer', async () => {
    for (const id of ['0', '007', '99999999999999999', '1e3']) {
      await refused(
        'POST',
        `/api/v1/tasks/${id}/comments`,
        { json: { body: 'hi' } },
        400,
        'invalid',
        /^id: /,
      );
    }
  });
});
