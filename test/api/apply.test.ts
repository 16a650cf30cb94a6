import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../src/core/apply.js';
import type { BulkResult } from '../../src/core/bulk.js';
import type { Harness } from './harness.js';
import { ana, expectError, makeHarness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
  await h.store.addProfile('p', { argv: ['true'] }, ana);
});
afterEach(async () => {
  await h.cleanup();
});

const GRAPH = {
  name: 'release',
  tasks: [
    { name: 'build', title: 'Build', after: ['design'], assignee: 'p' },
    { name: 'design', title: 'Design', assignee: 'p' },
  ],
};

async function everything(): Promise<unknown> {
  return {
    tasks: await h.store.listTasks({ include_archived: true }),
    events: await h.store.listEvents({}),
  };
}

describe('POST /api/v1/apply', () => {
  it('creates the graph once; the same body again creates nothing new', async () => {
    const post = (json: unknown) =>
      h.request('POST', '/api/v1/apply', { token: h.adminToken, json });
    const dry = await post({ ...GRAPH, dry_run: true });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body).toMatchObject({ dry_run: true, created: 2, existing: 0 });
    expect(await h.store.listTasks({})).toEqual([]);
    const first = (await post(GRAPH)).body as ApplyResult;
    expect(first.tasks.map((t) => [t.name, t.result, t.status])).toEqual([
      ['design', 'created', 'ready'],
      ['build', 'created', 'todo'],
    ]);
    const before = await everything();
    const again = (await post(GRAPH)).body as ApplyResult;
    expect(again).toMatchObject({ created: 0, existing: 2 });
    expect(again.tasks.map((t) => t.id)).toEqual(first.tasks.map((t) => t.id));
    expect(await everything()).toEqual(before);
  });

  it('refuses a bad graph whole with 400 and one line, creating nothing', async () => {
    const before = await everything();
    const cases: [unknown, RegExp][] = [
      [
        {
          tasks: [
            { name: 'a', title: 'A', after: ['b'] },
            { name: 'b', title: 'B', after: ['a'] },
          ],
        },
        /^the tasks make a cycle: a after b after a/,
      ],
      [
        { tasks: [{ name: 'a', title: 'A', assignee: 'nobody' }] },
        /^task 'a': profile 'nobody' does not exist/,
      ],
      [
        {
          tasks: [
            { name: 'a', title: 'A' },
            { name: 'a', title: 'B' },
          ],
        },
        /^task name 'a' is used twice/,
      ],
      [{ tasks: [{ name: 'a', title: 'A', key: 'k'.repeat(201) }] }, /key is 201 characters/],
      [
        { tasks: [{ name: 'a', title: 'A', depends_on: [] }] },
        /^task 'a': unknown field 'depends_on'/,
      ],
    ];
    for (const [json, message] of cases) {
      const r = await h.request('POST', '/api/v1/apply', { token: h.adminToken, json });
      expectError(r, 400, 'invalid', message);
    }
    expect(await everything()).toEqual(before);
    expectError(await h.request('POST', '/api/v1/apply', { json: GRAPH }), 401, 'unauthorized');
  });
});

describe('POST /api/v1/tasks/bulk', () => {
  it('is a dry run by default, and with dry_run false changes exactly the matching tasks', async () => {
    const make = async (title: string, kind?: 'dependency' | 'needs_input') => {
      const t = await h.store.createTask({ title, assignee: 'p' }, ana);
      if (kind) await h.store.moveTask(t.id, { verb: 'block', reason: 'waits', kind }, ana);
      return t.id;
    };
    const dep = await make('dep', 'dependency');
    const ask = await make('ask', 'needs_input');
    await make('ready');
    const post = (json: unknown) =>
      h.request('POST', '/api/v1/tasks/bulk', { token: h.adminToken, json });
    const before = await everything();
    const dry = await post({ verb: 'unblock', kind: ['dependency'] });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body).toMatchObject({ dry_run: true, matched: 1, changed: 0 });
    expect(await everything()).toEqual(before);
    const done = (await post({ verb: 'unblock', kind: 'dependency', dry_run: false }))
      .body as BulkResult;
    expect(done).toMatchObject({ dry_run: false, matched: 1, changed: 1, refused: 0 });
    expect((await h.store.getTask(dep)).status).toBe('ready');
    expect((await h.store.getTask(ask)).status).toBe('blocked');
    // Refused tasks are reported in a 200 beside the ones that changed.
    const retry = (await post({ verb: 'retry', assignee: 'p', dry_run: false })).body as BulkResult;
    expect(retry).toMatchObject({ matched: 3, changed: 1, refused: 2 });
    expect(retry.tasks.find((t) => t.result === 'refused')?.reason).toMatch(
      /cannot retry a task that is ready/,
    );
  });

  it('refuses a bad filter with 400 and changes nothing', async () => {
    const before = await everything();
    const post = (json: unknown) =>
      h.request('POST', '/api/v1/tasks/bulk', { token: h.adminToken, json });
    expectError(await post({ verb: 'archive', dry_run: false }), 400, 'invalid', /^give a filter/);
    expectError(
      await post({ verb: 'archive', kind: 'stuck' }),
      400,
      'invalid',
      /kind: unknown kind 'stuck'/,
    );
    expectError(await post({ verb: 'done', status: 'ready' }), 400, 'invalid', /^verb: /);
    expectError(await post({ verb: 'retry', status: 'blocked', board: 'nope' }), 404, 'not_found');
    expect(await everything()).toEqual(before);
  });
});
