import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Claim } from '../../src/store/run-types.js';
import type { Answer, Harness } from './harness.js';
import { expectError, expectUnchanged, makeHarness } from './harness.js';

let h: Harness;

beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

/** The worker writes a superseded run must not make (SPEC §3 "Fencing"). */
function staleWrites(old: Claim): { name: string; send: () => Promise<Answer> }[] {
  const post = (path: string, json: unknown) => () =>
    h.request('POST', `/api/v1/worker/${path}`, { token: old.token, json });
  return [
    { name: 'complete', send: post('complete', { summary: 'old result' }) },
    { name: 'progress', send: post('progress', { note: 'still going' }) },
    { name: 'heartbeat', send: post('heartbeat', {}) },
    { name: 'comment', send: post('comment', { body: 'from the old attempt' }) },
    { name: 'create', send: post('create', { title: 'orphan' }) },
    { name: 'fail', send: post('fail', { reason: 'old failure' }) },
    { name: 'link', send: post('link', { parent: old.task.id, child: old.task.id + 1 }) },
    {
      name: 'context',
      send: () => h.request('GET', '/api/v1/worker/context', { token: old.token }),
    },
  ];
}

describe('a superseded run', () => {
  it('is refused 409 stale_run on every write, with one stale_run event each', async () => {
    const old = await h.claimNew();
    const current = await h.supersede(old);
    const before = await h.snapshot([old.task.id]);
    const writes = staleWrites(old);

    for (const w of writes) {
      const body = expectError(await w.send(), 409, 'stale_run', /no longer current/);
      expect(body.error.message, w.name).toContain(`run ${old.run.id} (attempt 1)`);
    }

    expectUnchanged(before, await h.snapshot([old.task.id]), writes.length);
    const stale = await h.staleEvents();
    expect(stale.map((e) => e.payload.op)).toEqual([
      'complete',
      'progress',
      'heartbeat',
      'comment',
      'create',
      'fail',
      'link',
      'show',
    ]);
    for (const e of stale) {
      expect(e).toMatchObject({
        task_id: old.task.id,
        run_id: old.run.id,
        actor: `worker:run/${old.run.id}`,
        payload: { attempt: 1, current_run_id: current.run.id },
      });
    }
    expect(h.signals.calls).toEqual([]);
    expect(h.signals.terminals).toEqual([]);
    expect(await h.store.listComments(old.task.id)).toEqual([]);
  });

  it("never overwrites the newer attempt's result", async () => {
    const old = await h.claimNew();
    const current = await h.supersede(old);

    const a = await h.request('POST', '/api/v1/worker/complete', {
      token: current.token,
      json: { summary: 'new result', metadata: { attempt: 2 } },
    });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ run_id: current.run.id, attempt: 2, op: 'complete' });
    await h.store.finishRun(
      current.run.id,
      { outcome: 'completed', reason: { rule: 'exit_code', message: 'exited 0' }, exit_code: 0 },
      { host: 'h1', config: {} },
    );
    const done = await h.store.getTask(old.task.id);
    expect(done.status).toBe('done');
    expect(done.result).toEqual({ summary: 'new result', metadata: { attempt: 2 } });

    // The old worker wakes up and reports, twice (its CLI retries an unanswered call).
    const before = await h.snapshot([old.task.id]);
    for (let i = 0; i < 2; i++) {
      expectError(
        await h.request('POST', '/api/v1/worker/complete', {
          token: old.token,
          json: { summary: 'old result' },
        }),
        409,
        'stale_run',
      );
    }
    expectUnchanged(before, await h.snapshot([old.task.id]), 2);
    expect((await h.store.getTask(old.task.id)).result?.summary).toBe('new result');
    const runs = await h.store.listRuns(old.task.id);
    expect(runs.map((r) => [r.attempt, r.outcome, r.result?.summary ?? null])).toEqual([
      [1, 'stalled', null],
      [2, 'completed', 'new result'],
    ]);
  });

  it('keeps its own terminal answer after it ended, but no other write', async () => {
    // A run that completed and was closed: a repeat of its call still gets the first answer
    // (a lost reply is safe), while any other call is stale.
    const first = await h.claimNew();
    const body = { summary: 'first pass' };
    const accepted = await h.request('POST', '/api/v1/worker/complete', {
      token: first.token,
      json: body,
    });
    expect(accepted.status, accepted.text).toBe(200);
    await h.store.finishRun(
      first.run.id,
      { outcome: 'completed', reason: { rule: 'exit_code', message: 'exited 0' }, exit_code: 0 },
      { host: 'h1', config: {} },
    );
    const before = await h.snapshot([first.task.id]);
    const repeat = await h.request('POST', '/api/v1/worker/complete', {
      token: first.token,
      json: body,
    });
    expect(repeat.status, repeat.text).toBe(200);
    expect(repeat.body).toEqual(accepted.body);
    expectError(
      await h.request('POST', '/api/v1/worker/progress', { token: first.token, json: {} }),
      409,
      'stale_run',
      /ended \(completed\)/,
    );
    expectUnchanged(before, await h.snapshot([first.task.id]), 1);
  });
});
