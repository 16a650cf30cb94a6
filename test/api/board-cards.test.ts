import { afterEach, describe, expect, it } from 'vitest';
import type { Card } from '../../src/api/board-routes.js';
import type { Harness } from './harness.js';
import { ana, makeHarness } from './harness.js';

/**
 * `GET /api/v1/board`: each running card carries its own run (the runs of a column are read
 * in one query), redacted as everywhere; other cards carry none.
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
});
