import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { buildInbox } from '../../src/core/inbox.js';
import type { TerminalCall } from '../../src/core/worker-protocol.js';
import { hashToken } from '../../src/os/token.js';
import type { Claim } from '../../src/store/run-types.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');
const CTX = { host: 'h1', config: {} };

/** The attention inbox's facts (issue #15): what waits for a person, and nothing else. */
export function runInboxSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store inbox: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
      await store.addProfile('p', { argv: ['true'] }, ana);
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

    /** A worker's terminal call, then its run closed as its host would. */
    async function report(c: Claim, call: TerminalCall): Promise<void> {
      await store.workerTerminal(hashToken(c.token), call, CTX);
      await store.finishRun(
        c.run.id,
        { outcome: 'crashed', reason: { rule: 'exit_code', message: 'exit 0' }, exit_code: 0 },
        CTX,
      );
    }

    it('lists what waits for a person, newest first with the count of all, and leaves out what does not', async () => {
      const asked = await store.createTask({ title: 'asks', assignee: 'p' }, ana);
      await report(await claimOne(), { op: 'ask', question: 'Which database, SQLite or PG?' });
      f.clock.advance(1000);
      const reviewed = await store.createTask({ title: 'reviewed', assignee: 'p' }, ana);
      await report(await claimOne(), { op: 'request_review', summary: 'have a look' });
      f.clock.advance(1000);
      const spent = await store.createTask({ title: 'spent' }, ana);
      await store.moveTask(spent.id, { verb: 'block', reason: 'day budget', kind: 'budget' }, ana);
      f.clock.advance(1000);
      const waiting = await store.createTask({ title: 'cooling', assignee: 'p' }, ana);
      await report(await claimOne(), { op: 'block', reason: 'API down', kind: 'transient' });
      f.clock.advance(1000);
      const gated = await store.createTask({ title: 'gated', needs_approval: true }, ana);
      await store.createTask({ title: 'plain' }, ana);

      const facts = await store.inboxFacts('default', 1000);
      expect(facts.task_total).toBe(4);
      expect(facts.tasks.map((t) => t.id)).toEqual([gated.id, spent.id, reviewed.id, asked.id]);
      expect(facts.tasks.find((t) => t.id === asked.id)).toMatchObject({
        status: 'blocked',
        block_rule: 'question',
        question: 'Which database, SQLite or PG?',
      });
      expect(facts.tasks.map((t) => t.id)).not.toContain(waiting.id);
      expect(facts.profiles).toEqual([]);

      // A limit cuts the list, never the count.
      const cut = await store.inboxFacts('default', 2);
      expect(cut.tasks.map((t) => t.id)).toEqual([gated.id, spent.id]);
      expect(cut.task_total).toBe(4);

      // Cleared, it leaves the inbox.
      await store.answerTask(asked.id, 'SQLite', ana);
      await store.approveTask(gated.id, ana);
      const after = await store.inboxFacts('default', 1000);
      expect(after.tasks.map((t) => t.id)).toEqual([spent.id, reviewed.id]);
      // Another board's tasks are not this board's inbox.
      await store.addBoard('other', ana);
      expect((await store.inboxFacts('other', 1000)).task_total).toBe(0);
    });

    it('names paused profiles and runs held by processes that would not die, until they are cleared', async () => {
      await store.setProfilePaused('p', true, 'key rotated', ana);
      const paused = await store.inboxFacts('default', 10);
      expect(paused.profiles).toMatchObject([
        { name: 'p', paused_by: 'person', paused_reason: 'key rotated' },
      ]);
      await store.setProfilePaused('p', false, null, ana);
      expect((await store.inboxFacts('default', 10)).profiles).toEqual([]);

      const t = await store.createTask({ title: 'stubborn', assignee: 'p' }, ana);
      const c = await claimOne();
      await store.beginEnding(c.run.id, 'stopped', { rule: 'stopped_by', message: 'stopped' }, ana);
      // Ending but not held: a group that is still being signalled is not a person's problem.
      expect((await store.inboxFacts('default', 10)).held).toEqual([]);
      await store.writeEvent(ana, {
        kind: 'kill_failed',
        board: 'default',
        task_id: t.id,
        run_id: c.run.id,
        payload: { pgid: 4242, pid: 4242, outcome: 'stopped' },
      });
      expect((await store.inboxFacts('default', 10)).held).toMatchObject([
        { run_id: c.run.id, task_id: t.id, title: 'stubborn', host: 'h1', pgid: 4242 },
      ]);
      await store.finishRun(
        c.run.id,
        { outcome: 'stopped', reason: { rule: 'stopped_by', message: 'gone at last' } },
        CTX,
      );
      expect((await store.inboxFacts('default', 10)).held).toEqual([]);
    });

    it('names a host whose lease lapsed, reaped or not, until it renews again', async () => {
      await store.renewHostLease('gone', 'secret', 1);
      // The lease is judged on the store's clock: PostgreSQL's own, the injected one on SQLite.
      f.clock.advance(10);
      await new Promise((r) => setTimeout(r, 20));
      const lapsed = await store.inboxFacts('default', 10);
      expect(lapsed.hosts).toMatchObject([{ host_id: 'gone', reaped: false }]);
      const inbox = buildInbox('default', lapsed, Date.now());
      expect(inbox.items[0]?.command).toBe('warden serve --host-id gone   # on that machine');

      await store.reapHost('gone', 'h1', { config: {} });
      expect((await store.inboxFacts('default', 10)).hosts).toMatchObject([
        { host_id: 'gone', reaped: true, runs: 0 },
      ]);
      await store.renewHostLease('gone', 'secret', 60_000);
      expect((await store.inboxFacts('default', 10)).hosts).toEqual([]);
    });
  });
}
