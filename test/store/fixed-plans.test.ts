import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { withFixedPlans } from '../../src/store/sqlite/fixed-plans.js';

describe('SQLite placeholders written for fixed plans', () => {
  let db: Database.Database | null = null;
  afterEach(() => db?.close());

  it('writes ? as +? outside quoted strings and identifiers only', () => {
    expect(withFixedPlans("SELECT ? AS a, '?' AS b, \"x?\" AS c WHERE d = ? AND e = '??'")).toBe(
      "SELECT +? AS a, '?' AS b, \"x?\" AS c WHERE d = +? AND e = '??'",
    );
  });

  it('compares, limits and indexes as the plain placeholder does', () => {
    db = new Database(':memory:');
    db.exec(
      'CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, s TEXT, UNIQUE (n, id));' +
        "INSERT INTO t (n, s) VALUES (1, 'a'), (2, 'b'), (2, 'c'), (3, NULL);",
    );
    const sql = 'SELECT id FROM t WHERE n = ? AND (s IS NULL OR s <> ?) ORDER BY id LIMIT ?';
    const run = (text: string, ...args: unknown[]): unknown =>
      (db as Database.Database).prepare(text).all(...args);
    // A text '2' against an INTEGER column: the column's affinity applies either way.
    for (const args of [
      [2, 'x', 10],
      ['2', 'b', 10],
      [2, 'x', 1],
      [3, 'x', 5],
      [9, 'x', 5],
    ]) {
      expect(run(withFixedPlans(sql), ...args)).toEqual(run(sql, ...args));
    }
    const plan = (
      db.prepare(`EXPLAIN QUERY PLAN ${withFixedPlans(sql)}`).all(2, 'x', 1) as {
        detail: string;
      }[]
    ).map((r) => r.detail);
    expect(plan.join('\n')).toMatch(/USING (COVERING )?INDEX .*\(n=\?\)/);
  });
});
