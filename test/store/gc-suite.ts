import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcher, person } from '../../src/core/actor.js';
import type { RunReason } from '../../src/core/run.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');
const DAY = 86_400_000;

/** The pruning half of the store contract (`warden gc`), run against every backend. */
export function runGcSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store gc: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('prunes the history of tasks finished before the cutoff, and of no other task', async () => {
      await store.addProfile('p', { argv: ['true'] }, ana);
      const worked = await store.createTask({ title: 'worked long ago', assignee: 'p' }, ana);
      const [claim] = await store.claimRuns(
        { host: 'h1', maxWorkers: 5, limit: 1, mode: 'spawned' },
        '/ws',
      );
      const runId = claim?.run.id ?? 0;
      const reason: RunReason = { rule: 'exit_zero', message: 'the worker exited 0' };
      expect(await store.beginEnding(runId, 'completed', reason, dispatcher('h1'))).toBe(true);
      await store.finishRun(
        runId,
        { outcome: 'completed', reason, exit_code: 0 },
        { host: 'h1', config: {} },
      );
      expect((await store.getTask(worked.id)).status).toBe('done');
      const archived = await store.createTask({ title: 'archived long ago' }, ana);
      await store.moveTask(archived.id, { verb: 'archive' }, ana);
      const open = await store.createTask({ title: 'still open' }, ana);
      const retried = await store.createTask({ title: 'done, then retried' }, ana);
      await store.moveTask(retried.id, { verb: 'done' }, ana);
      f.clock.advance(10 * DAY);
      await store.moveTask(retried.id, { verb: 'retry' }, ana);
      const recent = await store.createTask({ title: 'done just now' }, ana);
      await store.moveTask(recent.id, { verb: 'done' }, ana);
      const cutoff = f.clock.now() - 5 * DAY;
      const oldEvents = async (): Promise<number> =>
        (await store.listEvents({ task_id: worked.id })).length +
        (await store.listEvents({ task_id: archived.id })).length;
      const before = await oldEvents();
      expect(before).toBeGreaterThan(3);

      expect(await store.pruneEvents(cutoff, true)).toEqual({ events: before, tasks: 2 });
      expect(await oldEvents()).toBe(before);
      expect(
        await store.prunableFolders(
          [runId, runId + 1000],
          [worked.id, archived.id, open.id, retried.id, recent.id],
          cutoff,
        ),
      ).toEqual({ runs: [runId], tasks: [worked.id, archived.id].sort((a, b) => a - b) });

      const kept = {
        open: (await store.listEvents({ task_id: open.id })).length,
        retried: (await store.listEvents({ task_id: retried.id })).length,
        recent: (await store.listEvents({ task_id: recent.id })).length,
      };
      expect(await store.pruneEvents(cutoff, false)).toEqual({ events: before, tasks: 2 });
      expect(await oldEvents()).toBe(0);
      expect(await store.pruneEvents(cutoff, false)).toEqual({ events: 0, tasks: 0 });
      expect({
        open: (await store.listEvents({ task_id: open.id })).length,
        retried: (await store.listEvents({ task_id: retried.id })).length,
        recent: (await store.listEvents({ task_id: recent.id })).length,
      }).toEqual(kept);
      // The tasks and runs themselves stay.
      expect((await store.getTask(worked.id)).status).toBe('done');
      expect(await store.getRun(runId)).toMatchObject({ outcome: 'completed' });
    });

    it('prunes in batches, each its own transaction, to the same count', async () => {
      const done = [];
      for (let i = 0; i < 3; i++) {
        const t = await store.createTask({ title: `finished ${i}` }, ana);
        await store.addComment(t.id, 'a note', ana);
        await store.moveTask(t.id, { verb: 'done' }, ana);
        done.push(t.id);
      }
      const open = await store.createTask({ title: 'open' }, ana);
      f.clock.advance(10 * DAY);
      const cutoff = f.clock.now() - 5 * DAY;
      const counted = await store.pruneEvents(cutoff, true);
      expect(counted.tasks).toBe(3);
      expect(counted.events).toBeGreaterThan(4);
      // Two at a time: several batches, the last one short.
      expect(await store.pruneEvents(cutoff, false, 2)).toEqual(counted);
      for (const id of done) expect(await store.listEvents({ task_id: id })).toEqual([]);
      expect((await store.listEvents({ task_id: open.id })).length).toBeGreaterThan(0);
      expect(await store.pruneEvents(cutoff, false, 2)).toEqual({ events: 0, tasks: 0 });
    });
  });
}
