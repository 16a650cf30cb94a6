import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { parseTaskGraph } from '../../src/core/apply.js';
import { WardenError } from '../../src/core/errors.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');

const GRAPH = {
  name: 'release',
  tasks: [
    { name: 'ship', title: 'Ship it', after: ['build', 'docs'], assignee: 'p' },
    { name: 'build', title: 'Build it', after: ['design'], assignee: 'p', priority: 5 },
    { name: 'design', title: 'Design it', body: 'the API', assignee: 'p' },
    { name: 'docs', title: 'Write the docs', after: ['design'], policy: { max_failures: 5 } },
  ],
};

/** `warden apply`'s store half (`Store.applyGraph`): one transaction or nothing, on every backend. */
export function runApplySuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store applyGraph: ${name}`, () => {
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

    async function everything(): Promise<unknown> {
      return {
        tasks: await store.listTasks({ board: 'default', include_archived: true }),
        events: await store.listEvents({}),
      };
    }

    async function refusal(graph: unknown): Promise<WardenError> {
      const err = await store.applyGraph(parseTaskGraph(graph), ana).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WardenError);
      return err as WardenError;
    }

    it('creates the graph in dependency order, linked, and creates nothing the second time', async () => {
      const first = await store.applyGraph(parseTaskGraph(GRAPH), ana);
      expect(first).toMatchObject({ board: 'default', graph: 'release', created: 4, existing: 0 });
      expect(first.tasks.map((t) => [t.name, t.result, t.status])).toEqual([
        ['design', 'created', 'ready'],
        ['build', 'created', 'todo'],
        ['docs', 'created', 'todo'],
        ['ship', 'created', 'todo'],
      ]);
      const id = (n: string): number => first.tasks.find((t) => t.name === n)?.id ?? 0;
      const ship = await store.getTask(id('ship'));
      expect(ship.parents).toEqual([id('build'), id('docs')].sort((a, b) => a - b));
      expect(ship.idempotency_key).toBe('apply:release/ship');
      expect((await store.getTask(id('build'))).priority).toBe(5);
      expect((await store.getTask(id('docs'))).policy).toEqual({ max_failures: 5 });

      const before = await everything();
      const second = await store.applyGraph(parseTaskGraph(GRAPH), ana);
      expect(second).toMatchObject({ created: 0, existing: 4 });
      expect(second.tasks.map((t) => [t.name, t.id, t.result])).toEqual(
        first.tasks.map((t) => [t.name, t.id, 'exists']),
      );
      expect(await everything()).toEqual(before);
    });

    it('counts a done task as there, and creates again what was archived', async () => {
      const first = await store.applyGraph(parseTaskGraph(GRAPH), ana);
      const design = first.tasks[0]?.id ?? 0;
      await store.moveTask(design, { verb: 'done' }, ana);
      const again = await store.applyGraph(parseTaskGraph(GRAPH), ana);
      expect(again.tasks[0]).toMatchObject({ id: design, result: 'exists', status: 'done' });
      expect(again.created).toBe(0);
      for (const t of first.tasks)
        if (t.id !== design) await store.moveTask(t.id ?? 0, { verb: 'archive' }, ana);
      const third = await store.applyGraph(parseTaskGraph(GRAPH), ana);
      expect(third.tasks.map((t) => t.result)).toEqual(['exists', 'created', 'created', 'created']);
      // build's parent, design, is done: it is ready at once.
      expect(third.tasks[1]).toMatchObject({ name: 'build', status: 'ready' });
    });

    it('answers a dry run with what it would create, and changes nothing', async () => {
      const before = await everything();
      const dry = await store.applyGraph(parseTaskGraph(GRAPH), ana, { dryRun: true });
      expect(dry).toMatchObject({ dry_run: true, created: 4, existing: 0 });
      expect(dry.tasks.every((t) => t.id === null && t.result === 'created')).toBe(true);
      expect(await everything()).toEqual(before);
    });

    it('refuses the whole graph, naming the task, when one task cannot be created', async () => {
      await store.applyGraph(
        parseTaskGraph({ name: 'old', tasks: [{ name: 'a', title: 'A' }] }),
        ana,
      );
      const before = await everything();
      const unknownProfile = await refusal({
        tasks: [...GRAPH.tasks.slice(1), { name: 'ship', title: 'S', assignee: 'nobody' }],
      });
      expect(unknownProfile.code).toBe('invalid');
      expect(unknownProfile.message).toMatch(/^task 'ship': profile 'nobody' does not exist/);
      // A refusal late in the order, after earlier tasks were inserted, rolls them back too.
      const longTitle = await refusal({
        tasks: [
          ...GRAPH.tasks.slice(1),
          { name: 'ship', title: 'x'.repeat(201), after: ['build'] },
        ],
      });
      expect(longTitle.message).toMatch(/^task 'ship': title: must be at most 200 characters/);
      const missingParent = await refusal({
        tasks: [
          { name: 'a', title: 'A' },
          { name: 'b', title: 'B', after: ['a', 999_999] },
        ],
      });
      expect(missingParent.message).toMatch(/^task 'b': task 999999 does not exist/);
      const noBoard = await refusal({ board: 'nope', tasks: [{ name: 'a', title: 'A' }] });
      expect(noBoard.code).toBe('not_found');
      expect(await everything()).toEqual(before);
    });
  });
}
