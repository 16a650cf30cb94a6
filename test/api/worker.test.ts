import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReason } from '../../src/core/run.js';
import { dispatcher } from '../../src/core/actor.js';
import type { Claim } from '../../src/store/run-types.js';
import type { TerminalAnswer, WorkerContext } from '../../src/core/worker-protocol.js';
import type { Harness } from './harness.js';
import { ana, expectError, expectUnchanged, makeHarness } from './harness.js';

let h: Harness;

beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe('progress and heartbeat', () => {
  for (const kind of ['progress', 'heartbeat'] as const) {
    it(`POST /api/v1/worker/${kind} answers the run and tells the supervisor`, async () => {
      const c = await h.claimNew();
      const a = await h.request('POST', `/api/v1/worker/${kind}`, {
        token: c.token,
        json: { note: 'step 3 of 5' },
      });
      expect(a.status, a.text).toBe(200);
      expect(a.body).toEqual({
        run_id: c.run.id,
        task_id: c.task.id,
        attempt: 1,
        state: 'running',
      });
      const bare = await h.request('POST', `/api/v1/worker/${kind}`, { token: c.token, json: {} });
      expect(bare.status, bare.text).toBe(200);
      expect(h.signals.calls).toEqual([
        { runId: c.run.id, kind, note: 'step 3 of 5' },
        { runId: c.run.id, kind, note: undefined },
      ]);
      expect(h.signals.terminals).toEqual([]);
      expect((await h.store.getRun(c.run.id)).used_protocol).toBe(true);
    });
  }
});

describe('GET /api/v1/worker/context', () => {
  it("shows the task, its parents' results, previous attempts and comments", async () => {
    const parent = await h.store.createTask({ title: 'design' }, ana);
    await h.store.moveTask(
      parent.id,
      { verb: 'done', summary: 'use a queue', metadata: { pr: 7 } },
      ana,
    );
    const first = await h.claimNew({ title: 'build', body: 'do it', parents: [parent.id] });
    await h.store.addComment(first.task.id, 'mind the tests', ana);
    const c = await h.supersede(first);
    const said = await h.request('POST', '/api/v1/worker/comment', {
      token: c.token,
      json: { body: 'on it' },
    });
    expect(said.status, said.text).toBe(200);

    const a = await h.request('GET', '/api/v1/worker/context', { token: c.token });
    expect(a.status, a.text).toBe(200);
    const ctx = a.body as WorkerContext;
    expect(ctx.run).toEqual({
      id: c.run.id,
      attempt: 2,
      state: 'running',
      started_at: c.run.started_at,
      role: 'work',
    });
    expect(ctx.task).toMatchObject({
      id: c.task.id,
      title: 'build',
      body: 'do it',
      status: 'running',
      parents: [parent.id],
      current_run_id: c.run.id,
    });
    expect(ctx.parents).toEqual([
      {
        id: parent.id,
        title: 'design',
        status: 'done',
        result: { summary: 'use a queue', metadata: { pr: 7 } },
      },
    ]);
    expect(ctx.previous_attempts).toEqual([
      {
        run_id: first.run.id,
        attempt: 1,
        outcome: 'stalled',
        reason: 'silent for 60m',
        exit_code: null,
        signal: null,
        last_lines: [],
        started_at: first.run.started_at,
        ended_at: expect.any(Number) as unknown,
      },
    ]);
    expect(ctx.comments).toEqual([
      { actor: 'person:ana', body: 'mind the tests', at: expect.any(Number) as unknown },
      { actor: `worker:run/${c.run.id}`, body: 'on it', at: expect.any(Number) as unknown },
    ]);
  });
});

