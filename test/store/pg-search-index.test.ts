/*
 * The trigram indexes of a search on PostgreSQL (issue #16, migration 20): made where pg_trgm
 * can be had, and used for a search's count; where it cannot, warden still opens and searches,
 * reading the board. The second case needs a database of its own (a role that may not create
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

describe.skipIf(!PG_URL)("a search's trigram indexes (PostgreSQL)", () => {
  it('makes the two indexes, which a search can be answered through', async () => {
    const schema = freshPgSchema();
    const store = await openPgStore({ url: PG_URL ?? '', schema }, new ManualClock());
    closing.push(() => store.close());
    await store.addBoard('default', ana);
    for (let i = 0; i < 50; i++)
      await store.createTask({ title: i % 5 === 0 ? `Fix the Login ${i}` : `other ${i}` }, ana);
    expect(await store.countTasks('default', 'login')).toEqual({ ready: 10 });
    // A table this small is read whole, or through the board's index, unless both are priced
    // out; what matters here is that the indexes exist and fit the search's expressions (the
    // scale benchmark shows the plan a large board gets).
    const client = await admin();
    await client.query(`SET search_path = ${schema}`);
    await client.query('SET enable_seqscan = off');
    await client.query('SET enable_indexscan = off');
    const plan = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT COUNT(*) FROM tasks
       WHERE id = -1 OR LOWER(title) LIKE '%login%' OR LOWER(COALESCE(assignee, '')) LIKE '%login%'`,
    );
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('Bitmap Index Scan on tasks_title_trgm');
    expect(text).toContain('Bitmap Index Scan on tasks_assignee_trgm');
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
      "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'agents' AND indexname LIKE '%trgm%'",
    );
    expect(indexes).toEqual([]);
    await store.addBoard('default', ana);
    await store.createTask({ title: 'Fix the Login page' }, ana);
    await store.createTask({ title: 'Write docs' }, ana);
    expect(await store.countTasks('default', 'login')).toEqual({ ready: 1 });
    expect((await store.listTasks({ board: 'default', q: 'LOGIN' })).map((t) => t.title)).toEqual([
      'Fix the Login page',
    ]);
  });
});
