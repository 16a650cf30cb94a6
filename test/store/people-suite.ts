import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcher, person } from '../../src/core/actor.js';
import { WardenError } from '../../src/core/errors.js';
import type { TerminalCall } from '../../src/core/worker-protocol.js';
import { hashToken } from '../../src/os/token.js';
import type { Claim } from '../../src/store/run-types.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');
const CTX = { host: 'h1', config: {} };

/** A person in the loop (issue #14): typed blocks, questions and answers, approval gates. */
export function runPeopleSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store people in the loop: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
      await store.addProfile('p', { argv: ['true'], policy: { max_failures: 2 } }, ana);
    });
    afterEach(async () => {
      await f.cleanup();
    });

    async function claimOne(): Promise<Claim[]> {
      return store.claimRuns({ host: 'h1', maxWorkers: 10, limit: 10, mode: 'spawned' }, '/ws');
    }

    /** A worker's report, then its run closed as its host would. */
    async function report(c: Claim, call: TerminalCall): Promise<void> {
      await store.workerTerminal(hashToken(c.token), call, CTX);
      await store.finishRun(
        c.run.id,
        { outcome: 'crashed', reason: { rule: 'exit_code', message: 'exit 0' }, exit_code: 0 },
        CTX,
      );
    }

    async function refusedWith(
      promise: Promise<unknown>,
      code: string,
      text: RegExp,
    ): Promise<void> {
      const err = await promise.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WardenError);
      expect((err as WardenError).code).toBe(code);
      expect((err as WardenError).message).toMatch(text);
    }

    it('a task warden gave up on is blocked failed, not needs_input', async () => {
      const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
      for (let i = 0; i < 2; i++) {
        f.clock.advance(3_600_000);
        const [c] = await claimOne();
        if (!c) throw new Error('not claimed');
        await store.endRun(
          c.run.id,
          { outcome: 'crashed', reason: { rule: 'exit_code', message: 'exit 1' }, exit_code: 1 },
          CTX,
          dispatcher('h1'),
        );
      }
      expect(await store.getTask(t.id)).toMatchObject({
        status: 'blocked',
        block_kind: 'failed',
        block_rule: 'gave_up',
      });
    });

    it("a worker's block keeps its kind; a transient one clears itself, each time a failure", async () => {
      const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [c] = await claimOne();
      if (!c) throw new Error('not claimed');
      await report(c, { op: 'block', reason: 'API down', kind: 'transient' });
      const blocked = await store.getTask(t.id);
      expect(blocked).toMatchObject({ status: 'blocked', block_kind: 'transient' });
      expect(blocked.not_before).toBe(f.clock.now() + 5 * 60_000);
      expect(await store.releaseTransientBlocks(CTX)).toBe(0);
      f.clock.advance(5 * 60_000);
      expect(await store.releaseTransientBlocks(CTX)).toBe(1);
      expect(await store.getTask(t.id)).toMatchObject({
        status: 'ready',
        block_kind: null,
        counters: expect.objectContaining({ failures: 1 }) as unknown,
      });
      const [again] = await claimOne();
      if (!again) throw new Error('not claimed again');
      await report(again, { op: 'block', reason: 'still down', kind: 'transient' });
      f.clock.advance(5 * 60_000);
      await store.releaseTransientBlocks(CTX);
      // The second clear reaches max_failures 2: warden gives up instead of looping.
      expect(await store.getTask(t.id)).toMatchObject({
        status: 'blocked',
        block_kind: 'failed',
        block_rule: 'gave_up',
        block_reason: expect.stringMatching(
          /blocked transient 2 times \(max_failures 2\)/,
        ) as unknown,
      });
    });

    it("a question blocks needs_input; the answer puts it back in line and tops the next attempt's context", async () => {
      const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [c] = await claimOne();
      if (!c) throw new Error('not claimed');
      await report(c, { op: 'ask', question: 'which colour?' });
      expect(await store.getTask(t.id)).toMatchObject({
        status: 'blocked',
        block_kind: 'needs_input',
        block_rule: 'question',
        block_reason: 'question: which colour?',
      });
      const answered = await store.answerTask(t.id, 'blue', ana);
      expect(answered.status).toBe('ready');
      const [next] = await claimOne();
      if (!next) throw new Error('not claimed after the answer');
      const ctx = await store.workerContext(hashToken(next.token));
      expect(ctx.questions).toEqual([
        expect.objectContaining({
          question: 'which colour?',
          answer: 'blue',
          answered_by: 'person:ana',
          run_id: c.run.id,
        }),
      ]);
      const events = await store.listEvents({ task_id: t.id, kinds: ['task_answered'] });
      expect(events[0]?.payload).toMatchObject({ question: 'which colour?', answer: 'blue' });
    });

    it('an answer written for a question the task no longer asks is refused, and changes nothing', async () => {
      const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [c] = await claimOne();
      if (!c) throw new Error('not claimed');
      await report(c, { op: 'ask', question: 'delete the staging data?' });
      await store.answerTask(t.id, 'yes, staging only', person('bo'), 'delete the staging data?');
      const [again] = await claimOne();
      if (!again) throw new Error('not claimed after the answer');
      await report(again, { op: 'ask', question: 'also delete the PRODUCTION data?' });
      // Ana's answer was typed under the first question: not booked against the second.
      await refusedWith(
        store.answerTask(t.id, 'yes', ana, 'delete the staging data?'),
        'conflict',
        /^task \d+ asks another question now: "also delete the PRODUCTION data\?"; your answer was for "delete the staging data\?": read the new one and answer it$/,
      );
      expect(await store.getTask(t.id)).toMatchObject({
        status: 'blocked',
        block_rule: 'question',
      });
      expect((await store.listQuestions(t.id))[0]).toMatchObject({ answer: null });
      // Named right (or not named, as `warden answer` does), it is booked.
      const ok = await store.answerTask(t.id, 'no', ana, 'also delete the PRODUCTION data?');
      expect(ok.status).toBe('ready');
    });

    it('archiving a parent blocks its waiting children dependency, with the reason', async () => {
      const parent = await store.createTask({ title: 'parent' }, ana);
      const child = await store.createTask({ title: 'child', parents: [parent.id] }, ana);
      expect(child.status).toBe('todo');
      await store.moveTask(parent.id, { verb: 'archive' }, ana);
      expect(await store.getTask(child.id)).toMatchObject({
        status: 'blocked',
        block_kind: 'dependency',
        block_rule: 'dependency',
        block_reason: expect.stringMatching(/parent #\d+ was archived/) as unknown,
      });
    });

    it('unblocking a child of an archived parent goes on without it, or waits for a new one', async () => {
      const parent = await store.createTask({ title: 'parent' }, ana);
      const alone = await store.createTask({ title: 'alone', parents: [parent.id] }, ana);
      const relinked = await store.createTask({ title: 'relinked', parents: [parent.id] }, ana);
      await store.moveTask(parent.id, { verb: 'archive' }, ana);
      // The person decides to go on without the archived parent.
      expect(await store.moveTask(alone.id, { verb: 'unblock' }, ana)).toMatchObject({
        status: 'ready',
      });
      // Or links the task to another parent first (cli.md, block kinds): it waits for that one.
      const other = await store.createTask({ title: 'other' }, ana);
      await store.linkTasks(other.id, relinked.id, ana);
      expect(await store.moveTask(relinked.id, { verb: 'unblock' }, ana)).toMatchObject({
        status: 'todo',
      });
      await store.moveTask(other.id, { verb: 'done' }, ana);
      expect((await store.getTask(relinked.id)).status).toBe('ready');
    });

    it('archiving an unfinished parent holds a child in triage or a transient block for a person too', async () => {
      const parent = await store.createTask({ title: 'parent' }, ana);
      const triaged = await store.createTask(
        { title: 'triaged', parents: [parent.id], triage: true },
        ana,
      );
      const passing = await store.createTask({ title: 'passing', parents: [parent.id] }, ana);
      await store.moveTask(
        passing.id,
        { verb: 'block', reason: 'API down', kind: 'transient' },
        ana,
      );
      await store.moveTask(parent.id, { verb: 'archive' }, ana);
      for (const id of [triaged.id, passing.id]) {
        expect(await store.getTask(id)).toMatchObject({
          status: 'blocked',
          block_kind: 'dependency',
          block_reason: expect.stringMatching(/parent #\d+ was archived unfinished/) as unknown,
        });
      }
    });

    it('archiving a done parent leaves its children as they were', async () => {
      const parent = await store.createTask({ title: 'parent' }, ana);
      const slow = await store.createTask({ title: 'slow' }, ana);
      const ready = await store.createTask({ title: 'ready', parents: [parent.id] }, ana);
      const waiting = await store.createTask(
        { title: 'waiting', parents: [parent.id, slow.id] },
        ana,
      );
      await store.moveTask(parent.id, { verb: 'done' }, ana);
      expect((await store.getTask(ready.id)).status).toBe('ready');
      await store.moveTask(parent.id, { verb: 'archive' }, ana);
      expect((await store.getTask(ready.id)).status).toBe('ready');
      // Still waiting for its other parent, not blocked for the archived one.
      expect((await store.getTask(waiting.id)).status).toBe('todo');
      await store.moveTask(slow.id, { verb: 'done' }, ana);
      expect((await store.getTask(waiting.id)).status).toBe('ready');
      const moved = await store.listEvents({ task_id: ready.id, kinds: ['task_demoted'] });
      expect(moved).toEqual([]);
    });

    it('answering a task that asked nothing is refused and changes nothing', async () => {
      const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
      await store.moveTask(t.id, { verb: 'block', reason: 'why', kind: 'needs_input' }, ana);
      await refusedWith(store.answerTask(t.id, 'x', ana), 'illegal_state', /asked nothing/);
      await refusedWith(store.answerTask(t.id, ' ', ana), 'invalid', /answer: must not be empty/);
      expect(await store.getTask(t.id)).toMatchObject({ status: 'blocked', block_reason: 'why' });
    });

    it('an approval gate keeps a task out of dispatch until a person approves it', async () => {
      const gated = await store.createTask(
        { title: 'gated', assignee: 'p', needs_approval: true },
        ana,
      );
      expect(gated.approval).toEqual({ required: true, by: null, at: null });
      expect(await claimOne()).toEqual([]);
      const approved = await store.approveTask(gated.id, person('bo'));
      expect(approved.approval).toEqual({ required: true, by: 'person:bo', at: f.clock.now() });
      expect((await claimOne()).map((c) => c.task.id)).toEqual([gated.id]);
      await refusedWith(store.approveTask(gated.id, ana), 'illegal_state', /waits for no approval/);
    });

    it('a review run: claimed by the reviewer, verdicts only from it, and one that ends without a verdict leaves the review to a person', async () => {
      await store.addProfile('rev', { argv: ['true'] }, ana);
      await store.addProfile('dev', { argv: ['true'], reviewer: 'rev' }, ana);
      const t = await store.createTask({ title: 't', assignee: 'dev' }, ana);
      const [work] = await claimOne();
      if (!work) throw new Error('not claimed');
      await refusedWith(
        store.workerTerminal(hashToken(work.token), { op: 'approve', summary: 'me' }, CTX),
        'invalid',
        /only a review run gives a verdict/,
      );
      await report(work, { op: 'request_review', summary: 'have a look' });
      expect(await store.getTask(t.id)).toMatchObject({ status: 'review', review_by: 'rev' });
      const [rev] = await claimOne();
      if (!rev) throw new Error('review not claimed');
      expect(rev.run).toMatchObject({ role: 'review', profile: 'rev', attempt: 2 });
      expect(rev.task).toMatchObject({ status: 'running', review_by: null });
      await refusedWith(
        store.workerTerminal(hashToken(rev.token), { op: 'complete', summary: 'x' }, CTX),
        'invalid',
        /give a verdict with approve or request-changes/,
      );
      await store.endRun(
        rev.run.id,
        { outcome: 'crashed', reason: { rule: 'exit_code', message: 'exit 1' }, exit_code: 1 },
        CTX,
        dispatcher('h1'),
      );
      const back = await store.getTask(t.id);
      expect(back).toMatchObject({ status: 'review', review_by: null });
      expect(back.result?.summary).toBe('have a look');
      expect(back.counters.failures).toBe(0);
      // A person reviews now: nothing claims it again.
      expect(await claimOne()).toEqual([]);
    });

    it("a profile's --require-approval gates its tasks; approving a task in review makes it done", async () => {
      await store.addProfile('careful', { argv: ['true'], require_approval: true }, ana);
      const t = await store.createTask({ title: 't', assignee: 'careful' }, ana);
      expect(t.approval.required).toBe(true);
      expect(await claimOne()).toEqual([]);
      await store.approveTask(t.id, ana);
      const [c] = await claimOne();
      if (!c) throw new Error('not claimed');
      await report(c, { op: 'request_review', summary: 'have a look' });
      expect((await store.getTask(t.id)).status).toBe('review');
      const approved = await store.approveTask(t.id, ana);
      expect(approved.status).toBe('done');
      // The worker's result stays: a trial's approval left the task with an empty summary.
      expect(approved.result).toEqual({ summary: 'have a look', metadata: null });
    });

    it("a person's done without a summary keeps a task's result; with one, replaces it", async () => {
      const t = await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [c] = await claimOne();
      if (!c) throw new Error('not claimed');
      await report(c, { op: 'request_review', summary: 'first', metadata: { pr: 7 } });
      const kept = await store.moveTask(t.id, { verb: 'done' }, ana);
      expect(kept.result).toEqual({ summary: 'first', metadata: { pr: 7 } });
      const other = await store.createTask({ title: 'u' }, ana);
      const said = await store.moveTask(other.id, { verb: 'done', summary: 'by hand' }, ana);
      expect(said.result).toEqual({ summary: 'by hand', metadata: null });
      // A result a person sent back (reopened) is not kept by a later done from elsewhere.
      const third = await store.createTask({ title: 'v', assignee: 'p' }, ana);
      const [c3] = await claimOne();
      if (!c3) throw new Error('not claimed');
      await report(c3, { op: 'request_review', summary: 'rejected draft' });
      await store.moveTask(third.id, { verb: 'reopen' }, ana);
      const redone = await store.moveTask(third.id, { verb: 'done' }, ana);
      expect(redone.result).toEqual({ summary: '', metadata: null });
    });
  });
}
