import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { notifyKindOf } from '../../src/core/notify.js';
import type { WorkerContext } from '../../src/core/worker-protocol.js';
import { git, makeRepo } from '../helpers/git.js';
import { TestHome, fixture } from '../helpers/host.js';

let home: TestHome;
let repo: string;
afterEach(async () => {
  await home.cleanup();
  rmSync(repo, { recursive: true, force: true });
});

function saved(name: string): string {
  return readFileSync(join(home.root, name), 'utf8');
}

describe('review runs (issue #14)', () => {
  it("a reviewer profile's run reviews the work at its head; its changes reach the next attempt; its approval makes the task done", async () => {
    home = await new TestHome().init();
    repo = makeRepo();
    const out = ['--env', `LIFE_DIR=${home.root}`];
    await home.profile('rev', fixture('review-rev.sh'), out);
    await home.profile('dev', fixture('review-dev.sh'), [
      ...out,
      '--workspace',
      `worktree:${repo}`,
      '--reviewer',
      'rev',
    ]);
    const id = await home.task('add the feature', ['--assignee', 'dev']);
    await home.serve();

    const done = await home.waitStatus(id, 'done', 60_000);
    // The work's result stays the worker's; the reviewer's verdict is kept as a review.
    expect(done.result?.summary).toBe('work of attempt 3');
    const runs = await home.runs(id);
    expect(runs.map((r) => [r.attempt, r.role, r.profile, r.outcome])).toEqual([
      [1, 'work', 'dev', 'review_requested'],
      [2, 'review', 'rev', 'changes_requested'],
      [3, 'work', 'dev', 'review_requested'],
      [4, 'review', 'rev', 'review_approved'],
    ]);

    // The reviewer worked in the task's worktree at the head the work left, and its context
    // named that head and the worker's summary.
    const first = JSON.parse(saved('rev-context-2.json')) as WorkerContext;
    expect(first.run.role).toBe('review');
    expect(first.review_of).toMatchObject({
      run_id: runs[0]?.id,
      summary: 'work of attempt 1',
      evidence: { head: runs[0]?.evidence?.head, commits: 1 },
    });
    expect(saved('rev-head-2.txt').trim()).toBe(runs[0]?.evidence?.head);
    expect(saved('rev-head-4.txt').trim()).toBe(git(repo, 'rev-parse', `warden/${id}`));

    // The changes it asked for came first in the next attempt's context.
    const third = JSON.parse(saved('dev-context-3.json')) as WorkerContext;
    expect(third.reviews[0]).toMatchObject({
      verdict: 'changes_requested',
      body: 'add a test',
      by: `worker:run/${runs[1]?.id}`,
    });
    const events = (await home.events(id)).map((e) => e.kind);
    expect(events.filter((k) => k === 'task_review_requested')).toHaveLength(2);
    // Each names its reviewer profile, so no person is notified of a review no person makes.
    const requested = (await home.events(id)).filter((e) => e.kind === 'task_review_requested');
    expect(requested.map((e) => notifyKindOf(e))).toEqual([null, null]);
    expect(requested.map((e) => e.payload.review_by)).toEqual(['rev', 'rev']);
  }, 90_000);

  it('refuses an unknown reviewer, and a profile reviewing itself without --self-review', async () => {
    home = await new TestHome().init();
    repo = makeRepo();
    const unknown = await home.cli(['profile', 'add', 'a', '--reviewer', 'nobody', '--', 'true']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr.trim()).toBe(
      "warden: --reviewer: profile 'nobody' does not exist; add it first with `warden profile add nobody ...`",
    );
    const self = await home.cli(['profile', 'add', 'b', '--reviewer', 'b', '--', 'true']);
    expect(self.code).toBe(2);
    expect(self.stderr.trim()).toMatch(/would review its own work; .*--self-review/);
    expect(await home.ok(['profile', 'list'])).not.toMatch(/\b[ab]\b/);
    await home.ok(['profile', 'add', 'c', '--reviewer', 'c', '--self-review', '--', 'true']);
  });
});
