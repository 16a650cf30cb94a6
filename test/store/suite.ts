import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcher, person } from '../../src/core/actor.js';
import type { ManualClock } from '../../src/core/clock.js';
import type { Task } from '../../src/core/task.js';
import { ErrorCode, WardenError } from '../../src/core/errors.js';
import type { SqlDb } from '../../src/store/sql/driver.js';
import type { Store } from '../../src/store/store.js';
import { settled } from '../helpers/pg-clients.js';

/** A fresh, empty store for one test, and how to dispose of it. */
export interface StoreFixture {
  store: Store;
  clock: ManualClock;
  /** The store's own database, for a test that backdates a column instead of sleeping. */
  db: SqlDb;
  cleanup(): Promise<void>;
}

const ana = person('ana');

/** Expects `promise` to reject with a WardenError of `code` whose message matches. */
export async function refused(
  promise: Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WardenError);
  expect((err as WardenError).code).toBe(code);
  if (message) expect((err as WardenError).message).toMatch(message);
}

/**
 * The store contract, run against every backend (STYLE.md: one suite for every adapter).
 * `make` returns a store with the `default` board already added.
 */
export function runStoreSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store conformance: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    /** Everything observable, to prove a refused call changed nothing. */
    async function everything(): Promise<unknown> {
      const boards = await store.listBoards();
      const tasks = [];
      for (const b of boards)
        tasks.push(...(await store.listTasks({ board: b.name, include_archived: true })));
      return {
        boards,
        tasks,
        profiles: await store.listProfiles(),
        events: await store.listEvents({}),
      };
    }

    describe('boards', () => {
      it('adds and lists boards and refuses a duplicate', async () => {
        await store.addBoard('ops', ana);
        expect((await store.listBoards()).map((b) => b.name)).toEqual(['default', 'ops']);
        await refused(store.addBoard('ops', ana), ErrorCode.conflict, /already exists/);
        await refused(store.getBoard('nope'), ErrorCode.not_found, /warden board add nope/);
      });

      it('refuses a task on a board that does not exist', async () => {
        const before = await everything();
        await refused(
          store.createTask({ title: 'x', board: 'typo' }, ana),
          ErrorCode.not_found,
          /board 'typo'/,
        );
        expect(await everything()).toEqual(before);
      });
    });

    describe('tasks', () => {
      it('creates a ready task and reads back every field', async () => {
        await store.addProfile('coder', { argv: ['true'] }, ana);
        const t = await store.createTask(
          {
            title: ' Write it ',
            body: 'details',
            assignee: 'coder',
            priority: 5,
            policy: { stall_timeout: 1000 },
          },
          ana,
        );
        expect(t).toMatchObject({
          board: 'default',
          title: 'Write it',
          body: 'details',
          assignee: 'coder',
          priority: 5,
          status: 'ready',
          not_before: null,
          parents: [],
          children: [],
          result: null,
          policy: { stall_timeout: 1000 },
          current_run_id: null,
          created_by: 'person:ana',
          created_at: f.clock.now(),
        });
        expect(t.counters).toEqual({
          attempts: 0,
          failures: 0,
          stall_streak: 0,
          rate_limited_streak: 0,
          spawn_failures: 0,
          host_losses: 0,
        });
        expect(await store.getTask(t.id)).toEqual(t);
      });

      it('starts a task todo while a parent is not done, and triage when asked', async () => {
        const a = await store.createTask({ title: 'a' }, ana);
        const b = await store.createTask({ title: 'b', parents: [a.id, a.id] }, ana);
        expect(b.status).toBe('todo');
        expect(b.parents).toEqual([a.id]);
        expect((await store.getTask(a.id)).children).toEqual([b.id]);
        const c = await store.createTask({ title: 'c', triage: true }, ana);
        expect(c.status).toBe('triage');
      });

      it("lists each task's parents and children, in id order, where a link's other end is listed or not", async () => {
        const a = await store.createTask({ title: 'a' }, ana);
        const b = await store.createTask({ title: 'b' }, ana);
        const c = await store.createTask({ title: 'c', parents: [b.id, a.id] }, ana);
        const d = await store.createTask({ title: 'd', parents: [c.id] }, ana);
        const e = await store.createTask({ title: 'e', parents: [a.id] }, ana);
        const links = (tasks: readonly Task[]): [number, number[], number[]][] =>
          tasks.map((t) => [t.id, t.parents, t.children]);
        // Listed: a link between two listed tasks is on both; one to a task not listed, on its end.
        expect(links(await store.listTasks({ ids: [c.id, a.id, d.id] }))).toEqual([
          [a.id, [], [c.id, e.id]],
          [c.id, [a.id, b.id], [d.id]],
          [d.id, [c.id], []],
        ]);
        expect(links(await store.listTasks({ ids: [b.id] }))).toEqual([[b.id, [], [c.id]]]);
      });

      it('refuses an assignee that names no profile and a parent that does not exist', async () => {
        const before = await everything();
        await refused(
          store.createTask({ title: 'x', assignee: 'typo' }, ana),
          ErrorCode.not_found,
          /profile 'typo'/,
        );
        await refused(
          store.createTask({ title: 'x', parents: [999] }, ana),
          ErrorCode.not_found,
          /task 999/,
        );
        expect(await everything()).toEqual(before);
      });

      it('refuses a parent on another board', async () => {
        await store.addBoard('ops', ana);
        const a = await store.createTask({ title: 'a', board: 'ops' }, ana);
        await refused(
          store.createTask({ title: 'b', parents: [a.id] }, ana),
          ErrorCode.conflict,
          /board 'ops'/,
        );
      });

      it('lists by priority, then age, filtered by status, assignee and board', async () => {
        await store.addProfile('p1', { argv: ['true'] }, ana);
        await store.addBoard('ops', ana);
        const low = await store.createTask({ title: 'low', priority: 1 }, ana);
        f.clock.advance(1000);
        const high = await store.createTask({ title: 'high', priority: 9, assignee: 'p1' }, ana);
        const low2 = await store.createTask({ title: 'low2', priority: 1 }, ana);
        await store.createTask({ title: 'elsewhere', board: 'ops' }, ana);
        const blocked = await store.createTask({ title: 'b' }, ana);
        await store.moveTask(
          blocked.id,
          { verb: 'block', reason: 'why', kind: 'needs_input' },
          ana,
        );
        const ids = (await store.listTasks({ board: 'default', statuses: ['ready'] })).map(
          (t) => t.id,
        );
        expect(ids).toEqual([high.id, low.id, low2.id]);
        expect(
          (await store.listTasks({ board: 'default', assignee: 'p1' })).map((t) => t.id),
        ).toEqual([high.id]);
        expect((await store.listTasks({ board: 'default', limit: 1 })).length).toBe(1);
        expect((await store.listTasks({ ids: [low2.id, high.id] })).map((t) => t.id)).toEqual([
          high.id,
          low2.id,
        ]);
        expect(await store.listTasks({ ids: [] })).toEqual([]);
        expect((await store.listTasks({ board: 'ops' })).map((t) => t.title)).toEqual([
          'elsewhere',
        ]);
      });

      it('hides archived tasks unless asked', async () => {
        const t = await store.createTask({ title: 't' }, ana);
        await store.moveTask(t.id, { verb: 'archive' }, ana);
        expect(await store.listTasks({ board: 'default' })).toEqual([]);
        expect((await store.listTasks({ board: 'default', include_archived: true })).length).toBe(
          1,
        );
        expect((await store.listTasks({ board: 'default', statuses: ['archived'] })).length).toBe(
          1,
        );
      });

      it('edits fields but never status, counters or not_before, and writes task_edited', async () => {
        await store.addProfile('p1', { argv: ['true'] }, ana);
        const t = await store.createTask({ title: 't', policy: { max_failures: 2 } }, ana);
        f.clock.advance(5);
        const e = await store.editTask(
          t.id,
          {
            title: 'new',
            priority: 3,
            assignee: 'p1',
            policy: { stall_timeout: 5000 },
            clear_policy: ['max_failures'],
          },
          ana,
        );
        expect(e).toMatchObject({
          title: 'new',
          priority: 3,
          assignee: 'p1',
          status: 'ready',
          policy: { stall_timeout: 5000 },
        });
        expect(e.updated_at).toBe(t.updated_at + 5);
        const [edited] = await store.listEvents({ task_id: t.id, kinds: ['task_edited'] });
        expect(edited?.payload).toMatchObject({
          title: { from: 't', to: 'new' },
          priority: { from: 0, to: 3 },
        });
        // An edit that changes nothing writes nothing.
        await store.editTask(t.id, { title: 'new' }, ana);
        expect(await store.listEvents({ task_id: t.id, kinds: ['task_edited'] })).toHaveLength(1);
        await refused(store.editTask(t.id, { assignee: 'typo' }, ana), ErrorCode.not_found);
      });

      it('returns the open task with the same idempotency key instead of a duplicate', async () => {
        const a = await store.createTask({ title: 'a', idempotency_key: 'k1' }, ana);
        const again = await store.createTask({ title: 'other title', idempotency_key: 'k1' }, ana);
        expect(again.id).toBe(a.id);
        await store.moveTask(a.id, { verb: 'done' }, ana);
        const fresh = await store.createTask({ title: 'a', idempotency_key: 'k1' }, ana);
        expect(fresh.id).not.toBe(a.id);
      });

      it('keeps comments in order with their actor', async () => {
        const t = await store.createTask({ title: 't' }, ana);
        await store.addComment(t.id, 'first', ana);
        await store.addComment(t.id, 'second', person('bo'));
        const comments = await store.listComments(t.id);
        expect(comments.map((c) => [c.body, c.actor])).toEqual([
          ['first', 'person:ana'],
          ['second', 'person:bo'],
        ]);
        await refused(store.addComment(t.id, '   ', ana), ErrorCode.invalid);
        await refused(store.addComment(999, 'x', ana), ErrorCode.not_found);
      });
    });

    describe('links and moves', () => {
      it('promotes children when their last parent is done, naming the parent', async () => {
        const a = await store.createTask({ title: 'a' }, ana);
        const b = await store.createTask({ title: 'b' }, ana);
        const c = await store.createTask({ title: 'c', parents: [a.id, b.id] }, ana);
        await store.moveTask(a.id, { verb: 'done', summary: 'did a', metadata: { n: 1 } }, ana);
        expect((await store.getTask(c.id)).status).toBe('todo');
        const doneB = await store.moveTask(b.id, { verb: 'done' }, ana);
        expect(doneB.status).toBe('done');
        expect((await store.getTask(a.id)).result).toEqual({
          summary: 'did a',
          metadata: { n: 1 },
        });
        expect((await store.getTask(c.id)).status).toBe('ready');
        const [promoted] = await store.listEvents({ task_id: c.id, kinds: ['task_promoted'] });
        expect(promoted?.payload).toEqual({ from: 'todo', to: 'ready', finished_parent: b.id });
      });

      it('demotes a ready child linked to a parent that is not done', async () => {
        const a = await store.createTask({ title: 'a' }, ana);
        const b = await store.createTask({ title: 'b' }, ana);
        const linked = await store.linkTasks(a.id, b.id, ana);
        expect(linked).toMatchObject({ status: 'todo', parents: [a.id] });
        // Linking again is a no-op.
        await store.linkTasks(a.id, b.id, ana);
        expect(await store.listEvents({ task_id: b.id, kinds: ['task_linked'] })).toHaveLength(1);
        const done = await store.createTask({ title: 'd' }, ana);
        await store.moveTask(done.id, { verb: 'done' }, ana);
        const c = await store.createTask({ title: 'c' }, ana);
        expect((await store.linkTasks(done.id, c.id, ana)).status).toBe('ready');
      });

      it('refuses an archived parent, and sends ready children back when a done parent is retried', async () => {
        const a = await store.createTask({ title: 'a' }, ana);
        const b = await store.createTask({ title: 'b', parents: [a.id] }, ana);
        await store.moveTask(a.id, { verb: 'done' }, ana);
        expect((await store.getTask(b.id)).status).toBe('ready');
        await store.moveTask(a.id, { verb: 'retry' }, ana);
        expect((await store.getTask(b.id)).status).toBe('todo');
        const old = await store.createTask({ title: 'old' }, ana);
        await store.moveTask(old.id, { verb: 'archive' }, ana);
        await refused(store.linkTasks(old.id, b.id, ana), ErrorCode.conflict, /archived/);
        await refused(
          store.createTask({ title: 'c', parents: [old.id] }, ana),
          ErrorCode.conflict,
          /archived/,
        );
      });

      it('refuses self-links, cycles and links across boards, changing nothing', async () => {
        await store.addBoard('ops', ana);
        const a = await store.createTask({ title: 'a' }, ana);
        const b = await store.createTask({ title: 'b', parents: [a.id] }, ana);
        const c = await store.createTask({ title: 'c', parents: [b.id] }, ana);
        const o = await store.createTask({ title: 'o', board: 'ops' }, ana);
        const before = await everything();
        await refused(store.linkTasks(a.id, a.id, ana), ErrorCode.invalid, /its own parent/);
        await refused(store.linkTasks(c.id, a.id, ana), ErrorCode.conflict, /cycle/);
        await refused(store.linkTasks(a.id, o.id, ana), ErrorCode.conflict, /different boards/);
        await refused(store.linkTasks(a.id, 999, ana), ErrorCode.not_found);
        expect(await everything()).toEqual(before);
      });

      it('blocks with a reason and kind; unblock and retry reset the failure counts', async () => {
        const t = await store.createTask({ title: 't' }, ana);
        const blocked = await store.moveTask(
          t.id,
          { verb: 'block', reason: 'need a key', kind: 'needs_input' },
          ana,
        );
        expect(blocked).toMatchObject({
          status: 'blocked',
          block_reason: 'need a key',
          block_kind: 'needs_input',
        });
        const unblocked = await store.moveTask(t.id, { verb: 'unblock' }, ana);
        expect(unblocked).toMatchObject({ status: 'ready', block_reason: null, block_kind: null });
        await store.moveTask(t.id, { verb: 'done', summary: 's' }, ana);
        const retried = await store.moveTask(t.id, { verb: 'retry' }, ana);
        expect(retried).toMatchObject({ status: 'ready', result: null });
        const kinds = (await store.listEvents({ task_id: t.id })).map((e) => e.kind);
        expect(kinds).toEqual([
          'task_created',
          'task_blocked',
          'task_unblocked',
          'task_done',
          'task_retried',
        ]);
      });

      it('accepts from triage, reopens nothing that is not in review, archives', async () => {
        const t = await store.createTask({ title: 't', triage: true }, ana);
        expect((await store.moveTask(t.id, { verb: 'accept' }, ana)).status).toBe('ready');
        await refused(
          store.moveTask(t.id, { verb: 'reopen' }, ana),
          ErrorCode.illegal_state,
          /review/,
        );
        expect((await store.moveTask(t.id, { verb: 'archive' }, ana)).status).toBe('archived');
        await refused(store.moveTask(t.id, { verb: 'retry' }, ana), ErrorCode.illegal_state);
        await refused(
          store.editTask(t.id, { title: 'x' }, ana),
          ErrorCode.illegal_state,
          /archived/,
        );
      });

      it('refuses a move the table forbids, or by an actor it does not allow, changing nothing', async () => {
        const t = await store.createTask({ title: 't' }, ana);
        await store.moveTask(t.id, { verb: 'done' }, ana);
        const before = await everything();
        await refused(
          store.moveTask(t.id, { verb: 'unblock' }, ana),
          ErrorCode.illegal_state,
          /blocked/,
        );
        await refused(store.moveTask(t.id, { verb: 'done' }, ana), ErrorCode.illegal_state);
        const r = await store.createTask({ title: 'r' }, ana);
        const mid = await everything();
        await refused(
          store.moveTask(r.id, { verb: 'archive' }, dispatcher('h1')),
          ErrorCode.illegal_state,
        );
        expect(await everything()).toEqual(mid);
        expect((before as { tasks: unknown[] }).tasks.length + 1).toBe(
          (mid as { tasks: unknown[] }).tasks.length,
        );
      });

      it('refuses an empty block reason and oversized results', async () => {
        const t = await store.createTask({ title: 't' }, ana);
        await refused(
          store.moveTask(t.id, { verb: 'block', reason: ' ', kind: 'transient' }, ana),
          ErrorCode.invalid,
        );
        await refused(
          store.moveTask(t.id, { verb: 'done', summary: 'x'.repeat(17 * 1024) }, ana),
          ErrorCode.invalid,
          /summary/,
        );
        expect((await store.getTask(t.id)).status).toBe('ready');
      });
    });

    describe('profiles', () => {
      it('adds with defaults, edits with a new version, and keeps history', async () => {
        const p = await store.addProfile(
          'coder',
          { argv: ['agent', '--fast'], env: { A: '1' } },
          ana,
        );
        expect(p).toMatchObject({
          name: 'coder',
          version: 1,
          argv: ['agent', '--fast'],
          env: { A: '1' },
          cwd: 'workspace',
          max_concurrency: null,
          concurrency_group: null,
          policy: {},
          paused: false,
        });
        const e = await store.editProfile(
          'coder',
          {
            env: { B: '2' },
            unset_env: ['A'],
            max_concurrency: 3,
            policy: { stall_timeout: 9000 },
          },
          ana,
        );
        expect(e).toMatchObject({
          version: 2,
          env: { B: '2' },
          max_concurrency: 3,
          policy: { stall_timeout: 9000 },
        });
        const same = await store.editProfile('coder', { max_concurrency: 3 }, ana);
        expect(same.version).toBe(2);
        const cleared = await store.editProfile(
          'coder',
          { max_concurrency: null, clear_policy: ['stall_timeout'] },
          ana,
        );
        expect(cleared).toMatchObject({ version: 3, max_concurrency: null, policy: {} });
        const kinds = (await store.listEvents({ kinds: ['profile_added', 'profile_edited'] })).map(
          (ev) => ev.payload.version,
        );
        expect(kinds).toEqual([1, 2, 3]);
        await refused(
          store.addProfile('coder', { argv: ['x'] }, ana),
          ErrorCode.conflict,
          /profile edit coder/,
        );
        await refused(store.editProfile('nope', { argv: ['x'] }, ana), ErrorCode.not_found);
      });

      it("keeps a profile's env values out of its events, old ones included (SPEC §9)", async () => {
        await store.addProfile('coder', { argv: ['x'], env: { API_KEY: 'sk-secret-1' } }, ana);
        // What an event written before the values were left out holds.
        await f.db.run(
          "INSERT INTO events (board, task_id, run_id, actor, kind, payload, at) VALUES (NULL, NULL, NULL, 'person:ana', 'profile_added', ?, 1)",
          [JSON.stringify({ profile: 'old', version: 1, spec: { env: { TOKEN: 'sk-secret-2' } } })],
        );
        const events = await store.listEvents({ kinds: ['profile_added'] });
        expect(JSON.stringify(events)).not.toMatch(/sk-secret/);
        expect(events.map((e) => (e.payload.spec as { env: unknown }).env)).toEqual([
          { API_KEY: '(hidden)' },
          { TOKEN: '(hidden)' },
        ]);
        // The profile itself keeps them: its workers need them.
        expect((await store.getProfile('coder')).env).toEqual({ API_KEY: 'sk-secret-1' });
      });

      it('refuses to remove a profile open tasks use, and removes it once they are closed', async () => {
        await store.addProfile('coder', { argv: ['x'] }, ana);
        const t = await store.createTask({ title: 't', assignee: 'coder' }, ana);
        const before = await everything();
        await refused(
          store.removeProfile('coder', ana),
          ErrorCode.conflict,
          new RegExp(`open tasks \\(${t.id}\\)`),
        );
        expect(await everything()).toEqual(before);
        await store.moveTask(t.id, { verb: 'archive' }, ana);
        await store.removeProfile('coder', ana);
        await refused(store.getProfile('coder'), ErrorCode.not_found);
        // The name can come back; its version carries on from the history.
        expect((await store.addProfile('coder', { argv: ['y'] }, ana)).version).toBe(2);
      });

      it('pauses and resumes with a reason and events', async () => {
        await store.addProfile('coder', { argv: ['x'] }, ana);
        const paused = await store.setProfilePaused('coder', true, 'broken key', ana);
        expect(paused).toMatchObject({ paused: true, paused_reason: 'broken key' });
        expect((await store.setProfilePaused('coder', false, null, ana)).paused).toBe(false);
        const kinds = (
          await store.listEvents({ kinds: ['profile_paused', 'profile_resumed'] })
        ).map((e) => e.kind);
        expect(kinds).toEqual(['profile_paused', 'profile_resumed']);
      });
    });

    describe('board view, pauses and logins', () => {
      it('searches by id, title or assignee, pages, and counts per status', async () => {
        await store.addProfile('coder', { argv: ['x'] }, ana);
        const a = await store.createTask({ title: 'Fix the Login page', assignee: 'coder' }, ana);
        const b = await store.createTask({ title: 'Write docs' }, ana);
        await store.createTask({ title: 'Another login bug' }, ana);
        await store.moveTask(b.id, { verb: 'done' }, ana);
        expect(
          (await store.listTasks({ board: 'default', q: 'login' })).map((t) => t.title),
        ).toEqual(['Fix the Login page', 'Another login bug']);
        expect(
          (await store.listTasks({ board: 'default', q: `#${b.id}` })).map((t) => t.id),
        ).toEqual([b.id]);
        expect((await store.listTasks({ board: 'default', q: 'coder' })).map((t) => t.id)).toEqual([
          a.id,
        ]);
        expect((await store.listTasks({ board: 'default', q: '100%' })).length).toBe(0);
        expect(
          (await store.listTasks({ board: 'default', limit: 1, offset: 1 })).map((t) => t.title),
        ).toEqual(['Write docs']);
        expect(await store.countTasks('default')).toEqual({ ready: 2, done: 1 });
        expect(await store.countTasks('default', 'login')).toEqual({ ready: 2 });
        // `%`, `_` and `\` are themselves, not LIKE's wildcards: a trial's `%` matched every task.
        const odd = await store.createTask({ title: 'Cut 50% of snake_case\\paths' }, ana);
        for (const q of ['%', '_', '50%', 'e_c', '\\p', '%_\\']) {
          const found = (await store.listTasks({ board: 'default', q })).map((t) => t.id);
          expect(found, q).toEqual(q === '%_\\' ? [] : [odd.id]);
        }
      });

      it('reads a board in columns: every status counted, the first of each shown column in order, with links', async () => {
        const shown = ['ready', 'done'] as const;
        const low = await store.createTask({ title: 'low login', priority: 0 }, ana);
        const high = await store.createTask({ title: 'high login', priority: 5 }, ana);
        const child = await store.createTask({ title: 'child', parents: [high.id] }, ana);
        const old = await store.createTask({ title: 'old login' }, ana);
        await store.moveTask(old.id, { verb: 'archive' }, ana);
        const done = await store.createTask({ title: 'done login' }, ana);
        await store.moveTask(done.id, { verb: 'done' }, ana);
        const all = await store.boardColumns({ board: 'default', limit: 50, shown });
        expect(all.counts).toEqual({ ready: 2, todo: 1, archived: 1, done: 1 });
        expect(Object.keys(all.columns).sort()).toEqual(['done', 'ready']);
        expect(all.columns.ready?.map((t) => t.id)).toEqual([high.id, low.id]);
        expect(all.columns.ready?.[0]?.children).toEqual([child.id]);
        expect(all.columns.done?.map((t) => t.id)).toEqual([done.id]);
        const first = await store.boardColumns({ board: 'default', limit: 1, shown });
        expect(first.columns.ready?.map((t) => t.id)).toEqual([high.id]);

        const found = await store.boardColumns({ board: 'default', q: 'LOGIN', limit: 1, shown });
        expect(found.counts).toEqual({ ready: 2, archived: 1, done: 1 });
        expect(found.columns).toEqual({
          ready: [await store.getTask(high.id)],
          done: [await store.getTask(done.id)],
        });
        const none = await store.boardColumns({ board: 'default', q: 'login', limit: 0, shown });
        expect(none.counts).toEqual(found.counts);
        expect(none.columns).toEqual({ ready: [], done: [] });
        const byId = await store.boardColumns({
          board: 'default',
          q: `#${child.id}`,
          limit: 5,
          shown: [],
        });
        expect(byId).toEqual({ counts: { todo: 1 }, columns: {} });
      });

      it('pauses and resumes a board with events', async () => {
        expect((await store.setBoardPaused('default', true, ana)).paused).toBe(true);
        expect((await store.setBoardPaused('default', false, ana)).paused).toBe(false);
        expect(
          (await store.listEvents({ board: 'default', kinds: ['board_paused', 'board_resumed'] }))
            .length,
        ).toBe(2);
      });

      it('exchanges a login code once, before it expires, for a session', async () => {
        const t = await store.addToken({ name: 'ana', kind: 'admin', hash: 'h1' }, ana);
        await store.createLoginCode(t.id, 'code1', 60_000);
        expect((await store.exchangeLoginCode('code1', 'sess1', 3_600_000)).name).toBe('ana');
        await refused(
          store.exchangeLoginCode('code1', 'sess2', 3_600_000),
          ErrorCode.unauthorized,
          /already used/,
        );
        await refused(
          store.exchangeLoginCode('nope', 'sess3', 3_600_000),
          ErrorCode.unauthorized,
          /not valid/,
        );
        await store.createLoginCode(t.id, 'code2', 1000);
        f.clock.advance(2000);
        await refused(
          store.exchangeLoginCode('code2', 'sess4', 3_600_000),
          ErrorCode.unauthorized,
          /expired/,
        );
        expect((await store.findSession('sess1'))?.name).toBe('ana');
        expect(await store.findSession('sess2')).toBeNull();
        await store.endSession('sess1');
        expect(await store.findSession('sess1')).toBeNull();
      });
    });

    describe('events, tokens and stats', () => {
      it('lists events after a cursor, by board and by kind, with actor and time', async () => {
        await store.addBoard('ops', ana);
        const t = await store.createTask({ title: 't' }, ana);
        f.clock.advance(10);
        await store.createTask({ title: 'o', board: 'ops' }, person('bo'));
        const all = await store.listEvents({});
        const ids = all.map((e) => e.id);
        expect([...ids].sort((x, y) => x - y)).toEqual(ids);
        const cursor = all.find((e) => e.task_id === t.id)?.id ?? 0;
        // A cursor waits for older transactions on the server, other test files' included.
        await settled(f.db);
        const after = await store.listEvents({ after_id: cursor });
        expect(after.map((e) => e.payload.title)).toEqual(['o']);
        expect(after[0]).toMatchObject({
          actor: 'person:bo',
          board: 'ops',
          kind: 'task_created',
          at: f.clock.now(),
        });
        expect((await store.listEvents({ board: 'ops' })).map((e) => e.kind)).toEqual([
          'board_added',
          'task_created',
        ]);
        expect(await store.listEvents({ limit: 2 })).toHaveLength(2);
        const newest = await store.listEvents({ limit: 2, newest: true });
        expect(newest.map((e) => e.id)).toEqual(ids.slice(-2));
        await store.addProfile('p', { argv: ['x'] }, ana);
        const withGlobal = await store.listEvents({ board: 'ops', include_global: true });
        expect(withGlobal.map((e) => e.kind)).toEqual([
          'board_added',
          'task_created',
          'profile_added',
        ]);
      });

      it('finds a token by its hash only', async () => {
        await store.addToken({ name: 'ana', kind: 'admin', hash: 'h1' }, ana);
        expect(await store.findToken('h1')).toMatchObject({
          name: 'ana',
          kind: 'admin',
          profiles: [],
        });
        expect(await store.findToken('h2')).toBeNull();
      });

      it('counts tasks by status', async () => {
        await store.createTask({ title: 'a' }, ana);
        const b = await store.createTask({ title: 'b' }, ana);
        await store.moveTask(b.id, { verb: 'done' }, ana);
        const s = await store.boardStats('default');
        expect(s.tasks).toMatchObject({ ready: 1, done: 1, running: 0 });
        expect(s.runs).toEqual({ running: 0, ending: 0, ended: 0 });
        expect(s.events).toBeGreaterThanOrEqual(4);
        await refused(store.boardStats('nope'), ErrorCode.not_found);
      });

      it('reads the statuses of tasks by id in one call, leaving out ids that do not exist', async () => {
        const a = await store.createTask({ title: 'a' }, ana);
        const b = await store.createTask({ title: 'b' }, ana);
        await store.moveTask(b.id, { verb: 'done' }, ana);
        expect(await store.taskStatuses([a.id, b.id, 999_999])).toEqual({
          [a.id]: 'ready',
          [b.id]: 'done',
        });
        expect(await store.taskStatuses([])).toEqual({});
      });

      it('counts a board’s running tasks by assignee, each exactly', async () => {
        await store.addProfile('p', { argv: ['true'] }, ana);
        await store.addProfile('q', { argv: ['true'] }, ana);
        await store.addBoard('other', ana);
        for (const [assignee, board] of [
          ['p', 'default'],
          ['p', 'default'],
          ['q', 'default'],
          ['q', 'other'],
          ['p', 'default'],
        ] as const)
          await store.createTask({ title: 't', assignee, board }, ana);
        expect(await store.runningByAssignee('default')).toEqual({});
        // Four claimed: two of p's and q's of the default board, and q's of the other.
        const claims = await store.claimRuns(
          { host: 'h1', maxWorkers: 4, limit: 4, mode: 'spawned' },
          '/ws',
        );
        expect(claims).toHaveLength(4);
        expect(await store.runningByAssignee('default')).toEqual({ p: 2, q: 1 });
        expect(await store.runningByAssignee('other')).toEqual({ q: 1 });
        expect(await store.runningByAssignee('nope')).toEqual({});
      });

      it('lists the runs of a task (none before a dispatcher starts one)', async () => {
        const t = await store.createTask({ title: 't' }, ana);
        expect(await store.listRuns(t.id)).toEqual([]);
        await refused(store.listRuns(999), ErrorCode.not_found);
      });

      it('knows its schema version', async () => {
        expect(await store.schemaVersion()).toBeGreaterThanOrEqual(1);
      });
    });
  });
}
