/*
 * Workers' reports made together on PostgreSQL (issue #16, src/store/sql/report-batch.ts): one
 * transaction reads their runs in one statement and closes them in one more, and every report
 * comes to what it would have come to alone. These are the cases where reading ahead would
 * not be what each report reads in turn: a report that throws, two runs of one task, linked
 * tasks, and reports whose accounting writes a row the next one reads (the profile breaker).
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { ErrorCode, WardenError } from '../../src/core/errors.js';
import type { TerminalCall } from '../../src/core/worker-protocol.js';
import { hashToken } from '../../src/os/token.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import type { PgStore } from '../../src/store/postgres/open.js';
import { toPgPlaceholders } from '../../src/store/postgres/placeholders.js';
import { releaseSet } from '../../src/store/sql/release-set.js';
import type { ReleaseRow } from '../../src/store/sql/release-set.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const ana = person('ana');
const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function pullStore(): Promise<{ store: PgStore; clock: ManualClock; schema: string }> {
  const clock = new ManualClock();
  const schema = freshPgSchema();
  const store = await openPgStore({ url: PG_URL ?? '', schema, max: 4 }, clock);
  closing.push(() => store.close());
  await store.addBoard('default', ana);
  await store.addProfile('p', { argv: [], mode: 'pull' }, ana);
  return { store, clock, schema };
}

async function claimAll(store: PgStore, n: number): Promise<{ token: string; taskId: number }[]> {
  const claims = await store.claimRuns(
    { host: 'h1', maxWorkers: n, limit: n, mode: 'pull', workerId: 'lease-1', noLook: true },
    null,
  );
  return claims.map((c) => ({ token: c.token, taskId: c.task.id }));
}

/** Reports made in one turn of the event loop, as a claim carrying them makes them. */
function together(store: PgStore, reports: [string, TerminalCall][]): Promise<unknown[]> {
  return Promise.all(
    reports.map(([token, call]) =>
      store
        .workerTerminal(hashToken(token), call, { host: 'h1', config: {} })
        .catch((err: unknown) => err),
    ),
  );
}

const done: TerminalCall = { op: 'complete', summary: 'done' };

