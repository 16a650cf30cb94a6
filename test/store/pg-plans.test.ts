/*
 * Plans of the admission turn's statements on PostgreSQL (issue #16). A named statement is
 * planned for its parameters at each of its first five runs, and after that only when PostgreSQL
 * prices its generic plan above the plans it made for them: the claim's run-making statement
 * was planned again at every claim, 0.65 ms each while the fleet waited for the turn. The turn
 * keeps one plan per connection; counted in `pg_prepared_statements` of the store's one
 * connection.
 */
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

describe.skipIf(!PG_URL)("the admission turn's plans (PostgreSQL)", () => {
  it('plans the statement that makes a claim’s runs once, not at every claim', async () => {
    const store = await openPgStore(
      { url: PG_URL ?? '', schema: freshPgSchema(), max: 1 },
      new ManualClock(),
    );
    closing.push(() => store.close());
    await store.addBoard('default', ana);
    await store.addProfile('p', { argv: ['true'], mode: 'spawned' }, ana);
    const claims = 12;
    for (let i = 0; i < claims; i++) await store.createTask({ title: `t${i}`, assignee: 'p' }, ana);
    for (let i = 0; i < claims; i++) {
      const made = await store.claimRuns(
        { host: `h${i}`, maxWorkers: 1, limit: 1, mode: 'spawned', noLook: true },
        '/ws',
      );
      expect(made).toHaveLength(1);
    }

    // One connection: the store's statements are all prepared on it.
    const plans = await store.pg.all<{ generic: number; custom: number }>(
      `SELECT generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements
       WHERE statement LIKE '%INSERT INTO runs%' AND statement NOT LIKE '%pg_prepared_statements%'`,
    );
    expect(plans).toHaveLength(1);
    const [making] = plans;
    expect(Number(making?.custom)).toBe(0);
    expect(Number(making?.generic)).toBe(claims);
  });
});

describe.skipIf(!PG_URL)('the plans of a search (PostgreSQL)', () => {
  it('prices a search by how many titles hold the word, so a common one is not taken for rare', async () => {
    const store = await openPgStore(
      { url: PG_URL ?? '', schema: freshPgSchema() },
      new ManualClock(),
    );
    closing.push(() => store.close());
    await store.addBoard('default', ana);
    const titles = ['fix the login test', 'write the notes', 'port the parser', 'tidy the docs'];
    for (let i = 0; i < 400; i++)
      await store.createTask({ title: `${titles[i % titles.length] ?? ''} ${i}` }, ana);
    // What autovacuum would do on its own as a board grows; a test cannot wait for it.
    await store.pg.run('ANALYZE tasks');
    const [plan] = await store.pg.all<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
      `EXPLAIN (FORMAT JSON) SELECT * FROM tasks WHERE board = 'default'
       AND (id = -1 OR LOWER(title) LIKE '%login%' OR LOWER(COALESCE(assignee, '')) LIKE '%login%')`,
    );
    // 100 of the 400 match; without statistics of LOWER(title) the estimate is 2.
    const estimate = plan?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? 0;
    expect(estimate).toBeGreaterThan(50);
    expect(estimate).toBeLessThan(200);
  });
});