describe('POST /api/v1/worker/complete', () => {
  const complete = (c: Claim, json: unknown) =>
    h.request('POST', '/api/v1/worker/complete', { token: c.token, json });

  it('accepts once and gives a repeat the identical answer', async () => {
    const c = await h.claimNew();
    const body = { summary: 'shipped', metadata: { files: 3 } };
    const a = await complete(c, body);
    expect(a.status, a.text).toBe(200);
    const answer = a.body as TerminalAnswer;
    expect(answer).toEqual({
      run_id: c.run.id,
      task_id: c.task.id,
      attempt: 1,
      op: 'complete',
      outcome: 'completed',
      accepted_at: h.clock.now(),
    });
    expect(h.signals.terminals).toEqual([c.run.id]);
    const run = await h.store.getRun(c.run.id);
    expect(run.state).toBe('ending');
    expect(run.outcome).toBe('completed');

    // A lost reply: the worker sends the same call again later and gets the first answer.
    h.clock.advance(5_000);
    const before = await h.snapshot([c.task.id]);
    const again = await complete(c, body);
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(answer);
    expectUnchanged(before, await h.snapshot([c.task.id]));

    // Still the first answer once the host has closed the run.
    await h.store.finishRun(
      c.run.id,
      { outcome: 'completed', reason: { rule: 'exit_code', message: 'exited 0' }, exit_code: 0 },
      { host: 'h1', config: {} },
    );
    const task = await h.store.getTask(c.task.id);
    expect(task.status).toBe('done');
    expect(task.result).toEqual({ summary: 'shipped', metadata: { files: 3 } });
    const late = await complete(c, body);
    expect(late.status, late.text).toBe(200);
    expect(late.body).toEqual(answer);
  });

  it('refuses a different result after the first with 409 conflict', async () => {
    const c = await h.claimNew();
    expect((await complete(c, { summary: 'shipped' })).status).toBe(200);
    const before = await h.snapshot([c.task.id]);
    expectError(await complete(c, { summary: 'shipped v2' }), 409, 'conflict', /once/);
    expectError(
      await complete(c, { summary: 'shipped', metadata: { extra: true } }),
      409,
      'conflict',
    );
    expectError(
      await h.request('POST', '/api/v1/worker/fail', { token: c.token, json: { reason: 'no' } }),
      409,
      'conflict',
      /already reported complete/,
    );
    expectUnchanged(before, await h.snapshot([c.task.id]));
  });

  it('keeps a result that arrives while the run is ending for stalled', async () => {
    const c = await h.claimNew();
    const reason: RunReason = { rule: 'stall_timeout', message: 'silent for 60m' };
    expect(await h.store.beginEnding(c.run.id, 'stalled', reason, dispatcher('h1'))).toBe(true);

    const a = await complete(c, { summary: 'finished just in time' });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ run_id: c.run.id, op: 'complete', outcome: 'completed' });
    expect(await h.staleEvents()).toEqual([]);

    // The supervisor finishes the ending it began; the worker's result decides the outcome.
    const task = await h.store.finishRun(
      c.run.id,
      { outcome: 'stalled', reason },
      { host: 'h1', config: {} },
    );
    expect(task?.status).toBe('done');
    expect(task?.result?.summary).toBe('finished just in time');
    const [run] = await h.store.listRuns(c.task.id);
    expect(run?.state).toBe('ended');
    expect(run?.outcome).toBe('completed');
    expect(run?.result?.summary).toBe('finished just in time');
    const ended = await h.store.listEvents({ task_id: c.task.id, kinds: ['run_ended'] });
    expect(ended.map((e) => e.payload.outcome)).toEqual(['completed']);
  });

  it('refuses other calls, and complete for other endings, while the run is ending', async () => {
    const stalled = await h.claimNew({ title: 'a' });
    const stopped = await h.claimNew({ title: 'b' });
    await h.store.beginEnding(
      stalled.run.id,
      'stalled',
      { rule: 'stall_timeout', message: 'silent' },
      dispatcher('h1'),
    );
    await h.store.beginEnding(
      stopped.run.id,
      'stopped',
      { rule: 'stopped_by', message: 'stopped by ana' },
      dispatcher('h1'),
    );
    const ids = [stalled.task.id, stopped.task.id];
    const before = await h.snapshot(ids);
    expectError(
      await h.request('POST', '/api/v1/worker/progress', { token: stalled.token, json: {} }),
      409,
      'stale_run',
    );
    expectError(
      await h.request('POST', '/api/v1/worker/fail', {
        token: stalled.token,
        json: { reason: 'gave up' },
      }),
      409,
      'stale_run',
    );
    expectError(await complete(stopped, { summary: 'done' }), 409, 'stale_run', /ending/);
    expectUnchanged(before, await h.snapshot(ids), 3);
  });
});

describe('the other terminal calls', () => {
  const close = (c: Claim) =>
    h.store.finishRun(
      c.run.id,
      { outcome: 'crashed', reason: { rule: 'exit_code', message: 'exited 1' }, exit_code: 1 },
      { host: 'h1', config: {} },
    );

  it('fail ends the run crashed and counts a failure', async () => {
    const c = await h.claimNew();
    const a = await h.request('POST', '/api/v1/worker/fail', {
      token: c.token,
      json: { reason: 'tests are red' },
    });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ run_id: c.run.id, op: 'fail', outcome: 'crashed' });
    expect(h.signals.terminals).toEqual([c.run.id]);
    const task = await close(c);
    expect(task?.status).toBe('ready');
    expect(task?.counters.failures).toBe(1);
  });

  it('block ends the run worker_blocked and blocks the task with its kind', async () => {
    const c = await h.claimNew();
    const a = await h.request('POST', '/api/v1/worker/block', {
      token: c.token,
      json: { reason: 'which database?', kind: 'needs_input' },
    });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ op: 'block', outcome: 'worker_blocked' });
    expect(await close(c)).toMatchObject({
      status: 'blocked',
      block_kind: 'needs_input',
      block_reason: 'which database?',
    });
  });

  // BUG: the transition table allows `request_review` (running → review) only for a worker,
  // but finishRun releases every task as the dispatcher, so the run can never be closed:
  // finishRun throws illegal_state and the task stays running behind an `ending` run.
  it('request-review ends the run review_requested and puts the task in review', async () => {
    const c = await h.claimNew();
    const a = await h.request('POST', '/api/v1/worker/request-review', {
      token: c.token,
      json: { summary: 'please look', metadata: { pr: 12 } },
    });
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ op: 'request_review', outcome: 'review_requested' });
    const task = await close(c);
    expect(task?.status).toBe('review');
    expect(task?.result).toEqual({ summary: 'please look', metadata: { pr: 12 } });
  });
});
