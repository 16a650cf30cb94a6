/*
 * Where a search finds its words on PostgreSQL (issue #16, migration 20): task_search, every
 * task's lower-cased title and assignee kept by a trigger, under pg_trgm's trigram indexes where
 * the extension can be had; where it cannot, warden still opens and searches, reading every
 * title. The second case needs a database of its own (a role that may not create
 * the extension), made and dropped here.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const ana = person('ana');
const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function admin(database?: string): Promise<pg.Client> {
  const url = new URL(PG_URL ?? '');
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  closing.push(() => client.end());
  return client;
}

describe.skipIf(!PG_URL)('where a search finds its words (PostgreSQL)', () => {
  it("keeps every task's words in task_search, where a search finds them through the index", async () => {
    const schema = freshPgSchema();
    const store = await openPgStore({ url: PG_URL ?? '', schema }, new ManualClock());
    closing.push(() => store.close());
    await store.addBoard('default', ana);
    await store.addProfile('Coder', { argv: ['true'] }, ana);
    const tasks = [];
    for (let i = 0; i < 20; i++)
      tasks.push(
        await store.createTask({ title: i % 5 === 0 ? `Fix the Login ${i}` : `other ${i}` }, ana),
      );
    const [first, second] = tasks;
    await store.editTask(first?.id ?? 0, { title: 'Write the NOTES' }, ana);
    await store.editTask(second?.id ?? 0, { assignee: 'Coder' }, ana);
    await store.moveTask(
      second?.id ?? 0,
      { verb: 'block', reason: 'why', kind: 'needs_input' },
      ana,
    );

    const kept = await store.pg.all<{ task_id: number; title: string; assignee: string }>(
      'SELECT task_id, title, assignee FROM task_search WHERE task_id IN (?, ?) ORDER BY task_id',
      [first?.id ?? 0, second?.id ?? 0],
    );
    expect(kept).toEqual([
      { task_id: first?.id, title: 'write the notes', assignee: '' },
      { task_id: second?.id, title: 'other 1', assignee: 'coder' },
    ]);
    expect(await store.countTasks('default', 'login')).toEqual({ ready: 3 });
    expect(await store.countTasks('default', 'notes')).toEqual({ ready: 1 });
    expect(await store.countTasks('default', 'CODER')).toEqual({ blocked: 1 });
    expect(await store.countTasks('default', `#${tasks[7]?.id ?? 0}`)).toEqual({ ready: 1 });

    // A table this small is read whole unless that is priced out; what matters here is that
    // the indexes exist and fit the search (the scale benchmark shows the plan a large board
    // gets).
    const client = await admin();
    await client.query(`SET search_path = ${schema}`);
    await client.query('SET enable_seqscan = off');
    const plan = await client.query<{ 'QUERY PLAN': string }>(
      "EXPLAIN SELECT task_id FROM task_search WHERE title LIKE '%login%' OR assignee LIKE '%login%'",
    );
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('Bitmap Index Scan on task_search_title');
    expect(text).toContain('Bitmap Index Scan on task_search_assignee');
  });

  it('finds a word in more than a thousand titles or names by reading the board, and in fewer by id', async () => {
    const store = await openPgStore(
      { url: PG_URL ?? '', schema: freshPgSchema() },
      new ManualClock(),
    );
    closing.push(() => store.close());
    await store.addBoard('default', ana);
    // Straight through SQL, as a person's thousand tasks would take seconds; the trigger keeps
    // task_search all the same.
    await store.pg.run(
      `INSERT INTO tasks (board, title, body, priority, status, created_by, created_at, updated_at)
       SELECT 'default', CASE WHEN i % 100 = 0 THEN 'A RARE one ' ELSE 'A Common one ' END || i,
              '', i % 3, 'ready', 'person:ana', 0, 0
       FROM generate_series(1, 1500) AS i`,
    );
    await store.pg.run(
      `INSERT INTO tasks (board, title, body, assignee, priority, status, created_by, created_at, updated_at)
       SELECT 'default', 'Another ' || i, '', 'TeamLead', 0, 'todo', 'person:ana', 0, 0
       FROM generate_series(1, 1100) AS i`,
    );
    expect(await store.countTasks('default', 'teamlead')).toEqual({ todo: 1100 });
    expect(await store.countTasks('default', 'common')).toEqual({ ready: 1485 });
    expect(await store.countTasks('default', 'rare')).toEqual({ ready: 15 });
    const first = await store.listTasks({ board: 'default', q: 'COMMON', limit: 3 });
    expect(first.map((t) => [t.priority, t.title])).toEqual([
      [2, 'A Common one 2'],
      [2, 'A Common one 5'],
      [2, 'A Common one 8'],
    ]);
    const rare = await store.listTasks({ board: 'default', q: 'Rare', limit: 2 });
    expect(rare.map((t) => t.title)).toEqual(['A RARE one 200', 'A RARE one 500']);
    const board = await store.boardColumns({
      board: 'default',
      q: 'common',
      limit: 2,
      shown: ['ready'],
    });
    expect(board.counts).toEqual({ ready: 1485 });
    expect(board.columns.ready?.map((t) => t.title)).toEqual(['A Common one 2', 'A Common one 5']);

    // A common word is counted over task_search joined to the tasks: each by its status as it
    // is now, on its board as it is now, and by its title as it is now.
    await store.addBoard('other', ana);
    await store.pg.run("UPDATE tasks SET status = 'done' WHERE title LIKE 'A Common one 1__'");
    await store.pg.run("UPDATE tasks SET board = 'other' WHERE title LIKE 'A Common one 2__'");
    await store.pg.run("UPDATE tasks SET title = 'Renamed' WHERE title LIKE 'A Common one 3__'");
    expect(await store.countTasks('default', 'common')).toEqual({ ready: 1188, done: 99 });
    expect(await store.countTasks('other', 'common')).toEqual({ ready: 99 });
    const moved = await store.boardColumns({
      board: 'default',
      q: 'common',
      limit: 1,
      shown: ['done'],
    });
    expect(moved.counts).toEqual({ ready: 1188, done: 99 });
    expect(moved.columns.done?.map((t) => t.title)).toEqual(['A Common one 101']);
  });

  it('opens and searches without them where the extension cannot be made', async () => {
    const suffix = randomBytes(4).toString('hex');
    const database = `warden_test_noext_${suffix}`;
    const role = `warden_test_noext_${suffix}`;
    const server = await admin();
    await server.query(`CREATE DATABASE ${database}`);
    await server.query(`CREATE ROLE ${role} LOGIN`);
    closing.push(async () => {
      await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await server.query(`DROP ROLE IF EXISTS ${role}`);
    });
    // The role may make schemas, but not in warden_ext, which another role already holds.
    const db = await admin(database);
    await db.query(`GRANT CREATE ON DATABASE ${database} TO ${role}`);
    await db.query('CREATE SCHEMA warden_ext');
    const url = new URL(PG_URL ?? '');
    url.username = role;
    url.password = '';
    url.pathname = `/${database}`;

    const store = await openPgStore({ url: url.toString(), schema: 'agents' }, new ManualClock());
    closing.push(() => store.close());
    const indexes = await store.pg.all<{ name: string }>(
      "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'agents' AND tablename = 'task_search'",
    );
    expect(indexes).toEqual([{ name: 'task_search_pkey' }]);
    await store.addBoard('default', ana);
    await store.createTask({ title: 'Fix the Login page' }, ana);
    await store.createTask({ title: 'Write docs' }, ana);
    expect(await store.countTasks('default', 'login')).toEqual({ ready: 1 });
    expect((await store.listTasks({ board: 'default', q: 'LOGIN' })).map((t) => t.title)).toEqual([
      'Fix the Login page',
    ]);
  });
});
