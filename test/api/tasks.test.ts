import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';
import { ana, makeHarness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe('people’s task routes', () => {
  it('pages and searches GET /api/v1/tasks on the server', async () => {
    for (let i = 0; i < 5; i++) await h.store.createTask({ title: `alpha ${i}` }, ana);
    await h.store.createTask({ title: 'beta' }, ana);
    const page = await h.request('GET', '/api/v1/tasks?status=ready&limit=2&offset=2', {
      token: h.adminToken,
    });
    expect((page.body as { tasks: { title: string }[] }).tasks.map((t) => t.title)).toEqual([
      'alpha 2',
      'alpha 3',
    ]);
    const found = await h.request('GET', '/api/v1/tasks?q=beta', { token: h.adminToken });
    expect((found.body as { tasks: { title: string }[] }).tasks.map((t) => t.title)).toEqual([
      'beta',
    ]);
    // An offset too large to be a whole number for the database is refused, not a 500.
    const deep = await h.request('GET', '/api/v1/tasks?offset=99999999999999999999', {
      token: h.adminToken,
    });
    expect(deep.status).toBe(400);
    expect(deep.body).toEqual({
      error: { code: 'invalid', message: 'offset: a whole number of at most 15 digits' },
    });
    const far = await h.request('GET', '/api/v1/tasks?offset=999999999999999', {
      token: h.adminToken,
    });
    expect((far.body as { tasks: unknown[] }).tasks).toEqual([]);
    const events = await h.request('GET', '/api/v1/events?after=99999999999999999999', {
      token: h.adminToken,
    });
    expect(events.status).toBe(400);
  });

  it('never serves a run’s environment values (they hold API keys)', async () => {
    await h.store.addProfile('keyed', { argv: ['true'], env: { API_KEY: 'sk-secret-123' } }, ana);
    const t = await h.store.createTask({ title: 'uses a key', assignee: 'keyed' }, ana);
    await h.store.claimRuns({ host: 'h1', maxWorkers: 1, limit: 1, mode: 'spawned' }, '/ws');
    const detail = await h.request('GET', `/api/v1/tasks/${t.id}`, { token: h.adminToken });
    expect(detail.text).not.toContain('sk-secret-123');
    expect((detail.body as { runs: { env: Record<string, string> }[] }).runs[0]?.env).toEqual({
      API_KEY: '(hidden)',
    });
  });
});
