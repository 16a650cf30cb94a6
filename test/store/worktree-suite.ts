import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcher, person } from '../../src/core/actor.js';
import type { WardenError } from '../../src/core/errors.js';
import type { RunReason } from '../../src/core/run.js';
import type { RunEvidence } from '../../src/core/worktree.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');
const host = dispatcher('h1');

/** The worktree half of the store contract (issue #12), run against every backend. */
export function runWorktreeSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store worktrees: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('records one worktree per task, refuses a second, and lists archived ones by host until removed', async () => {
      const a = await store.createTask({ title: 'a' }, ana);
      const b = await store.createTask({ title: 'b' }, ana);
      expect(await store.getWorktree(a.id)).toBeNull();
      const rec = {
        task_id: a.id,
        host_id: 'h1',
        repo: '/repo',
        path: `/home/worktrees/${a.id}`,
        branch: `warden/${a.id}`,
        base_sha: 'f'.repeat(40),
      };
      const made = await store.recordWorktree(rec, host);
      expect(made).toEqual({ ...rec, created_at: f.clock.now(), removed_at: null });
      expect(await store.getWorktree(a.id)).toEqual(made);
      const again = await store
        .recordWorktree({ ...rec, host_id: 'h2' }, host)
        .catch((e: unknown) => e as WardenError);
      expect((again as WardenError).code).toBe('conflict');
      expect((await store.getWorktree(a.id))?.host_id).toBe('h1');
      await store.recordWorktree({ ...rec, task_id: b.id, host_id: 'h2', path: '/other' }, host);

      expect(await store.archivedWorktrees('h1')).toEqual([]);
      await store.moveTask(a.id, { verb: 'archive' }, ana);
      await store.moveTask(b.id, { verb: 'archive' }, ana);
      expect((await store.archivedWorktrees('h1')).map((w) => w.task_id)).toEqual([a.id]);
      f.clock.advance(1000);
      await store.worktreeRemoved(a.id, true, ana);
      await store.worktreeRemoved(a.id, false, ana);
      expect((await store.getWorktree(a.id))?.removed_at).toBe(f.clock.now());
      expect(await store.archivedWorktrees('h1')).toEqual([]);
      const events = await store.listEvents({ task_id: a.id });
      expect(events.filter((e) => e.kind === 'worktree_created')).toHaveLength(1);
      const removed = events.filter((e) => e.kind === 'worktree_removed');
      expect(removed.map((e) => e.payload.branch_deleted)).toEqual([true]);
    });

    it("keeps a run's evidence and names its rescue ref on the reason, whoever decided the outcome", async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      const t = await store.createTask({ title: 'work', assignee: 'p' }, ana);
      const [claim] = await store.claimRuns(
        { host: 'h1', maxWorkers: 5, limit: 1, mode: 'spawned' },
        '/ws',
      );
      const runId = claim?.run.id ?? 0;
      const evidence: RunEvidence = {
        branch: `warden/${t.id}`,
        base: 'a'.repeat(40),
        head: 'b'.repeat(40),
        commits: 2,
        commit_list: [{ sha: 'b'.repeat(40), subject: 'second' }],
        diffstat: { files: 3, insertions: 10, deletions: 1 },
        rescue: { ref: `refs/warden/rescue/${t.id}/${runId}`, sha: 'c'.repeat(40), files: 1 },
      };
      const reason: RunReason = { rule: 'signal', message: 'the worker was killed by SIGKILL' };
      await store.beginEnding(runId, 'crashed', reason, host);
      await store.finishRun(
        runId,
        { outcome: 'crashed', reason, evidence },
        {
          host: 'h1',
          config: {},
        },
      );
      const run = await store.getRun(runId);
      expect(run.evidence).toEqual(evidence);
      expect(run.reason?.message).toBe(
        `the worker was killed by SIGKILL (uncommitted changes (1 path) saved in refs/warden/rescue/${t.id}/${runId})`,
      );
    });
  });
}
