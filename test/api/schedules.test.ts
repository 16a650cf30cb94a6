import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/core/schedule.js';
import type { Task } from '../../src/core/task.js';
import type { Harness } from './harness.js';
import { expectError, makeHarness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe('schedule routes (issue #14)', () => {
  it('adds, lists, pauses, resumes and removes a schedule', async () => {
    const token = h.adminToken;
    const added = await h.request('POST', '/api/v1/schedules', {
      token,
      json: {
        name: 'nightly',
        cron: '0 3 * * *',
        catch_up: 'once',
        template: { title: 'rebuild the index', priority: 2 },
      },
    });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ name: 'nightly', tz: 'UTC', catch_up: 'once' });
    const list = await h.request('GET', '/api/v1/schedules?board=default', { token });
    expect((list.body as { schedules: Schedule[] }).schedules.map((s) => s.name)).toEqual([
      'nightly',
    ]);
    const paused = await h.request('POST', '/api/v1/schedules/nightly/pause', { token });
    expect((paused.body as Schedule).paused).toBe(true);
    const resumed = await h.request('POST', '/api/v1/schedules/nightly/resume', { token });
    expect((resumed.body as Schedule).paused).toBe(false);
    const removed = await h.request('DELETE', '/api/v1/schedules/nightly', { token });
    expect(removed.body).toEqual({ removed: 'nightly' });
    expectError(await h.request('GET', '/api/v1/schedules/nightly', { token }), 404, 'not_found');
  });

  it('refuses bad input with the documented status and stores nothing', async () => {
    const token = h.adminToken;
    const add = (json: unknown): ReturnType<Harness['request']> =>
      h.request('POST', '/api/v1/schedules', { token, json });
    await add({ name: 'taken', cron: '@daily', template: { title: 't' } });
    expectError(
      await add({ name: 'b', cron: 'nope', template: { title: 't' } }),
      400,
      'invalid',
      /cron: 'nope' is not a cron expression/,
    );
    expectError(
      await add({ name: 'b', cron: '@daily', template: { title: 't', assignee: 'ghost' } }),
      404,
      'not_found',
      /profile 'ghost' does not exist/,
    );
    expectError(
      await add({ name: 'taken', cron: '@hourly', template: { title: 't' } }),
      409,
      'conflict',
      /schedule 'taken' already exists/,
    );
    expect((await h.store.listSchedules()).map((s) => s.name)).toEqual(['taken']);
  });
});

describe('POST /api/v1/tasks with not_before (issue #14)', () => {
  it('takes a duration, a time, or epoch ms; a past time means now', async () => {
    const token = h.adminToken;
    const create = async (not_before: unknown): Promise<Task> =>
      (await h.request('POST', '/api/v1/tasks', { token, json: { title: 't', not_before } }))
        .body as Task;
    const before = Date.now();
    expect((await create('30m')).not_before).toBeGreaterThanOrEqual(before + 30 * 60_000);
    expect((await create('2999-01-01T00:00:00Z')).not_before).toBe(
      Date.parse('2999-01-01T00:00:00Z'),
    );
    expect((await create(32_503_680_000_000)).not_before).toBe(32_503_680_000_000);
    expect((await create('2001-01-01T00:00:00Z')).not_before).toBeNull();
    expectError(
      await h.request('POST', '/api/v1/tasks', { token, json: { title: 't', not_before: 'soon' } }),
      400,
      'invalid',
      /not_before: 'soon' is neither a time nor a duration/,
    );
  });
});
