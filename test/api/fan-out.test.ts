import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/task.js';
import type { Claim } from '../../src/store/run-types.js';
import type { Answer, Harness } from './harness.js';
import { ana, expectError, expectUnchanged, makeHarness } from './harness.js';

let h: Harness;
let c: Claim;

beforeEach(async () => {
  h = await makeHarness();
  await h.store.addBoard('ops', ana);
  c = await h.claimNew();
});
afterEach(async () => {
  await h.cleanup();
});

const create = (json: unknown): Promise<Answer> =>
  h.request('POST', '/api/v1/worker/create', { token: c.token, json });
const link = (parent: number, child: number): Promise<Answer> =>
  h.request('POST', '/api/v1/worker/link', { token: c.token, json: { parent, child } });

async function created(json: unknown): Promise<Task> {
  const a = await create(json);
  expect(a.status, a.text).toBe(200);
  return a.body as Task;
}

describe('POST /api/v1/worker/create', () => {
  it('creates a child on the same board that does not wait for its creator', async () => {
    const child = await created({ title: 'write docs', body: 'all of them', assignee: 'p' });
    expect(child).toMatchObject({
      board: 'default',
      title: 'write docs',
      body: 'all of them',
      assignee: 'p',
      status: 'ready',
      parents: [],
      created_by: `worker:run/${c.run.id}`,
      created_by_task: c.task.id,
    });
    expect(await h.store.getTask(child.id)).toEqual(child);
    const events = await h.store.listEvents({ task_id: child.id });
    expect(events.map((e) => [e.kind, e.actor])).toEqual([
      ['task_created', `worker:run/${c.run.id}`],
    ]);
  });

  it('with after_me, the child is todo until its creator is done', async () => {
    const child = await created({ title: 'deploy', after_me: true });
    expect(child.status).toBe('todo');
    expect(child.parents).toEqual([c.task.id]);
    expect((await h.store.getTask(c.task.id)).children).toEqual([child.id]);

    const done = await h.request('POST', '/api/v1/worker/complete', {
      token: c.token,
      json: { summary: 'built' },
    });
    expect(done.status, done.text).toBe(200);
    await h.store.finishRun(
      c.run.id,
      { outcome: 'completed', reason: { rule: 'exit_code', message: 'exited 0' }, exit_code: 0 },
      { host: 'h1', config: {} },
    );
    expect((await h.store.getTask(child.id)).status).toBe('ready');
  });

  it('returns the same task for a repeated idempotency key', async () => {
    const first = await created({ title: 'shard 1', idempotency_key: 'shard-1' });
    const before = await h.snapshot([c.task.id, first.id]);
    const again = await created({ title: 'shard 1 (retried)', idempotency_key: 'shard-1' });
    expect(again).toEqual(first);
    expectUnchanged(before, await h.snapshot([c.task.id, first.id]));
    const other = await created({ title: 'shard 2', idempotency_key: 'shard-2' });
    expect(other.id).not.toBe(first.id);
    expect((await h.store.listTasks({ board: 'default' })).map((t) => t.id)).toEqual([
      c.task.id,
      first.id,
      other.id,
    ]);
  });

  it('refuses a policy with limits above the profile’s (numbers) with 400', async () => {
    const before = await h.snapshot([c.task.id]);
    expectError(
      await create({ title: 'slow', policy: { stall_timeout: 2 * 3600_000 } }),
      400,
      'invalid',
      /stall_timeout .* above its profile's/,
    );
    expectError(
      await create({ title: 'forever', policy: { max_runtime: 0 } }),
      400,
      'invalid',
      /max_runtime/,
    );
    expectError(
      await create({ title: 'stubborn', policy: { max_failures: 10 } }),
      400,
      'invalid',
      /max_failures/,
    );
    expectUnchanged(before, await h.snapshot([c.task.id]));
    // At or under the ceiling is fine.
    const ok = await created({ title: 'quick', policy: { stall_timeout: '30m' } });
    expect(ok.policy).toEqual({ stall_timeout: 30 * 60_000 });
  });

  // BUG: workerCreate compares the raw policy values with the ceiling before they are
  // parsed, so a duration written as text ('2h') compares as NaN, passes, and is then
  // parsed and stored as 7200000 ms — above the profile's 3600000.
  it('refuses a policy with limits above the profile’s written as durations with 400', async () => {
    const before = await h.snapshot([c.task.id]);
    expectError(
      await create({ title: 'slow', policy: { stall_timeout: '2h' } }),
      400,
      'invalid',
      /stall_timeout .* above its profile's/,
    );
    expectUnchanged(before, await h.snapshot([c.task.id]));
  });

  it('refuses a board other than its own with 400', async () => {
    const before = await h.snapshot([c.task.id]);
    for (const board of ['ops', 'nope']) {
      expectError(await create({ title: 'elsewhere', board }), 400, 'invalid', /board/);
    }
    expectUnchanged(before, await h.snapshot([c.task.id]));
  });

  it('refuses a parent on another board, an unknown parent or profile, changing nothing', async () => {
    const foreign = await h.store.createTask({ title: 'ops work', board: 'ops' }, ana);
    const before = await h.snapshot([c.task.id, foreign.id]);
    expectError(
      await create({ title: 'x', parents: [foreign.id] }),
      409,
      'conflict',
      /board 'ops'/,
    );
    expectError(await create({ title: 'x', parents: [999] }), 404, 'not_found', /task 999/);
    expectError(await create({ title: 'x', assignee: 'ghost' }), 404, 'not_found', /ghost/);
    expectUnchanged(before, await h.snapshot([c.task.id, foreign.id]));
  });
});

