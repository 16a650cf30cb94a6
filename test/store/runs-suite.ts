import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReason } from '../../src/core/run.js';
import { dispatcher, person } from '../../src/core/actor.js';
import { ErrorCode, WardenError } from '../../src/core/errors.js';
import { hashToken as hashRunToken } from '../../src/os/token.js';
import type { Claim, ClaimRequest } from '../../src/store/run-types.js';
import type { Store, TokenInfo } from '../../src/store/store.js';
import { settled } from '../helpers/pg-clients.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');
const h1 = dispatcher('h1');
const REQ: ClaimRequest = { host: 'h1', maxWorkers: 10, limit: 10, mode: 'spawned' };

/** The run half of the store contract: claim, fence, finish, breakers, hosts. */
export function runRunSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store runs: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    async function claim(req: Partial<ClaimRequest> = {}): Promise<Claim[]> {
      return store.claimRuns({ ...REQ, ...req }, '/ws');
    }

    /**
     * Lets `ms` pass for a host's lease without sleeping: its renewal and expiry move that far
     * into the past. PostgreSQL judges leases on its own clock, which a test cannot move.
     */
    async function backdateLease(hostId: string, ms: number): Promise<void> {
      await f.db.run(
        'UPDATE hosts SET renewed_at = renewed_at - ?, lease_expires_at = lease_expires_at - ? WHERE host_id = ?',
        [ms, ms, hostId],
      );
    }

    /** A pull profile `w` and a worker token for it. */
    async function pullWorker(): Promise<TokenInfo> {
      await store.addProfile('w', { argv: [], mode: 'pull' }, ana);
      return store.addToken({ name: 'bot', kind: 'worker', hash: 'hw', profiles: ['w'] }, ana);
    }

    /** A pull lease's expiry as stored. */
    async function expiry(id: string): Promise<number> {
      const row = await f.db.get<{ expires_at: number }>(
        'SELECT expires_at FROM worker_leases WHERE id = ?',
        [id],
      );
      return Number(row?.expires_at);
    }

    /** Makes a pull lease one that lapsed an hour ago, by whichever clock the store keeps. */
    async function lapseAnHourAgo(id: string): Promise<void> {
      await f.db.run('UPDATE worker_leases SET expires_at = expires_at - 3660000 WHERE id = ?', [
        id,
      ]);
    }

    async function crash(runId: number, outcome: 'crashed' | 'stalled' = 'crashed'): Promise<void> {
      const reason: RunReason = { rule: 'exit_code', message: 'exit 1' };
      expect(await store.beginEnding(runId, outcome, reason, h1)).toBe(true);
      await store.finishRun(runId, { outcome, reason, exit_code: 1 }, { host: 'h1', config: {} });
    }

    it('claims by priority then age under profile and host caps, one transaction per call', async () => {
      await store.addProfile('p', { argv: ['true'], max_concurrency: 2 }, ana);
      await store.addProfile('q', { argv: ['true'] }, ana);
      const low = await store.createTask({ title: 'low', assignee: 'p' }, ana);
      const high = await store.createTask({ title: 'high', assignee: 'p', priority: 5 }, ana);
      const third = await store.createTask({ title: 'third', assignee: 'p' }, ana);
      const other = await store.createTask({ title: 'other', assignee: 'q' }, ana);
      await store.createTask({ title: 'unassigned' }, ana);
      const claims = await claim({ maxWorkers: 3 });
      expect(claims.map((c) => c.task.id)).toEqual([high.id, low.id, other.id]);
      expect(claims[0]?.run).toMatchObject({
        attempt: 1,
        state: 'running',
        host_id: 'h1',
        profile: 'p',
        cwd: `/ws/${high.id}`,
      });
      expect(claims[0]?.token).toMatch(/^wrun_/);
      expect(await store.getTask(high.id)).toMatchObject({
        status: 'running',
        current_run_id: claims[0]?.run.id,
      });
      expect(await claim({ maxWorkers: 3 })).toEqual([]);
      expect((await store.getTask(third.id)).status).toBe('ready');
      const started = await store.listEvents({ task_id: high.id, kinds: ['run_started'] });
      expect(started[0]?.payload).toMatchObject({ attempt: 1, host: 'h1', profile: 'p' });
    });

    it('gives out no run or task id a folder of the home holds, as after a database put back from a backup', async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      await store.createTask({ title: 'before', assignee: 'p' }, ana);
      const [first] = await claim();
      // The home's folders go as far as run 40 and task 30: the ids a backup gives out again.
      expect(await store.keepIdsPast({ runs: 40, tasks: 30 })).toEqual({ runs: true, tasks: true });
      const t = await store.createTask({ title: 'after', assignee: 'p' }, ana);
      expect(t.id).toBe(31);
      const [next] = await claim();
      expect(next?.run.id).toBe(41);
      // Only ever raised: a floor below the ids given out moves nothing.
      expect(await store.keepIdsPast({ runs: 5, tasks: 5 })).toEqual({ runs: false, tasks: false });
      expect(await store.keepIdsPast({ runs: 0, tasks: 0 })).toEqual({ runs: false, tasks: false });
      // (PostgreSQL leaves the id its check took unused.)
      expect((await store.createTask({ title: 'then' }, ana)).id).toBe(
        store.dialect === 'postgres' ? 33 : 32,
      );
      expect(first?.run.id).toBe(1);
      if (store.dialect !== 'postgres') return;
      // A sequence put back as "next is 900, not yet given" (its last value reads null) is
      // not set back to a lower floor.
      await f.db.get("SELECT setval(pg_get_serial_sequence('tasks', 'id'), 900, false)");
      expect(await store.keepIdsPast({ runs: 0, tasks: 718 })).toEqual({
        runs: false,
        tasks: false,
      });
      expect((await store.createTask({ title: 'after 900' }, ana)).id).toBeGreaterThanOrEqual(900);
    });

    it('a run with a progress time made progress, though its count was never heard: no stall loop', async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      const lost = async (progress: boolean): Promise<number> => {
        const t = await store.createTask({ title: `progress ${progress}`, assignee: 'p' }, ana);
        const [c] = await claim();
        if (!c) throw new Error('not claimed');
        if (progress)
          await store.recordProgress([{ runId: c.run.id, last_progress_at: Date.now() }]);
        await store.endRun(
          c.run.id,
          { outcome: 'lease_lost', reason: { rule: 'lease_lost', message: 'lapsed' } },
          { host: 'h2', config: {} },
          dispatcher('h2'),
        );
        return t.id;
      };
      expect((await store.getTask(await lost(true))).counters.stall_streak).toBe(0);
      expect((await store.getTask(await lost(false))).counters.stall_streak).toBe(1);
    });

    it("writes each run's run_started event whole, in the order its claim made the runs", async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      const a = await store.createTask({ title: 'a', assignee: 'p', priority: 2 }, ana);
      const b = await store.createTask({ title: 'b', assignee: 'p', priority: 1 }, ana);
      const before = await store.listEvents({});
      const claims = await claim({ limit: 2 });
      expect(claims.map((c) => c.task.id)).toEqual([a.id, b.id]);
      // A cursor waits for older transactions on the server, other test files' included.
      await settled(f.db);
      const after = await store.listEvents({ after_id: before.at(-1)?.id ?? 0 });
      const started = after.filter((e) => e.kind === 'run_started');
      expect(started.map((e) => [e.task_id, e.run_id])).toEqual(
        claims.map((c) => [c.task.id, c.run.id]),
      );
      expect(started[0]?.id).toBeLessThan(started[1]?.id ?? 0);
      for (const [i, e] of started.entries()) {
        expect(e).toMatchObject({ board: 'default', actor: 'dispatcher:h1', at: f.clock.now() });
        expect(e.payload).toEqual({
          from: 'ready',
          to: 'running',
          role: 'work',
          attempt: 1,
          mode: 'spawned',
          host: 'h1',
          worker: null,
          profile: 'p',
          profile_version: claims[i]?.profile.version,
          probe: false,
        });
      }
    });

    it('never admits past a cap when claims race', async () => {
      await store.addProfile('p', { argv: ['true'], max_concurrency: 3 }, ana);
      for (let i = 0; i < 12; i++) await store.createTask({ title: `t${i}`, assignee: 'p' }, ana);
      const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
      const claims = (
        await Promise.all(hosts.map((host) => claim({ host, maxWorkers: 2, limit: 2 })))
      ).flat();
      expect(claims).toHaveLength(3);
      expect(new Set(claims.map((c) => c.task.id)).size).toBe(3);
    });

    it('admits claims that wait together each after those before it', async () => {
      await store.addProfile('p', { argv: ['true'], max_concurrency: 5 }, ana);
      await store.addProfile('q', { argv: ['true'], concurrency_group: 'g' }, ana);
      await store.setGroup('g', 1, 'board', ana);
      const ps = [];
      for (let i = 0; i < 8; i++)
        ps.push(await store.createTask({ title: `p${i}`, assignee: 'p', priority: 8 - i }, ana));
      for (let i = 0; i < 3; i++) await store.createTask({ title: `q${i}`, assignee: 'q' }, ana);
      // Sent at once, without the look outside the turn. PostgreSQL: the first claim runs
      // alone and the others wait for its transaction, then go in one batch. SQLite: each
      // joins the open group commit as a piece of its own.
      const workers = ['w1', 'w2', 'w3', 'w4'];
      const made = await Promise.all(
        workers.map((w) => claim({ host: w, maxWorkers: 2, limit: 2, noLook: true })),
      );
      // Each worker's own cap; the profile's 5 and the group's 1 across all of them.
      for (const claims of made) expect(claims.length).toBeLessThanOrEqual(2);
      const all = made.flat();
      expect(all.filter((c) => c.profile.name === 'p')).toHaveLength(5);
      expect(all.filter((c) => c.profile.name === 'q')).toHaveLength(1);
      expect(new Set(all.map((c) => c.task.id)).size).toBe(all.length);
      // Claims in the order they were asked for, each in priority order.
      expect(made[0]?.map((c) => c.task.title)).toEqual(['p0', 'p1']);
      expect(made[1]?.map((c) => c.task.title)).toEqual(['p2', 'p3']);
      for (const c of all) {
        expect(c.run).toMatchObject({ attempt: 1, state: 'running', profile: c.profile.name });
        expect(await store.getTask(c.task.id)).toMatchObject({
          status: 'running',
          current_run_id: c.run.id,
        });
      }
      const started = await store.listEvents({ kinds: ['run_started'] });
      expect(started.map((e) => e.run_id).sort()).toEqual(all.map((c) => c.run.id).sort());
      expect((await store.getTask(ps[7]?.id ?? 0)).status).toBe('ready');
    });

    it('finds admissible work behind many candidates a cap passes over (past the first window read)', async () => {
      await store.addProfile('capped', { argv: ['true'], max_concurrency: 1 }, ana);
      await store.addProfile('free', { argv: ['true'] }, ana);
      for (let i = 0; i < 30; i++)
        await store.createTask({ title: `capped ${i}`, assignee: 'capped', priority: 5 }, ana);
      const free = await store.createTask({ title: 'free', assignee: 'free' }, ana);
      // The first capped task takes the profile's one slot; the next 29 come first in order.
      expect((await claim({ limit: 1 })).map((c) => c.task.title)).toEqual(['capped 0']);
      expect((await claim({ limit: 1 })).map((c) => c.task.id)).toEqual([free.id]);
      expect(await claim({ limit: 1 })).toEqual([]);
    });

    it('skips paused profiles, paused delays and cooling groups; holds a group cap across profiles', async () => {
      await store.addProfile('p', { argv: ['true'], concurrency_group: 'llm' }, ana);
      await store.addProfile('q', { argv: ['true'], concurrency_group: 'llm' }, ana);
      await store.addProfile('off', { argv: ['true'] }, ana);
      await store.setGroup('llm', 1, 'board', ana);
      await store.setProfilePaused('off', true, 'by hand', ana);
      await store.createTask({ title: 'a', assignee: 'p' }, ana);
      await store.createTask({ title: 'b', assignee: 'q' }, ana);
      await store.createTask({ title: 'c', assignee: 'off' }, ana);
      const claims = await claim();
      expect(claims.map((c) => c.task.title)).toEqual(['a']);
    });

    it('fences worker writes: a run that is no longer current is refused with stale_run and an event', async () => {
      await store.addProfile('p', { argv: ['true'], policy: { backoff_base: 1000 } }, ana);
      const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [first] = await claim();
      if (!first) throw new Error('no claim');
      const token = hashRunToken(first.token);
      expect((await store.workerTouch(token, 'progress')).id).toBe(first.run.id);
      await crash(first.run.id);
      f.clock.advance(60_000);
      const [second] = await claim();
      expect(second?.run.attempt).toBe(2);
      for (const call of [
        () => store.workerTouch(token, 'progress'),
        () => store.workerComment(token, 'late'),
        () => store.workerTerminal(token, { op: 'complete', summary: 'late' }),
        () => store.workerContext(token),
      ]) {
        const err = await call().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WardenError);
        expect((err as WardenError).code).toBe(ErrorCode.stale_run);
      }
      expect(await store.listEvents({ task_id: t.id, kinds: ['stale_run'] })).toHaveLength(4);
      const unknown = await store.workerTouch('nope', 'progress').catch((e: unknown) => e);
      expect((unknown as WardenError).code).toBe(ErrorCode.unauthorized);
    });

    it('keeps a worker’s complete over what the host saw after it, and promotes children', async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
      const child = await store.createTask({ title: 'child', parents: [t.id] }, ana);
      const [c] = await claim();
      if (!c) throw new Error('no claim');
      const answer = await store.workerTerminal(hashRunToken(c.token), {
        op: 'complete',
        summary: 'did it',
        metadata: { n: 1 },
      });
      expect(answer).toMatchObject({ op: 'complete', outcome: 'completed', run_id: c.run.id });
      expect(
        await store.workerTerminal(hashRunToken(c.token), {
          op: 'complete',
          summary: 'did it',
          metadata: { n: 1 },
        }),
      ).toEqual(answer);
      const other = await store
        .workerTerminal(hashRunToken(c.token), { op: 'fail', reason: 'x' })
        .catch((e: unknown) => e);
      expect((other as WardenError).code).toBe(ErrorCode.conflict);
      expect((await store.getRun(c.run.id)).state).toBe('ending');
      await store.finishRun(
        c.run.id,
        { outcome: 'crashed', reason: { rule: 'exit_code', message: 'exit 1' }, exit_code: 1 },
        { host: 'h1', config: {} },
      );
      expect(await store.getTask(t.id)).toMatchObject({
        status: 'done',
        result: { summary: 'did it', metadata: { n: 1 } },
      });
      expect((await store.getRun(c.run.id)).outcome).toBe('completed');
      expect((await store.getTask(child.id)).status).toBe('ready');
      // Finishing again does nothing.
      expect(
        await store.finishRun(
          c.run.id,
          { outcome: 'crashed', reason: { rule: 'exit_code', message: 'x' } },
          { host: 'h1', config: {} },
        ),
      ).toBeNull();
    });

    it('accepts complete during a stalled ending, not during another kind of ending', async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      await store.createTask({ title: 'a', assignee: 'p' }, ana);
      await store.createTask({ title: 'b', assignee: 'p' }, ana);
      const [a, b] = await claim();
      if (!a || !b) throw new Error('no claims');
      await store.beginEnding(
        a.run.id,
        'stalled',
        { rule: 'stall_timeout', message: 'silent' },
        h1,
      );
      await store.beginEnding(
        b.run.id,
        'stopped',
        { rule: 'stopped_by', message: 'stopped by ana' },
        h1,
      );
      expect(
        (
          await store.workerTerminal(hashRunToken(a.token), {
            op: 'complete',
            summary: 'late but done',
          })
        ).outcome,
      ).toBe('completed');
      const refused = await store
        .workerTerminal(hashRunToken(b.token), { op: 'complete', summary: 'too late' })
        .catch((e: unknown) => e);
      expect((refused as WardenError).code).toBe(ErrorCode.stale_run);
      const done = await store.finishRun(
        a.run.id,
        { outcome: 'stalled', reason: { rule: 'stall_timeout', message: 'silent' } },
        { host: 'h1', config: {} },
      );
      expect(done).toMatchObject({ status: 'done', result: { summary: 'late but done' } });
    });

    it('requeues failures with backoff and blocks gave_up at max_failures', async () => {
      await store.addProfile(
        'p',
        { argv: ['true'], policy: { max_failures: 2, backoff_base: 1000 } },
        ana,
      );
      const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [c1] = await claim();
      await crash(c1?.run.id ?? 0);
      const after1 = await store.getTask(t.id);
      expect(after1.status).toBe('ready');
      expect(after1.not_before ?? 0).toBeGreaterThan(f.clock.now());
      expect(await claim()).toEqual([]);
      f.clock.advance(2000);
      const [c2] = await claim();
      await crash(c2?.run.id ?? 0);
      expect(await store.getTask(t.id)).toMatchObject({ status: 'blocked', block_rule: 'gave_up' });
    });

    it('pauses a profile after 5 failed runs over 2 tasks, admits one probe later, resumes on success', async () => {
      await store.addProfile(
        'p',
        { argv: ['true'], policy: { max_failures: 10, backoff_base: 1000 } },
        ana,
      );
      await store.createTask({ title: 'a', assignee: 'p' }, ana);
      await store.createTask({ title: 'b', assignee: 'p' }, ana);
      for (let i = 0; i < 3; i++) {
        if (i > 0) f.clock.advance(60 * 60_000);
        for (const c of await claim()) await crash(c.run.id);
      }
      const p = await store.getProfile('p');
      expect(p).toMatchObject({ paused: true, paused_by: 'breaker' });
      expect(p.paused_reason).toMatch(
        /breaker: 5 failed runs in a row over 2 tasks \(profile_breaker 5\)/,
      );
      expect(await claim()).toEqual([]);
      f.clock.advance(10 * 60_000);
      const probes = await claim();
      expect(probes).toHaveLength(1);
      expect(await claim()).toEqual([]);
      const probe = probes[0];
      if (!probe) throw new Error('no probe');
      await store.workerTerminal(hashRunToken(probe.token), { op: 'complete', summary: 'ok' });
      await store.finishRun(
        probe.run.id,
        { outcome: 'completed', reason: { rule: 'exit_zero', message: 'ok' } },
        { host: 'h1', config: {} },
      );
      expect(await store.getProfile('p')).toMatchObject({ paused: false, paused_by: null });
      expect((await store.listEvents({ kinds: ['profile_resumed'] }))[0]?.payload.reason).toMatch(
        /probe run \d+ succeeded/,
      );
    });

    it('writes progress in batches that never go backwards, and re-arms a stall warning', async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [c] = await claim();
      const id = c?.run.id ?? 0;
      expect(await store.markStallWarning(id, 'h1', { silent_ms: 1 })).toBe(true);
      await store.recordProgress([
        { runId: id, last_progress_at: f.clock.now() + 10, output_bytes: 100, progress_count: 3 },
      ]);
      await store.recordProgress([
        { runId: id, last_progress_at: f.clock.now() + 5, output_bytes: 50 },
      ]);
      const run = await store.getRun(id);
      expect(run).toMatchObject({
        last_progress_at: f.clock.now() + 10,
        output_bytes: 100,
        progress_count: 3,
        stall_warned_at: null,
        last_heartbeat_at: null,
      });
    });

    it('shows no model request open on an ended run, whatever its last flush left', async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [c] = await claim();
      const id = c?.run.id ?? 0;
      const since = f.clock.now() - 5_000;
      await store.recordProgress([{ runId: id, llm_state: 'waiting', llm_state_since: since }]);
      expect((await store.getRun(id)).llm).toMatchObject({ state: 'waiting', state_since: since });
      await store.finishRun(
        id,
        { outcome: 'completed', reason: { rule: 'exit_zero', message: 'exit 0' }, exit_code: 0 },
        { host: 'h1', config: {} },
      );
      // The flush that would have said "no request open" comes after the end and is refused.
      await store.recordProgress([{ runId: id, llm_state: null }]);
      expect((await store.getRun(id)).llm).toMatchObject({ state: null, state_since: null });
      expect((await store.listRuns(c?.run.task_id ?? 0))[0]?.llm.state).toBeNull();
    });

    it('keeps host leases on the store’s clock: a held id is refused, its own secret takes over, lapses are listed', async () => {
      const first = await store.renewHostLease('h1', 'secret-a', 60_000);
      expect(first.expires_at - first.renewed_at).toBe(60_000);
      const err = await store.renewHostLease('h1', 'secret-b', 60_000).catch((e: unknown) => e);
      expect((err as WardenError).code).toBe(ErrorCode.conflict);
      expect((err as WardenError).message).toMatch(
        /host id 'h1' is held by another live host until/,
      );
      // A serve restarting with the home's host secret takes over its own unexpired lease.
      expect(
        (await store.renewHostLease('h1', 'secret-a', 60_000)).expires_at,
      ).toBeGreaterThanOrEqual(first.expires_at);
      expect(await store.lapsedHosts()).toEqual([]);
      // A short lease lapses by the store's clock (PostgreSQL's own; the manual clock on SQLite).
      await store.renewHostLease('h2', 'secret-c', 50);
      await backdateLease('h2', 200);
      expect((await store.lapsedHosts()).map((h) => h.host_id)).toEqual(['h2']);
      expect((await store.renewHostLease('h2', 'secret-d', 60_000)).expires_at).toBeGreaterThan(0);
      expect(await store.lapsedHosts()).toEqual([]);
    });

    it('reaps a lapsed host once: its runs end host_lost, its tokens go stale, a renewal first keeps them', async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      const t1 = await store.createTask({ title: 'one', assignee: 'p' }, ana);
      const t2 = await store.createTask({ title: 'two', assignee: 'p' }, ana);
      await store.renewHostLease('h1', 'secret-a', 50);
      const claims = await claim({ host: 'h1' });
      expect(claims).toHaveLength(2);
      // A host that renews before the reaper looks keeps its runs.
      await store.renewHostLease('h1', 'secret-a', 60_000);
      expect(await store.reapHost('h1', 'h2', { config: {} })).toBeNull();
      await store.renewHostLease('h1', 'secret-a', 50);
      await backdateLease('h1', 200);
      const reaped = await store.reapHost('h1', 'h2', { config: {} });
      expect(reaped?.runs.map((r) => r.task_id).sort()).toEqual([t1.id, t2.id].sort());
      expect(await store.reapHost('h1', 'h2', { config: {} })).toBeNull();
      for (const c of claims) {
        expect(await store.getRun(c.run.id)).toMatchObject({
          state: 'ended',
          outcome: 'host_lost',
        });
        expect((await store.getRun(c.run.id)).reason).toMatchObject({
          rule: 'host_lease_lapsed',
          host: 'h1',
        });
        const task = await store.getTask(c.task.id);
        expect(task).toMatchObject({ status: 'ready', current_run_id: null });
        expect(task.counters.host_losses).toBe(1);
        expect(task.counters.failures).toBe(0);
        const stale = await store
          .workerComment(hashRunToken(c.token), 'late')
          .catch((e: unknown) => e);
        expect((stale as WardenError).code).toBe(ErrorCode.stale_run);
      }
      const lost = await store.listEvents({ kinds: ['host_lost'] });
      expect(lost).toHaveLength(1);
      expect(lost[0]?.payload).toMatchObject({ host: 'h1', reaped_by: 'h2' });
      // A claim that committed just as its host was reaped is not left behind.
      const t3 = await store.createTask({ title: 'late', assignee: 'p' }, ana);
      expect((await claim({ host: 'h1' })).map((c) => c.task.id)).toEqual([t3.id]);
      expect((await store.lapsedHosts()).map((h) => h.host_id)).toEqual(['h1']);
      const again = await store.reapHost('h1', 'h2', { config: {} });
      expect(again?.runs.map((r) => r.task_id)).toEqual([t3.id]);
      expect(await store.lapsedHosts()).toEqual([]);
      // The reaped host learns it lapsed when it renews again.
      expect((await store.renewHostLease('h1', 'secret-a', 60_000)).lapsed).toBe(true);
      expect((await store.renewHostLease('h1', 'secret-a', 60_000)).lapsed).toBe(false);
    });

    it('reads a worker token and the lease its claim names in one, refusing as checkLease does', async () => {
      await store.addProfile('w', { argv: [], mode: 'pull' }, ana);
      const bot = await store.addToken(
        { name: 'bot', kind: 'worker', hash: 'hw1', profiles: ['w'] },
        ana,
      );
      const other = await store.addToken(
        { name: 'other', kind: 'worker', hash: 'hw2', profiles: ['w'] },
        ana,
      );
      const lease = await store.openLease(bot, 'bot@test', undefined, 60_000);
      const found = await store.findTokenAndLease('hw1', lease.id);
      expect(found?.token).toEqual(await store.findToken('hw1'));
      expect(found?.lease).toEqual(await store.checkLease(lease.id, bot));
      // The same refusals as checkLease, given rather than thrown.
      const refusal = async (hash: string, id: string): Promise<unknown> => {
        const read = await store.findTokenAndLease(hash, id);
        const token = read?.token;
        if (!token) throw new Error(`no token ${hash}`);
        const thrown = await store.checkLease(id, token).catch((e: unknown) => e);
        expect(read.lease).toEqual(thrown);
        return read.lease;
      };
      expect(await refusal('hw2', lease.id)).toMatchObject({ code: ErrorCode.forbidden });
      expect(await refusal('hw1', 'lease_nope')).toMatchObject({ code: ErrorCode.not_found });
      await store.endLeases({ id: lease.id, reason: 'closed' });
      expect(await refusal('hw1', lease.id)).toMatchObject({ code: ErrorCode.stale_run });
      // An unknown or revoked token is no token at all, whatever the lease.
      expect(await store.findTokenAndLease('nope', lease.id)).toBeNull();
      await store.revokeToken(other.name, ana);
      expect(await store.findTokenAndLease('hw2', lease.id)).toBeNull();
    });

    it('judges pull leases by the store’s clock: PostgreSQL’s own, never a host’s', async () => {
      await store.addProfile('w', { argv: [], mode: 'pull' }, ana);
      const token = await store.addToken(
        { name: 'bot', kind: 'worker', hash: 'hw', profiles: ['w'] },
        ana,
      );
      const lease = await store.openLease(token, 'bot@test', undefined, 60_000);
      // A host whose clock runs an hour ahead.
      f.clock.advance(3_600_000);
      const ended = await store.endLeases();
      if (name === 'postgres') {
        expect(ended).toEqual([]);
        expect((await store.checkLease(lease.id, token)).id).toBe(lease.id);
      } else {
        // SQLite has one host: its clock is the store's.
        expect(ended.map((e) => e.lease)).toEqual([lease.id]);
      }
    });

    it('moves the open leases live a span ago on by that span, no lapsed or ended one', async () => {
      const token = await pullWorker();
      const live = await store.openLease(token, 'live', undefined, 60_000);
      const lapsed = await store.openLease(token, 'lapsed', undefined, 60_000);
      const ended = await store.openLease(token, 'ended', undefined, 60_000);
      await lapseAnHourAgo(lapsed.id);
      await store.endLeases({ id: ended.id, reason: 'closed' });
      const before = await Promise.all([live, lapsed, ended].map((l) => expiry(l.id)));
      expect(await store.extendLeases(45_000)).toBe(1);
      const after = await Promise.all([live, lapsed, ended].map((l) => expiry(l.id)));
      expect(after).toEqual([(before[0] ?? 0) + 45_000, before[1], before[2]]);
      expect((await store.checkLease(live.id, token)).id).toBe(live.id);
    });

    it('gives every open lease a TTL from now as serve starts, none that has more, no ended one', async () => {
      const token = await pullWorker();
      const [lapsed, long, ended] = [
        await store.openLease(token, 'lapsed', undefined, 60_000),
        await store.openLease(token, 'long', undefined, 7_200_000),
        await store.openLease(token, 'ended', undefined, 60_000),
      ];
      await lapseAnHourAgo(lapsed.id);
      await store.endLeases({ id: ended.id, reason: 'closed' });
      const before = await Promise.all([long, ended].map((l) => expiry(l.id)));
      expect(await store.graceLeases(600_000)).toBe(1);
      expect((await store.checkLease(lapsed.id, token)).id).toBe(lapsed.id);
      expect(await store.endLeases()).toEqual([]);
      expect(await Promise.all([long, ended].map((l) => expiry(l.id)))).toEqual(before);
    });

    it('hands a pull claim its worker context: the task as claimed, its comments and earlier attempts', async () => {
      await store.addProfile('w', { argv: [], mode: 'pull' }, ana);
      const task = await store.createTask({ title: 'pulled', assignee: 'w' }, ana);
      await store.addComment(task.id, 'mind the tests', ana);
      const [first] = await claim({ mode: 'pull', workerId: 'lease-1', limit: 1 });
      expect(first?.context?.task).toMatchObject({ id: task.id, status: 'running' });
      expect(first?.context?.run).toMatchObject({ id: first?.run.id, attempt: 1, role: 'work' });
      expect(first?.context?.comments.map((c) => c.body)).toEqual(['mind the tests']);
      expect(first?.context?.previous_attempts).toEqual([]);
      // A second attempt sees the first.
      await crash(first?.run.id ?? 0);
      await f.db.run('UPDATE tasks SET not_before = NULL WHERE id = ?', [task.id]);
      const [second] = await claim({ mode: 'pull', workerId: 'lease-1', limit: 1 });
      expect(second?.context?.run.attempt).toBe(2);
      expect(second?.context?.previous_attempts.map((a) => a.outcome)).toEqual(['crashed']);
    });

    it('hands a pull claim’s runs over again by the claim’s id, each with a new token, the old one refused', async () => {
      await store.addProfile('w', { argv: [], mode: 'pull' }, ana);
      const first = await store.createTask({ title: 'first', assignee: 'w', priority: 1 }, ana);
      const second = await store.createTask({ title: 'second', assignee: 'w' }, ana);
      const made = await claim({ mode: 'pull', workerId: 'lease-1', limit: 2, claimId: 'c1' });
      expect(made.map((c) => c.task.id)).toEqual([first.id, second.id]);
      const again = await store.reissueClaim('lease-1', 'c1');
      expect(again.map((r) => [r.runId, r.attempt])).toEqual(made.map((c) => [c.run.id, 1]));
      for (const [i, r] of again.entries()) {
        const old = made[i]?.token ?? '';
        expect(r.token).not.toBe(old);
        await expect(store.workerContext(hashRunToken(old))).rejects.toMatchObject({
          code: 'unauthorized',
        });
        expect((await store.workerContext(hashRunToken(r.token))).run.id).toBe(r.runId);
      }
      // Another claim, another lease: nothing. A run that ended is not handed over.
      expect(await store.reissueClaim('lease-1', 'c2')).toEqual([]);
      expect(await store.reissueClaim('lease-2', 'c1')).toEqual([]);
      await crash(made[0]?.run.id ?? 0);
      const later = await store.reissueClaim('lease-1', 'c1');
      expect(later.map((r) => r.runId)).toEqual([made[1]?.run.id]);
      // No run was made by any of it.
      expect(
        (await store.listRuns(first.id)).length + (await store.listRuns(second.id)).length,
      ).toBe(2);
      // A claim with no id keeps none.
      const third = await store.createTask({ title: 'third', assignee: 'w' }, ana);
      const plain = await claim({ mode: 'pull', workerId: 'lease-1', limit: 1 });
      expect(plain.map((c) => c.task.id)).toEqual([third.id]);
      expect((await store.reissueClaim('lease-1', 'c1')).map((r) => r.runId)).toEqual([
        made[1]?.run.id,
      ]);
    });

    it('claims a bare task and a commented one together, each with its own context, in priority order', async () => {
      await store.addProfile('w', { argv: [], mode: 'pull' }, ana);
      const bare = await store.createTask({ title: 'bare', assignee: 'w', priority: 2 }, ana);
      const noted = await store.createTask({ title: 'noted', assignee: 'w', priority: 1 }, ana);
      const last = await store.createTask({ title: 'also bare', assignee: 'w', priority: 0 }, ana);
      await store.addComment(noted.id, 'read the notes', ana);
      const claims = await claim({ mode: 'pull', workerId: 'lease-1', limit: 3 });
      expect(claims.map((c) => c.context?.task.id)).toEqual([bare.id, noted.id, last.id]);
      expect(claims.map((c) => c.context?.run.id)).toEqual(claims.map((c) => c.run.id));
      expect(claims.map((c) => c.context?.comments.map((m) => m.body))).toEqual([
        [],
        ['read the notes'],
        [],
      ]);
      expect(claims.every((c) => c.context?.task.status === 'running')).toBe(true);
    });

    it('holds the home for one host at a time and lets a dead holder be replaced', async () => {
      const me = { host_id: 'h1', process: { boot_id: 'b', pid: 10, start_time: '1' }, url: null };
      expect(await store.claimHome(me, [])).toEqual({ ok: true });
      const other = {
        host_id: 'h2',
        process: { boot_id: 'b', pid: 11, start_time: '2' },
        url: null,
      };
      const refused = await store.claimHome(other, []);
      expect(refused.ok).toBe(false);
      const holders = await store.activeHosts();
      expect(holders.map((h) => h.host_id)).toEqual(['h1']);
      expect(await store.claimHome(other, holders)).toEqual({ ok: true });
      expect((await store.activeHosts()).map((h) => h.host_id)).toEqual(['h2']);
      await store.releaseHome('h2', other.process);
      expect(await store.activeHosts()).toEqual([]);
    });
  });
}
