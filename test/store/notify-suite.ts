import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { watchHeldBack } from '../../src/serve/notify-holdback.js';
import type { Store } from '../../src/store/store.js';
import type { DueNotification } from '../../src/store/sql/notify-cursor.js';
import { waitFor } from '../helpers/host.js';
import { currentSchema, schemaClient, settled } from '../helpers/pg-clients.js';
import { refused } from './suite.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');

/** Webhook subscriptions and their cursors (issue #15), against every backend. */
export function runNotifySuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store notifications: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    /** Blocks a new task with `kind`; returns its id. */
    async function blocked(kind: 'needs_input' | 'failed' | 'dependency'): Promise<number> {
      const t = await store.createTask({ title: `a ${kind} task` }, ana);
      await store.moveTask(t.id, { verb: 'block', kind, reason: `because ${kind}` }, ana);
      return t.id;
    }

    /**
     * What is due once no other test's transaction on a shared PostgreSQL holds this test's
     * events back (they would not be final yet).
     */
    async function dueNow(host: string, busy?: readonly number[]): Promise<DueNotification[]> {
      await settled(f.db);
      return store.dueNotifications(host, busy);
    }

    /** A connection of its own to the store's PostgreSQL schema. */
    async function client(): Promise<pg.Client> {
      return schemaClient(await currentSchema(f.db));
    }

    it('starts a new subscription at the newest event and hears only the kinds it asked for, once', async () => {
      const before = await blocked('failed');
      // Final before it subscribes (another test's open transaction would hold it back).
      await settled(f.db);
      const sub = await store.addSubscription(
        { url: 'http://127.0.0.1:9/hook', kinds: ['gave_up', 'completed'] },
        ana,
      );
      expect(sub).toMatchObject({ format: 'json', board: null, signed: false, attempts: 0 });
      expect(await dueNow('h1')).toEqual([]);
      await blocked('needs_input'); // not asked for
      await blocked('dependency'); // makes no notification at all
      const failed = await blocked('failed');
      const [due] = await dueNow('h1');
      expect(due).toMatchObject({ kind: 'gave_up', event: { task_id: failed } });
      expect(due?.event.task_id).not.toBe(before);
      expect(await store.claimNotification(due!, 'h1', 60_000)).toBe(true);
      // The host sending it sees it again (after a restart it must), unless it says it is busy.
      expect(await dueNow('h1')).toHaveLength(1);
      expect(await dueNow('h1', [sub.id])).toEqual([]);
      // Another host does not see it while the lease lives, nor can take it.
      expect(await dueNow('h2')).toEqual([]);
      expect(await store.claimNotification(due!, 'h2', 60_000)).toBe(false);
      expect(await store.recordNotification(due!, 'h1', { ok: true })).toBe('delivered');
      // Recorded once: the same send recorded again is lost, not counted twice.
      expect(await store.recordNotification(due!, 'h1', { ok: true })).toBe('lost');
      expect(await dueNow('h1')).toEqual([]);
      expect(await store.getSubscription(sub.id)).toMatchObject({ delivered: 1, failed: 0 });
    });

    it('retries after a backoff, then leaves the notification in the dead letters and goes on', async () => {
      const sub = await store.addSubscription(
        { url: 'https://example.invalid/x', kinds: ['needs_input'], secret: 's3cret' },
        ana,
      );
      expect(sub.signed).toBe(true);
      expect(JSON.stringify(await store.listSubscriptions())).not.toContain('s3cret');
      const first = await blocked('needs_input');
      const second = await blocked('needs_input');
      const fail = { ok: false as const, error: 'HTTP 500', attempts: 2, retryInMs: 3_600_000 };
      let [due] = await dueNow('h1');
      expect(due?.event.task_id).toBe(first);
      expect(due?.secret).toBe('s3cret');
      // Shown masked, sent to in full.
      expect(due?.subscription.url).toBe('https://example.invalid/…');
      expect(due?.url).toBe('https://example.invalid/x');
      expect(await store.claimNotification(due!, 'h1', 60_000)).toBe(true);
      expect(await store.recordNotification(due!, 'h1', fail)).toBe('retry');
      // Waiting out its backoff: nothing is due, and nothing after it jumps the queue.
      expect(await dueNow('h1')).toEqual([]);
      await f.db.run('UPDATE notify_subscriptions SET next_at = 0 WHERE id = ?', [sub.id]);
      [due] = await dueNow('h1');
      expect(due?.event.task_id).toBe(first);
      expect(await store.claimNotification(due!, 'h1', 60_000)).toBe(true);
      expect(await store.recordNotification(due!, 'h1', fail)).toBe('dead');
      [due] = await dueNow('h1');
      expect(due?.event.task_id).toBe(second);
      expect(await store.listDeadLetters()).toMatchObject([
        {
          subscription_id: sub.id,
          url: 'https://example.invalid/…',
          kind: 'needs_input',
          attempts: 2,
          error: 'HTTP 500',
        },
      ]);
      expect(await store.getSubscription(sub.id)).toMatchObject({
        dead: 1,
        failed: 2,
        attempts: 0,
        last_error: 'HTTP 500',
      });
      await store.removeSubscription(sub.id);
      expect(await store.listSubscriptions()).toEqual([]);
      expect(await store.listDeadLetters()).toEqual([]);
    });

    it('pages dead letters, counts them, finds one by id, and gc prunes the old ones', async () => {
      const sub = await store.addSubscription(
        { url: 'http://127.0.0.1:9/x', kinds: ['gave_up'] },
        ana,
      );
      const fail = { ok: false as const, error: 'HTTP 500', attempts: 1, retryInMs: 1000 };
      for (let i = 0; i < 3; i++) {
        await blocked('failed');
        const [due] = await dueNow('h1');
        expect(await store.claimNotification(due!, 'h1', 60_000)).toBe(true);
        expect(await store.recordNotification(due!, 'h1', fail)).toBe('dead');
      }
      const all = await store.listDeadLetters();
      expect(all).toHaveLength(3);
      expect(await store.countDeadLetters()).toBe(3);
      const first = await store.listDeadLetters({ limit: 2 });
      expect(first.map((d) => d.id)).toEqual(all.slice(0, 2).map((d) => d.id));
      const rest = await store.listDeadLetters({ subscription: sub.id, after: first[1]!.id });
      expect(rest.map((d) => d.id)).toEqual([all[2]!.id]);
      expect(await store.getDeadLetter(all[1]!.id)).toEqual(all[1]);
      await refused(store.getDeadLetter(9999), 'not_found', /dead letter 9999 does not exist/);
      // gc prunes dead letters older than its cut-off, with the events.
      await f.db.run('UPDATE notify_dead_letters SET at = 1 WHERE id = ?', [all[0]!.id]);
      await store.pruneEvents(2, true);
      expect(await store.countDeadLetters()).toBe(3);
      await store.pruneEvents(2, false);
      expect((await store.listDeadLetters()).map((d) => d.id)).toEqual([all[1]!.id, all[2]!.id]);
    });

    it('keeps to its board and task', async () => {
      await store.addBoard('other', ana);
      const t = await store.createTask({ title: 'watched' }, ana);
      const onTask = await store.addSubscription(
        { url: 'http://127.0.0.1:9/a', task_id: t.id, kinds: ['completed'] },
        ana,
      );
      const onOther = await store.addSubscription(
        { url: 'http://127.0.0.1:9/b', board: 'other', kinds: ['completed'] },
        ana,
      );
      const u = await store.createTask({ title: 'unwatched' }, ana);
      await store.moveTask(u.id, { verb: 'done' }, ana);
      await store.moveTask(t.id, { verb: 'done' }, ana);
      const due = await dueNow('h1');
      expect(due.map((d) => [d.subscription.id, d.event.task_id])).toEqual([[onTask.id, t.id]]);
      expect(due.some((d) => d.subscription.id === onOther.id)).toBe(false);
    });

    it('takes the same subscription again as the one there: never two that send twice', async () => {
      const first = await store.addSubscription(
        { url: 'http://127.0.0.1:9/hook', kinds: ['completed', 'gave_up'] },
        ana,
      );
      // A retry whose answer was lost, or the same line typed twice; kinds in any order.
      const again = await store.addSubscription(
        { url: 'http://127.0.0.1:9/hook', kinds: ['gave_up', 'completed'] },
        ana,
      );
      expect(again.id).toBe(first.id);
      // Anything different is another subscription: the kinds, the secret, the scope.
      const other = [
        { url: 'http://127.0.0.1:9/hook', kinds: ['completed' as const] },
        {
          url: 'http://127.0.0.1:9/hook',
          kinds: ['completed' as const, 'gave_up' as const],
          secret: 's',
        },
        {
          url: 'http://127.0.0.1:9/hook',
          kinds: ['completed' as const, 'gave_up' as const],
          board: 'default',
        },
      ];
      for (const input of other)
        expect((await store.addSubscription(input, ana)).id).not.toBe(first.id);
      expect(await store.listSubscriptions()).toHaveLength(4);
    });

    it('refuses bad subscriptions with one line and stores nothing', async () => {
      const cases: [Parameters<Store['addSubscription']>[0], string, RegExp][] = [
        [{ url: 'ftp://host/x' }, 'invalid', /^url: 'ftp:\/\/host\/x' is not http\(s\)/],
        [{ url: 'not a url' }, 'invalid', /^url: 'not a url' is not a URL/],
        [
          { url: 'http://h/x', kinds: ['completed', 'exploded'] },
          'invalid',
          /^events: unknown notification kind 'exploded'; use completed, /,
        ],
        [{ url: 'http://h/x', kinds: [] }, 'invalid', /^events: name at least one kind/],
        [
          { url: 'https://me:pw@h/x' },
          'invalid',
          /^url: a user name or password in the URL is never sent; sign/,
        ],
        [
          { url: 'http://h/x', format: 'xml' },
          'invalid',
          /^format: unknown format 'xml'; use json, slack, discord, ntfy$/,
        ],
        [{ url: 'http://h/x', board: 'nope' }, 'not_found', /^board 'nope' does not exist/],
        [{ url: 'http://h/x', task_id: 9999 }, 'not_found', /^task 9999 does not exist/],
      ];
      for (const [input, code, message] of cases) {
        await refused(store.addSubscription(input, ana), code, message);
      }
      await refused(store.removeSubscription(42), 'not_found', /subscription 42 does not exist/);
      expect(await store.listSubscriptions()).toEqual([]);
    });
    it('on PostgreSQL, starts a new subscription at the newest event when transaction ids differ in digits', async ({
      skip,
    }) => {
      if (store.dialect !== 'postgres') return skip('SQLite orders events by id alone');
      // A trial's new subscription was sent 221 old events: "992" sorted above "7141" as text.
      const c = await client();
      try {
        await c.query('DELETE FROM events');
        for (const tx of ['9', '10'])
          await c.query(
            `INSERT INTO events (board, actor, kind, payload, at, tx)
             VALUES ('default', 'person:t', 'task_done', '{}', 1, CAST($1 AS xid8))`,
            [tx],
          );
      } finally {
        await c.end();
      }
      await store.addSubscription({ url: 'http://127.0.0.1:9/x', kinds: ['completed'] }, ana);
      expect(await dueNow('h1')).toEqual([]);
    });

    it('on PostgreSQL, never skips an event whose transaction commits out of id order', async ({
      skip,
    }) => {
      if (store.dialect !== 'postgres')
        return skip('SQLite commits one writer at a time, in id order');
      const insert = (c: pg.Client, title: string) =>
        c.query(
          `INSERT INTO events (board, actor, kind, payload, at) VALUES ('default', 'person:t', 'task_done', $1, 1)`,
          [JSON.stringify({ title })],
        );
      const sub = await store.addSubscription(
        { url: 'http://127.0.0.1:9/x', kinds: ['completed'] },
        ana,
      );
      const [early, late, third] = [await client(), await client(), await client()];
      const seen: string[] = [];
      const drain = async (): Promise<void> => {
        for (;;) {
          const [due] = await dueNow('h1');
          if (!due) return;
          expect(await store.claimNotification(due, 'h1', 60_000)).toBe(true);
          expect(await store.recordNotification(due, 'h1', { ok: true })).toBe('delivered');
          seen.push(JSON.stringify(due.event.payload.title));
        }
      };
      try {
        // 1. `early` takes its transaction id first, but writes its event last.
        await early.query('BEGIN');
        await early.query('SELECT pg_current_xact_id()');
        // 2. `late` takes a later transaction id and the smaller event id, and stays open.
        await late.query('BEGIN');
        await insert(late, 'late, smaller id');
        // 3. `early` writes the larger event id and commits first.
        await insert(early, 'early, larger id');
        await early.query('COMMIT');
        // 4. A third transaction that took an id and commits after both is no exception.
        await third.query('BEGIN');
        await insert(third, 'third');
        await drain();
        expect(seen).toEqual(['"early, larger id"']);
        await third.query('COMMIT');
        await drain();
        // `third` waits behind `late`, which is still open: nothing passes it.
        expect(seen).toEqual(['"early, larger id"']);
        await late.query('COMMIT');
        await drain();
        expect(seen).toEqual(['"early, larger id"', '"late, smaller id"', '"third"']);
        expect((await store.getSubscription(sub.id)).delivered).toBe(3);
      } finally {
        for (const c of [early, late, third]) await c.end();
      }
    });
    it('on PostgreSQL, writes no dead letter when another host took the lease meanwhile', async ({
      skip,
    }) => {
      if (store.dialect !== 'postgres') return skip('SQLite has one writer at a time');
      const sub = await store.addSubscription({ url: 'http://127.0.0.1:9/x' }, ana);
      await blocked('failed');
      const [due] = await dueNow('h1');
      expect(await store.claimNotification(due!, 'h1', 60_000)).toBe(true);
      const other = await client();
      const watcher = await client();
      try {
        // Another host takes the subscription (its lease ran out) and has not committed yet.
        await other.query('BEGIN');
        await other.query(`UPDATE notify_subscriptions SET lease_owner = 'h2' WHERE id = $1`, [
          sub.id,
        ]);
        const fail = { ok: false as const, error: 'HTTP 500', attempts: 1, retryInMs: 1000 };
        const recording = store.recordNotification(due!, 'h1', fail);
        // h1 has read its lease and waits on the row; then the other host commits.
        for (let i = 0; ; i++) {
          const { rows } = await watcher.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE notify_subscriptions%'`,
          );
          if (rows.length > 0) break;
          if (i > 500) throw new Error('the record never waited on the row');
          await new Promise((r) => setTimeout(r, 20));
        }
        await other.query('COMMIT');
        expect(await recording).toBe('lost');
        expect(await store.listDeadLetters()).toEqual([]);
        expect(await store.getSubscription(sub.id)).toMatchObject({ dead: 0, cursor: sub.cursor });
      } finally {
        for (const c of [other, watcher]) await c.end();
      }
    });
    it('on PostgreSQL, says how long events wait behind a transaction left open, and who holds it', async ({
      skip,
    }) => {
      if (store.dialect !== 'postgres') {
        expect(await store.eventsHeldBack()).toEqual({ events: 0, age_ms: 0, blocker: null });
        return skip('SQLite commits one writer at a time: nothing waits');
      }
      const open = await client();
      const lines: string[] = [];
      const stop = watchHeldBack(store, (l) => lines.push(l), 20, 0);
      try {
        await open.query('BEGIN');
        const { rows } = await open.query<{ pid: number }>(
          'SELECT pg_backend_pid() AS pid, pg_current_xact_id()',
        );
        await blocked('failed');
        const held = await store.eventsHeldBack();
        expect(held.events).toBeGreaterThan(0);
        // The oldest transaction may be another test's on a shared server, but one is named.
        expect(held.blocker).toMatch(/^pid \d+ \(/);
        if (held.blocker?.startsWith(`pid ${rows[0]!.pid} `)) {
          expect(held.blocker).toMatch(/idle in transaction, database \w+\), its transaction open/);
        }
        await waitFor('the warning', () => lines.some((l) => l.includes('behind a transaction')));
        await open.query('COMMIT');
      } finally {
        stop();
        await open.end();
      }
    });
  });
}