describe('POST /api/v1/worker/link', () => {
  it('links its own task with a child it created, in either direction', async () => {
    const before = await created({ title: 'prepare' });
    const after = await created({ title: 'verify' });

    const a = await link(before.id, c.task.id);
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ id: c.task.id, parents: [before.id] });

    const b = await link(c.task.id, after.id);
    expect(b.status, b.text).toBe(200);
    // A ready child of a parent that is not done goes back to todo.
    expect(b.body).toMatchObject({ id: after.id, parents: [c.task.id], status: 'todo' });

    const linked = await h.store.listEvents({ kinds: ['task_linked'] });
    expect(linked.map((e) => e.actor)).toEqual([
      `worker:run/${c.run.id}`,
      `worker:run/${c.run.id}`,
    ]);
  });

  it('links two children it created', async () => {
    const x = await created({ title: 'x' });
    const y = await created({ title: 'y' });
    const a = await link(x.id, y.id);
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ id: y.id, parents: [x.id], status: 'todo' });
  });

  it('refuses 403 forbidden for tasks it did not create', async () => {
    const mine = await created({ title: 'mine' });
    const a = await h.store.createTask({ title: 'a person’s' }, ana);
    const b = await h.store.createTask({ title: 'another person’s' }, ana);
    const ids = [c.task.id, mine.id, a.id, b.id];
    const before = await h.snapshot(ids);
    expectError(await link(a.id, b.id), 403, 'forbidden', /only its own task/);
    expectError(await link(c.task.id, a.id), 403, 'forbidden');
    expectError(await link(a.id, mine.id), 403, 'forbidden');
    expectError(await link(999, c.task.id), 403, 'forbidden');
    expectUnchanged(before, await h.snapshot(ids));
  });

  it('refuses a self-link and a cycle, changing nothing', async () => {
    const child = await created({ title: 'next', after_me: true });
    const before = await h.snapshot([c.task.id, child.id]);
    expectError(await link(c.task.id, c.task.id), 400, 'invalid', /own parent/);
    expectError(await link(child.id, c.task.id), 409, 'conflict', /cycle/);
    expectUnchanged(before, await h.snapshot([c.task.id, child.id]));
  });
});
