import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { WardenEvent } from '../../src/core/events.js';
import type { EventFilter, Store } from '../../src/store/store.js';
import {
  currentSchema,
  FINAL_ORDER,
  insertEvent,
  outOfOrder,
  settled,
} from '../helpers/pg-clients.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');

/** Title of an event this suite wrote (`payload.title`), or its kind. */
function label(e: WardenEvent): string {
  const title = e.payload.title;
  return typeof title === 'string' ? title : e.kind;
}

/**
 * Paging `listEvents` with `after_id`, as `warden events --follow`, the SSE stream and the SDK
 * do: every event exactly once, also when PostgreSQL commits events out of id order.
 */
export function runEventWalkSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store event cursor: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    /** `listEvents` once no other test file's transaction holds events back (`settled`). */
    async function list(filter: EventFilter): Promise<WardenEvent[]> {
      await settled(f.db);
      return store.listEvents(filter);
    }

    /** A follower as the consumers write one: the last event of each page is its cursor. */
    function follower(filter: EventFilter, cursor: number, limit: number) {
      const seen: WardenEvent[] = [];
      return {
        seen,
        labels: (): string[] => seen.map(label),
        /** Reads pages until one is empty. */
        async drain(): Promise<void> {
          for (;;) {
            const page = await list({ ...filter, after_id: cursor, limit });
            if (page.length === 0) return;
            seen.push(...page);
            cursor = page.at(-1)?.id ?? cursor;
          }
        },
      };
    }

    /** Where a follower that starts now, as `--follow` and the stream do, begins. */
    async function end(filter: EventFilter = {}): Promise<number> {
      return (await list({ ...filter, newest: true, limit: 1, final: true }))[0]?.id ?? 0;
    }

    it('pages after a cursor in order, every event once, and a page’s last event resumes it', async () => {
      const all = follower({}, 0, 2);
      const start = await end();
      const tail = follower({}, start, 1);
      for (let i = 1; i <= 5; i += 1) await store.createTask({ title: `t${i}` }, ana);
      await all.drain();
      await tail.drain();
      const everything = await list({ final: true });
      expect(all.seen).toEqual(everything);
      expect(tail.seen).toEqual(everything.filter((e) => e.id > start));
      expect(new Set(tail.seen.map((e) => e.task_id))).toEqual(new Set([1, 2, 3, 4, 5]));
      const newest = await list({ newest: true, limit: 2, final: true });
      expect(newest).toEqual(everything.slice(-2));
      expect(await list({ after_id: newest.at(-1)?.id ?? 0 })).toEqual([]);
      const third = everything.at(-3);
      expect(await list({ id: third?.id ?? 0 })).toEqual([third]);
    });

    it('resumes after a cursor gc pruned with every event of a larger id', async () => {
      for (let i = 1; i <= 4; i += 1) await store.createTask({ title: `t${i}` }, ana);
      const before = await list({ final: true });
      const cursor = before.at(-3)?.id ?? 0;
      await f.db.run('DELETE FROM events WHERE id = ?', [cursor]);
      expect(await list({ after_id: cursor })).toEqual(before.slice(-2));
      // Nothing with a larger id yet: nothing, until one is written.
      const last = before.at(-1)?.id ?? 0;
      await f.db.run('DELETE FROM events WHERE id = ?', [last]);
      expect(await list({ after_id: last })).toEqual([]);
      await store.createTask({ title: 't5' }, ana);
      const next = await list({ after_id: last });
      expect(next.length).toBeGreaterThan(0);
      expect(next.every((e) => e.task_id === 5 && e.id > last)).toBe(true);
    });

    it('on PostgreSQL, a follower never skips an event whose transaction commits out of id order', async ({
      skip,
    }) => {
      if (store.dialect !== 'postgres')
        return skip('SQLite commits one writer at a time, in id order');
      const schema = await currentSchema(f.db);
      const board = { board: 'default', include_global: true };
      const paged = follower(board, await end(board), 1);
      const big = follower({}, await end(), 100);
      // `early` takes its xid first but commits the larger id; `late` stays open.
      const o = await outOfOrder(schema);
      let fromEnd: ReturnType<typeof follower> | undefined;
      try {
        await paged.drain();
        await big.drain();
        expect(paged.labels()).toEqual([FINAL_ORDER[0]]);
        // `third` commits while `late` is open: it is committed, not final.
        await insertEvent(o.third, FINAL_ORDER[2]);
        await paged.drain();
        expect(paged.labels()).toEqual([FINAL_ORDER[0]]);
        // A follower starting from the end now starts before `late` and `third`, not after
        // `third` (the largest id), which would leave `late` behind.
        fromEnd = follower({}, await end(), 1);
        expect((await list({ newest: true, limit: 1, final: true })).map(label)).toEqual([
          FINAL_ORDER[0],
        ]);
        await o.late.query('COMMIT');
      } finally {
        await o.close();
      }
      await paged.drain();
      await big.drain();
      await fromEnd?.drain();
      const want = [...FINAL_ORDER];
      expect(paged.labels()).toEqual(want);
      expect(big.labels()).toEqual(want);
      expect(fromEnd?.labels()).toEqual(want.slice(1));
      expect((await list({ final: true })).slice(-3).map(label)).toEqual(want);
      // A page's order is the walk's, not the ids': `late` has the smaller id.
      const [e, l] = paged.seen;
      expect((l?.id ?? 0) < (e?.id ?? 0)).toBe(true);
      // gc prunes `late`, the cursor: the walk resumes at the oldest transaction that wrote a
      // larger id (`early`'s), so `early` comes again and nothing after is skipped.
      await f.db.run('DELETE FROM events WHERE id = ?', [l?.id ?? 0]);
      expect((await list({ after_id: l?.id ?? 0 })).map(label)).toEqual([
        FINAL_ORDER[0],
        FINAL_ORDER[2],
      ]);
    });
  });
}
