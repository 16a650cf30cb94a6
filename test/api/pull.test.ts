import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcher } from '../../src/core/actor.js';
import { hashToken as sha256 } from '../../src/os/token.js';
import { MAX_BODY_BYTES } from '../../src/api/app.js';
import { PullSupervisor } from '../../src/supervisor/pull.js';
import type { Harness } from './harness.js';
import { ana, expectError, makeHarness } from './harness.js';

let h: Harness;
const WORKER = 'wdn_pull_worker_secret';
const OTHER = 'wdn_other_worker_secret';

beforeEach(async () => {
  h = await makeHarness();
  await h.store.addProfile('agent', { mode: 'pull' }, ana);
  await h.store.addProfile('secret', { mode: 'pull' }, ana);
  await h.store.addToken(
    { name: 'pullers', kind: 'worker', hash: sha256(WORKER), profiles: ['agent'] },
    ana,
  );
  await h.store.addToken(
    { name: 'others', kind: 'worker', hash: sha256(OTHER), profiles: ['agent'] },
    ana,
  );
});
afterEach(async () => {
  await h.cleanup();
});

interface LeaseAnswer {
  lease_id: string;
  ttl_ms: number;
  renew_every_ms: number;
  cancel?: { run_id: number; outcome: string; reason: string }[];
}
interface ClaimAnswer {
  claims: { run_id: number; attempt: number; token: string; context: { task: { id: number } } }[];
}

async function lease(token = WORKER): Promise<LeaseAnswer> {
  const a = await h.request('POST', '/api/v1/pull/leases', { token, json: { name: 'test:1' } });
  expect(a.status, a.text).toBe(200);
  return a.body as LeaseAnswer;
}

async function claim(leaseId: string, max = 1): Promise<ClaimAnswer> {
  const a = await h.request('POST', '/api/v1/pull/claim', {
    token: WORKER,
    json: { lease_id: leaseId, max, wait_ms: 0 },
  });
  expect(a.status, a.text).toBe(200);
  return a.body as ClaimAnswer;
}

async function tables(): Promise<unknown> {
  return {
    tasks: await h.store.listTasks({ include_archived: true }),
    events: (await h.store.listEvents({ limit: 10_000 })).length,
  };
}

