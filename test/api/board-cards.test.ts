import { afterEach, describe, expect, it } from 'vitest';
import type { Card } from '../../src/api/board-routes.js';
import type { Harness } from './harness.js';
import { ana, makeHarness } from './harness.js';

/**
 * `GET /api/v1/board`: each running card carries its own run (the runs of a column are read
 * in one query), redacted as everywhere; other cards carry none. Every status is counted; the
 * archived column is listed only when asked for; a search counts and lists only its matches.
 */
describe('the board route', () => {
  let h: Harness;
  afterEach(async () => h.cleanup());

  it('gives each running card its own run and the others none', async () => {
    h = await makeHarness({ board: true });
    const claims = [await h.claimNew({ title: 'one' }), await h.claimNew({ title: 'two' })];
    const waiting = await h.store.createTask({ title: 'waiting' }, ana);
    const answer = await h.request('GET', '/api/v1/board?board=default', {
      token: h.adminToken,
    });
    expect(answer.status).toBe(200);
    const { columns } = answer.body as { columns: Record<string, Card[]> };
    const running = columns.running ?? [];
    expect(running.map((c) => c.id).sort()).toEqual(claims.map((c) => c.task.id).sort());
    for (const card of running) {
      const claim = claims.find((c) => c.task.id === card.id);
      expect(card.run?.id).toBe(claim?.run.id);
      expect(card.run?.task_id).toBe(card.id);
      expect(JSON.stringify(card.run)).not.toContain(claim?.token ?? 'no token');
    }
    const all = Object.values(columns).flat();
    expect(all.find((c) => c.id === waiting.id)?.run).toBeNull();
  });

  it('gives the status of each waiting card’s parent that the columns do not show', async () => {
    h = await makeHarness({ board: true });
    const shown = await h.store.createTask({ title: 'shown', priority: 5 }, ana);
    const past = await h.store.createTask({ title: 'past the page' }, ana);
    const waiting = await h.store.createTask({ title: 'waits', parents: [past.id, shown.id] }, ana);
    const answer = await h.request('GET', '/api/v1/board?board=default&limit=1', {
      token: h.adminToken,
    });
    expect(answer.status).toBe(200);
    const body = answer.body as { columns: Record<string, Card[]>; off_board: object };
    expect(body.columns.ready?.map((c) => c.id)).toEqual([shown.id]);
    expect(body.columns.todo?.map((c) => c.id)).toEqual([waiting.id]);
    // Only the parent the page does not show; the shown one is on its card already.
    expect(body.off_board).toEqual({ [past.id]: 'ready' });
    const all = await h.request('GET', '/api/v1/board?board=default', { token: h.adminToken });
    expect((all.body as { off_board: object }).off_board).toEqual({});
  });

  it('the health route counts the board’s running tasks by profile', async () => {
    h = await makeHarness({ board: true });
    await h.claimNew({ title: 'one' });
    await h.claimNew({ title: 'two' });
    await h.store.createTask({ title: 'waiting' }, ana);
    const answer = await h.request('GET', '/api/v1/health?board=default', {
      token: h.adminToken,
    });
    expect(answer.status).toBe(200);
    const { running_by_profile } = answer.body as { running_by_profile: Record<string, number> };
    const claimed = await h.store.listTasks({ board: 'default', statuses: ['running'] });
    expect(claimed).toHaveLength(2);
    expect(running_by_profile).toEqual({ [claimed[0]?.assignee ?? '-']: 2 });
  });

  it('counts every status, lists archived cards only when asked, and searches', async () => {
    h = await makeHarness({ board: true });
    const login = await h.store.createTask({ title: 'Fix the login page' }, ana);
    const docs = await h.store.createTask({ title: 'Write docs' }, ana);
    const old = await h.store.createTask({ title: 'Old login bug' }, ana);
    await h.store.moveTask(old.id, { verb: 'archive' }, ana);
    const board = async (query: string) => {
      const answer = await h.request('GET', `/api/v1/board?board=default${query}`, {
        token: h.adminToken,
      });
      expect(answer.status).toBe(200);
      return answer.body as { counts: Record<string, number>; columns: Record<string, Card[]> };
    };
    const ids = (cards: Card[] | undefined) => (cards ?? []).map((c) => c.id);

    const all = await board('');
    expect(all.counts).toEqual({ ready: 2, archived: 1 });
    expect(all.columns.archived).toBeUndefined();
    expect(ids(all.columns.ready)).toEqual([login.id, docs.id]);
    expect(all.columns.done).toEqual([]);
    expect(ids((await board('&archived=1&limit=1')).columns.archived)).toEqual([old.id]);

    const found = await board('&q=LOGIN&archived=1');
    expect(found.counts).toEqual({ ready: 1, archived: 1 });
    expect(ids(found.columns.ready)).toEqual([login.id]);
    expect(ids(found.columns.archived)).toEqual([old.id]);
  });
});