describe.skipIf(!PG_URL)('reports made together (PostgreSQL)', () => {
  it('closes every run of a group, each answered as alone, and a repeated report gets its first answer', async () => {
    const { store } = await pullStore();
    for (let i = 0; i < 6; i++) await store.createTask({ title: `t${i}`, assignee: 'p' }, ana);
    const runs = await claimAll(store, 6);
    const answers = await together(
      store,
      runs.map((r, i): [string, TerminalCall] => [
        r.token,
        i % 2 === 0 ? done : { op: 'fail', reason: `broke ${i}` },
      ]),
    );
    runs.forEach((r, i) =>
      expect(answers[i]).toMatchObject({
        task_id: r.taskId,
        outcome: i % 2 === 0 ? 'completed' : 'crashed',
      }),
    );
    for (const [i, r] of runs.entries()) {
      const task = await store.getTask(r.taskId);
      expect(task.status).toBe(i % 2 === 0 ? 'done' : 'ready');
      expect(task.current_run_id).toBeNull();
    }
    const again = await together(store, [[runs[0]?.token ?? '', done]]);
    expect(again[0]).toEqual(answers[0]);
  });

  it('keeps a summary with a lone surrogate as a text parameter would, with U+FFFD in its place', async () => {
    const { store } = await pullStore();
    for (let i = 0; i < 2; i++) await store.createTask({ title: `t${i}`, assignee: 'p' }, ana);
    const [a, b] = await claimAll(store, 2);
    if (!a || !b) throw new Error('two claims expected');
    const answers = await together(store, [
      [a.token, { op: 'complete', summary: 'half \ud800 a pair' }],
      [b.token, done],
    ]);
    expect(answers[0]).toMatchObject({ outcome: 'completed' });
    expect((await store.getTask(a.taskId)).result?.summary).toBe('half \ufffd a pair');
    expect((await store.getTask(b.taskId)).status).toBe('done');
  });

  it('answers a report that throws with its own error, and makes the others of its group', async () => {
    const { store } = await pullStore();
    for (let i = 0; i < 3; i++) await store.createTask({ title: `t${i}`, assignee: 'p' }, ana);
    const [a, b, c] = await claimAll(store, 3);
    if (!a || !b || !c) throw new Error('three claims expected');
    await together(store, [[a.token, done]]);
    // a reported `complete` already: reporting `fail` for it is a conflict.
    const answers = await together(store, [
      [b.token, done],
      [a.token, { op: 'fail', reason: 'changed my mind' }],
      [c.token, done],
    ]);
    expect(answers[1]).toBeInstanceOf(WardenError);
    expect((answers[1] as WardenError).code).toBe(ErrorCode.conflict);
    for (const r of [a, b, c]) expect((await store.getTask(r.taskId)).status).toBe('done');
    expect(await store.listEvents({ kinds: ['run_ended'] })).toHaveLength(3);
  });

  it('refuses the stale run of a task whose current run reports beside it', async () => {
    const { store, clock } = await pullStore();
    const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
    const [old] = await claimAll(store, 1);
    if (!old) throw new Error('no claim');
    const [first] = await store.listRuns(t.id);
    const reason = { rule: 'exit_code', message: 'exit 1' } as const;
    expect(await store.beginEnding(first?.id ?? 0, 'crashed', reason, ana)).toBe(true);
    await store.finishRun(
      first?.id ?? 0,
      { outcome: 'crashed', reason },
      { host: 'h1', config: {} },
    );
    clock.advance(60 * 60_000);
    const [current] = await claimAll(store, 1);
    if (!current) throw new Error('no second claim');
    const answers = await together(store, [
      [old.token, done],
      [current.token, done],
    ]);
    expect((answers[0] as WardenError).code).toBe(ErrorCode.stale_run);
    expect(answers[1]).toMatchObject({ task_id: t.id, outcome: 'completed' });
    expect((await store.getTask(t.id)).status).toBe('done');
  });

  it('reads a linked task as it stands after the reports before it: a child failing beside its parent is requeued ready', async () => {
    const { store } = await pullStore();
    const parent = await store.createTask({ title: 'parent', assignee: 'p' }, ana);
    const child = await store.createTask({ title: 'child', assignee: 'p' }, ana);
    const runs = await claimAll(store, 2);
    await store.linkTasks(parent.id, child.id, ana);
    const tokenOf = (id: number): string => runs.find((r) => r.taskId === id)?.token ?? '';
    await together(store, [
      [tokenOf(parent.id), done],
      [tokenOf(child.id), { op: 'fail', reason: 'flaky' }],
    ]);
    expect((await store.getTask(parent.id)).status).toBe('done');
    // Its parent was done when it failed: ready, not todo waiting for a parent that is done.
    expect((await store.getTask(child.id)).status).toBe('ready');
  });

  it("counts every failure of a group on the profile's breaker, each reading the count the one before it wrote", async () => {
    const { store } = await pullStore();
    for (let i = 0; i < 5; i++) await store.createTask({ title: `t${i}`, assignee: 'p' }, ana);
    const runs = await claimAll(store, 5);
    await together(
      store,
      runs.map((r): [string, TerminalCall] => [r.token, { op: 'fail', reason: 'broke' }]),
    );
    const p = await store.getProfile('p');
    expect(p).toMatchObject({ paused: true, paused_by: 'breaker' });
    expect(p.paused_reason).toMatch(/breaker: 5 failed runs in a row over 5 tasks/);
  });

  it('fails the statement closing a group unless every run and task was there', async () => {
    const { store, schema } = await pullStore();
    for (let i = 0; i < 2; i++) await store.createTask({ title: `t${i}`, assignee: 'p' }, ana);
    const runs = await store.claimRuns(
      { host: 'h1', maxWorkers: 2, limit: 2, mode: 'pull', workerId: 'lease-1', noLook: true },
      null,
    );
    const row = (runId: number, taskId: number): ReleaseRow => ({
      run_id: runId,
      task_id: taskId,
      run: {
        ended_at: 1,
        outcome: 'completed',
        reason: '{}',
        exit_code: null,
        signal: null,
        log_tail: null,
        progress_count: 0,
        output_bytes: 0,
        last_progress_at: null,
        last_output_at: null,
        last_heartbeat_at: null,
        result_summary: 'x',
        result_metadata: null,
        last_note: null,
        evidence: null,
      },
      ending: { ending_at: 1, terminal_request: '{}', terminal_response: '{}' },
      task: {
        status: 'done',
        updated_at: 1,
        failures: 0,
        stall_streak: 0,
        rate_limited_streak: 0,
        spawn_failures: 0,
        host_losses: 0,
        set_not_before: 0,
        not_before: null,
        block_reason: null,
        block_kind: null,
        block_rule: null,
        is_done: 1,
        review_by: null,
      },
    });
    const [a, b] = runs;
    if (!a || !b) throw new Error('two claims expected');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    closing.push(() => client.end());
    await client.query(`SET search_path TO "${schema}"`);
    const run = async (rows: ReleaseRow[]): Promise<unknown> => {
      const { sql, params } = releaseSet(rows);
      await client.query('BEGIN');
      try {
        return await client.query(toPgPlaceholders(sql), params);
      } catch (err) {
        return err;
      } finally {
        await client.query('ROLLBACK');
      }
    };
    // A run of another task than the one named: that row releases nothing.
    const wrong = await run([row(a.run.id, a.task.id), row(b.run.id, a.task.id)]);
    expect(wrong).toBeInstanceOf(Error);
    expect(String(wrong)).toMatch(
      /of 2 runs closed by their reports, a run or its task was not there/,
    );
    expect(await run([row(a.run.id, a.task.id), row(b.run.id, b.task.id)])).not.toBeInstanceOf(
      Error,
    );
  });
});