describe('pull mode over HTTP (SPEC §4)', () => {
  it('opens a lease, claims with the task context, and completes with the run token', async () => {
    const l = await lease();
    expect(l).toMatchObject({ ttl_ms: 30_000, renew_every_ms: 10_000 });
    const t = await h.store.createTask({ title: 'pull me', assignee: 'agent' }, ana);
    await h.store.createTask({ title: 'not mine', assignee: 'secret' }, ana);
    const c = await claim(l.lease_id, 4);
    expect(c.claims.map((x) => x.context.task.id)).toEqual([t.id]);
    const run = await h.store.getRun(c.claims[0]?.run_id ?? 0);
    expect(run).toMatchObject({ mode: 'pull', worker_id: l.lease_id, host_id: null });
    const done = await h.request('POST', '/api/v1/worker/complete', {
      token: c.claims[0]?.token ?? '',
      json: { summary: 'pulled' },
    });
    expect(done.status).toBe(200);
    expect(h.signals.terminals).toEqual([run.id]);
  });

  it('delivers a cancellation in the renewal answer and closes the run when the worker acknowledges', async () => {
    const l = await lease();
    const t = await h.store.createTask({ title: 'stop me', assignee: 'agent' }, ana);
    const [c] = (await claim(l.lease_id)).claims;
    await h.store.beginEnding(
      c?.run_id ?? 0,
      'stopped',
      { rule: 'stopped_by', message: 'stopped by ana' },
      dispatcher('h1'),
      { requeue: true },
    );
    const r1 = await h.request('POST', `/api/v1/pull/leases/${l.lease_id}/renew`, {
      token: WORKER,
      json: {},
    });
    expect((r1.body as LeaseAnswer).cancel).toEqual([
      { run_id: c?.run_id, task_id: t.id, outcome: 'stopped', reason: 'stopped by ana' },
    ]);
    await h.request('POST', `/api/v1/pull/leases/${l.lease_id}/renew`, {
      token: WORKER,
      json: { acks: [c?.run_id] },
    });
    expect((await h.store.getRun(c?.run_id ?? 0)).state).toBe('ended');
    expect((await h.store.getTask(t.id)).status).toBe('ready');
  });

  it('a lapsed lease is refused with stale_run and its runs end lease_lost', async () => {
    const l = await lease();
    const t = await h.store.createTask({ title: 'lose me', assignee: 'agent' }, ana);
    const [c] = (await claim(l.lease_id)).claims;
    h.clock.advance(31_000);
    const renew = await h.request('POST', `/api/v1/pull/leases/${l.lease_id}/renew`, {
      token: WORKER,
      json: {},
    });
    expectError(renew, 409, 'stale_run', /lease .+ lapsed/);
    const pull = await h.request('POST', '/api/v1/pull/claim', {
      token: WORKER,
      json: { lease_id: l.lease_id },
    });
    expectError(pull, 409, 'stale_run');
    // The next tick of any host ends what the lease held.
    await new PullSupervisor({ store: h.store, host: 'h1', clock: h.clock, config: {} }).tick();
    const run = await h.store.getRun(c?.run_id ?? 0);
    expect(run).toMatchObject({ state: 'ended', outcome: 'lease_lost' });
    expect((await h.store.getTask(t.id)).counters.failures).toBe(1);
    const late = await h.request('POST', '/api/v1/worker/complete', {
      token: c?.token ?? '',
      json: { summary: 'late' },
    });
    expectError(late, 409, 'stale_run');
  });

  it('takes the results of finished runs on the claim that follows them, each fenced, a repeat answered alike', async () => {
    const l = await lease();
    const ts = [];
    for (const title of ['one', 'two', 'three'])
      ts.push(await h.store.createTask({ title, assignee: 'agent' }, ana));
    const [a, b] = (await claim(l.lease_id, 2)).claims;
    const body = {
      lease_id: l.lease_id,
      wait_ms: 0,
      reports: [
        { op: 'complete', token: a?.token, summary: 'did one', metadata: { n: 1 } },
        { op: 'fail', token: b?.token, reason: 'two broke' },
        { op: 'complete', token: 'wrun_not_a_run', summary: 'nobody' },
      ],
    };
    const first = await h.request('POST', '/api/v1/pull/claim', { token: WORKER, json: body });
    expect(first.status, first.text).toBe(200);
    const answer = first.body as ClaimAnswer & { reports: unknown[] };
    expect(answer.reports).toMatchObject([
      { ok: true, answer: { run_id: a?.run_id, op: 'complete', outcome: 'completed' } },
      { ok: true, answer: { run_id: b?.run_id, op: 'fail', outcome: 'crashed' } },
      { ok: false, error: { code: 'unauthorized' } },
    ]);
    expect(JSON.stringify(answer.reports[2])).toMatch(/unknown run token/);
    // The claim still came: the third task, the one nobody held.
    expect(answer.claims.map((x) => x.context.task.id)).toEqual([ts[2]?.id]);
    expect(await h.store.getTask(ts[0]?.id ?? 0)).toMatchObject({
      status: 'done',
      result: { summary: 'did one', metadata: { n: 1 } },
    });
    expect((await h.store.getRun(b?.run_id ?? 0)).outcome).toBe('crashed');
    expect(h.signals.terminals).toEqual([a?.run_id, b?.run_id]);
    // Its answer lost on the way, the worker sends the same reports again: the same answers,
    // nothing reported twice, nothing claimed twice.
    const before = await tables();
    const again = await h.request('POST', '/api/v1/pull/claim', { token: WORKER, json: body });
    expect((again.body as { reports: unknown[] }).reports).toEqual(answer.reports);
    expect((again.body as ClaimAnswer).claims).toEqual([]);
    expect(await tables()).toEqual(before);
  });

  it('answers a claim sent again with its id with the same runs, even while the first still waits', async () => {
    const l = await lease();
    const ask = (claimId: string, waitMs = 0) =>
      h.request('POST', '/api/v1/pull/claim', {
        token: WORKER,
        json: { lease_id: l.lease_id, claim_id: claimId, max: 2, wait_ms: waitMs },
      });
    const t = await h.store.createTask({ title: 'once', assignee: 'agent' }, ana);
    const first = await ask('c1');
    const again = await ask('c1');
    expect(again.body).toEqual(first.body);
    expect((first.body as ClaimAnswer).claims.map((c) => c.context.task.id)).toEqual([t.id]);
    expect(await h.store.listRuns(t.id)).toHaveLength(1);
    // A claim still waiting for work, and its retry: one answer for both.
    const waiting = ask('c2', 10_000);
    const retry = ask('c2', 10_000);
    const u = await h.store.createTask({ title: 'later', assignee: 'agent' }, ana);
    const [a, b] = await Promise.all([waiting, retry]);
    expect(a.body).toEqual(b.body);
    expect((a.body as ClaimAnswer).claims.map((c) => c.context.task.id)).toEqual([u.id]);
    expect(await h.store.listRuns(u.id)).toHaveLength(1);
    // Another id is another claim.
    await h.store.createTask({ title: 'third', assignee: 'agent' }, ana);
    expect((await ask('c3')).body).not.toEqual(a.body);
  });

  it('answers a claim sent again to a restarted serve with the same runs and new tokens, the lost ones refused', async () => {
    const l = await lease();
    const ask = (claimId: string) =>
      h.request('POST', '/api/v1/pull/claim', {
        token: WORKER,
        json: { lease_id: l.lease_id, claim_id: claimId, max: 2, wait_ms: 0 },
      });
    const t = await h.store.createTask({ title: 'one', assignee: 'agent' }, ana);
    const u = await h.store.createTask({ title: 'two', assignee: 'agent' }, ana);
    // The first answer never reaches the worker: serve restarts, and the worker sends it again.
    const lost = (await ask('c1')).body as ClaimAnswer;
    h.restartApi();
    const again = (await ask('c1')).body as ClaimAnswer;
    expect(again.claims.map((c) => [c.run_id, c.attempt, c.context.task.id])).toEqual(
      lost.claims.map((c) => [c.run_id, c.attempt, c.context.task.id]),
    );
    expect(again.claims.map((c) => c.context.task.id).sort()).toEqual([t.id, u.id].sort());
    expect(await h.store.listRuns(t.id)).toHaveLength(1);
    expect(await h.store.listRuns(u.id)).toHaveLength(1);
    for (const [i, c] of again.claims.entries()) {
      const old = lost.claims[i]?.token ?? '';
      expect(c.token).not.toBe(old);
      expectError(
        await h.request('POST', '/api/v1/worker/progress', { token: old, json: { note: 'x' } }),
        401,
        'unauthorized',
      );
      const ok = await h.request('POST', '/api/v1/worker/progress', {
        token: c.token,
        json: { note: 'working' },
      });
      expect(ok.status, ok.text).toBe(200);
    }
    // A new claim of the same lease, after another restart, is a claim, not a retry.
    h.restartApi();
    const w = await h.store.createTask({ title: 'three', assignee: 'agent' }, ana);
    const next = (await ask('c2')).body as ClaimAnswer;
    expect(next.claims.map((c) => c.context.task.id)).toEqual([w.id]);
  });

  it('refuses a claim whose reports are malformed, or whose lease is not its own, reporting none of them', async () => {
    const l = await lease();
    await h.store.createTask({ title: 'held', assignee: 'agent' }, ana);
    const [a] = (await claim(l.lease_id)).claims;
    await h.store.createTask({ title: 'waiting', assignee: 'agent' }, ana);
    const before = await tables();
    const good = { op: 'complete', token: a?.token, summary: 'done' };
    const bad: [unknown, RegExp][] = [
      [{ op: 'complete', token: a?.token }, /reports\.1\.summary/],
      [{ op: 'complete', token: 'wdn_pull_worker_secret', summary: 'x' }, /run token/],
      [{ op: 'block', token: a?.token, reason: 'no' }, /reports\.1/],
      [{ op: 'fail', token: a?.token, reason: 'x', summary: 'y' }, /summary/],
    ];
    for (const [report, message] of bad) {
      expectError(
        await h.request('POST', '/api/v1/pull/claim', {
          token: WORKER,
          json: { lease_id: l.lease_id, reports: [good, report] },
        }),
        400,
        'invalid',
        message,
      );
    }
    expectError(
      await h.request('POST', '/api/v1/pull/claim', {
        token: WORKER,
        json: { lease_id: l.lease_id, reports: Array.from({ length: 65 }, () => good) },
      }),
      400,
      'invalid',
    );
    expectError(
      await h.request('POST', '/api/v1/pull/claim', {
        token: OTHER,
        json: { lease_id: l.lease_id, reports: [good] },
      }),
      403,
      'forbidden',
    );
    expect(await tables()).toEqual(before);
    expect(h.signals.terminals).toEqual([]);
  });

  it('refuses bad tokens, other profiles, other workers’ leases and bad bodies, changing nothing', async () => {
    const l = await lease();
    const before = await tables();
    expectError(await h.request('POST', '/api/v1/pull/leases', { json: {} }), 401, 'unauthorized');
    expectError(
      await h.request('POST', '/api/v1/pull/leases', { token: h.adminToken, json: {} }),
      401,
      'unauthorized',
      /worker token/,
    );
    expectError(
      await h.request('POST', '/api/v1/pull/leases', { token: 'wdn_wrong', json: {} }),
      401,
      'unauthorized',
    );
    expectError(
      await h.request('POST', '/api/v1/pull/leases', {
        token: WORKER,
        json: { profiles: ['secret'] },
      }),
      403,
      'forbidden',
      /may not serve profile secret/,
    );
    expectError(
      await h.request('POST', `/api/v1/pull/leases/${l.lease_id}/renew`, {
        token: OTHER,
        json: {},
      }),
      403,
      'forbidden',
      /another worker token/,
    );
    expectError(
      await h.request('POST', '/api/v1/pull/leases/lease_nope/renew', { token: WORKER, json: {} }),
      404,
      'not_found',
    );
    expectError(
      await h.request('POST', '/api/v1/pull/claim', {
        token: OTHER,
        json: { lease_id: l.lease_id },
      }),
      403,
      'forbidden',
    );
    expectError(
      await h.request('POST', '/api/v1/pull/claim', { token: WORKER, raw: '{"lease_id":' }),
      400,
      'invalid',
    );
    expectError(
      await h.request('POST', '/api/v1/pull/claim', {
        token: WORKER,
        json: { lease_id: l.lease_id, hurry: true },
      }),
      400,
      'invalid',
      /hurry/,
    );
    expectError(
      await h.request('POST', '/api/v1/pull/claim', {
        token: WORKER,
        json: { lease_id: l.lease_id, max: 0 },
      }),
      400,
      'invalid',
    );
    expectError(
      await h.request('POST', '/api/v1/pull/claim', {
        token: WORKER,
        json: { lease_id: l.lease_id, wait_ms: 600_000 },
      }),
      400,
      'invalid',
    );
    // The claim's lease is read with its token: an unknown token is still 401, a body that is
    // wrong is still 400 before the lease is judged, then an unknown lease is 404.
    expectError(
      await h.request('POST', '/api/v1/pull/claim', {
        token: 'wdn_wrong',
        json: { lease_id: l.lease_id },
      }),
      401,
      'unauthorized',
    );
    expectError(
      await h.request('POST', '/api/v1/pull/claim', {
        token: WORKER,
        json: { lease_id: 'lease_nope', max: 0 },
      }),
      400,
      'invalid',
    );
    expectError(
      await h.request('POST', '/api/v1/pull/claim', {
        token: WORKER,
        json: { lease_id: 'lease_nope' },
      }),
      404,
      'not_found',
    );
    expectError(
      await h.request('POST', '/api/v1/pull/leases', {
        token: WORKER,
        raw: JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) }),
      }),
      400,
      'invalid',
      /larger than/,
    );
    expect(await tables()).toEqual(before);
  });
});
