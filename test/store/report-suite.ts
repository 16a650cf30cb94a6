import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { RunEvidence } from '../../src/core/worktree.js';
import { hashToken } from '../../src/os/token.js';
import { readReport } from '../../src/store/report.js';
import type { Claim } from '../../src/store/run-types.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');
const CTX = { host: 'h1', config: {} };
const LLM = {
  upstream: 'http://127.0.0.1:9/v1',
  kind: 'openai' as const,
  max_concurrency: null,
  max_rate_limits: null,
};

function evidence(task: number, commits: number, rescue: boolean): RunEvidence {
  return {
    branch: `warden/${task}`,
    base: 'a'.repeat(40),
    head: 'b'.repeat(40),
    commits,
    commit_list: [],
    diffstat: { files: commits, insertions: 10 * commits, deletions: commits },
    rescue: rescue ? { ref: `refs/warden/rescue/${task}/1`, sha: 'c'.repeat(40), files: 1 } : null,
  };
}

/** The morning report's facts: the tasks worked since a time, in the order a person reads. */
export function runReportSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store report: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
      await store.addProfile('p', { argv: ['true'], llm: LLM }, ana);
    });
    afterEach(async () => {
      await f.cleanup();
    });

    async function claimOne(): Promise<Claim> {
      const [c] = await store.claimRuns(
        { host: 'h1', maxWorkers: 10, limit: 1, mode: 'spawned' },
        '/ws',
      );
      if (!c) throw new Error('nothing claimed');
      return c;
    }

    /** A run that completes (or fails) and is closed as its host would, with its evidence. */
    async function worked(c: Claim, ok: boolean, ev: RunEvidence | null): Promise<void> {
      if (ok) {
        await store.workerTerminal(
          hashToken(c.token),
          { op: 'complete', summary: `did #${c.task.id}` },
          CTX,
        );
      }
      await store.finishRun(
        c.run.id,
        ok
          ? {
              outcome: 'completed',
              reason: { rule: 'exit_code', message: 'exit 0' },
              exit_code: 0,
              evidence: ev,
            }
          : {
              outcome: 'crashed',
              reason: { rule: 'exit_code', message: 'exit 1' },
              exit_code: 1,
              evidence: ev,
            },
        CTX,
      );
    }

    it('lists the tasks worked since a time, done first, each with its latest evidence, and leaves the rest out', async () => {
      const before = await store.createTask({ title: 'before', assignee: 'p' }, ana);
      await worked(await claimOne(), true, evidence(before.id, 1, false));
      f.clock.advance(60_000);
      const since = f.clock.now();
      f.clock.advance(1000);

      const failing = await store.createTask(
        { title: 'failing', assignee: 'p', policy: { max_failures: 1 } },
        ana,
      );
      await worked(await claimOne(), false, null);
      f.clock.advance(1000);
      const twice = await store.createTask(
        { title: 'twice', assignee: 'p', policy: { max_failures: 1 } },
        ana,
      );
      await worked(await claimOne(), false, evidence(twice.id, 1, true));
      f.clock.advance(1000);
      await store.moveTask(twice.id, { verb: 'retry' }, ana);
      await worked(await claimOne(), true, evidence(twice.id, 3, false));
      f.clock.advance(1000);
      const live = await store.createTask({ title: 'live', assignee: 'p' }, ana);
      const open = await claimOne();
      await store.recordLlmRequest({
        run_id: open.run.id,
        model: 'gpt-5',
        status: 200,
        started_at: f.clock.now(),
        ended_at: f.clock.now() + 10,
        queued_ms: 0,
        tokens: { input: 100, output: 20, cache_read: 0, cache_write: 0 },
        cost_usd: 0.25,
        error: null,
      });
      await store.createTask({ title: 'never claimed', assignee: 'p', needs_approval: true }, ana);

      const now = f.clock.now();
      const r = await readReport(store, 'default', since, 100, now);
      expect(r.tasks.map((t) => [t.id, t.status, t.runs])).toEqual([
        [twice.id, 'done', 2],
        [failing.id, 'blocked', 1],
        [live.id, 'running', 1],
      ]);
      expect(r.total).toBe(3);
      expect(r.counts).toEqual({ done: 1, blocked: 1, running: 1 });
      const done = r.tasks[0];
      // The latest run's evidence, not the first's: three commits, nothing uncommitted.
      expect(done).toMatchObject({
        branch: `warden/${twice.id}`,
        commits: 3,
        diffstat: { files: 3, insertions: 30, deletions: 3 },
        uncommitted: false,
        summary: `did #${twice.id}`,
        note: `did #${twice.id}`,
      });
      expect(r.tasks[1]).toMatchObject({ branch: null, commits: null });
      expect(r.tasks[1]?.note).toMatch(/^blocked \(failed\): /);
      expect(r.tasks[2]).toMatchObject({
        cost_usd: 0.25,
        requests: 1,
        note: 'running for 0ms, no progress yet',
      });
      expect(r.spent).toEqual({
        requests: 1,
        tokens: { input: 100, output: 20, cache_read: 0, cache_write: 0 },
        cost_usd: 0.25,
        unpriced: 0,
      });
      // The failed task and the gated one wait for a person.
      expect(r.waiting).toBe(2);

      // A cut keeps the order and the counts of all.
      const cut = await readReport(store, 'default', since, 1, now);
      expect(cut.tasks.map((t) => t.id)).toEqual([twice.id]);
      expect(cut.total).toBe(3);
      expect(cut.counts).toEqual({ done: 1, blocked: 1, running: 1 });

      // From before the first task, it is listed too, with its own evidence.
      const all = await readReport(store, 'default', since - 120_000, 100, now);
      expect(all.tasks.map((t) => t.id)).toEqual([twice.id, before.id, failing.id, live.id]);
      expect(all.tasks[1]).toMatchObject({ commits: 1, uncommitted: false });
    });

    it('says uncommitted work, keeps to its board, and refuses a board that does not exist', async () => {
      await store.addBoard('ops', ana);
      const since = f.clock.now();
      const t = await store.createTask({ title: 'left work', assignee: 'p' }, ana);
      await worked(await claimOne(), false, evidence(t.id, 0, true));
      f.clock.advance(1000);

      const r = await readReport(store, 'default', since, 100, f.clock.now());
      expect(r.tasks).toHaveLength(1);
      expect(r.tasks[0]).toMatchObject({ commits: 0, uncommitted: true });
      const ops = await readReport(store, 'ops', since, 100, f.clock.now());
      expect(ops).toMatchObject({ total: 0, tasks: [], counts: {}, waiting: 0 });
      expect(ops.spent.requests).toBe(0);
      await expect(readReport(store, 'nope', since, 100)).rejects.toMatchObject({
        code: 'not_found',
      });
    });
  });
}
