import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { SqlDb, SqlParam } from '../../src/store/sql/driver.js';
import { withEventBatch } from '../../src/store/sql/event-batch.js';
import { appendEvent } from '../../src/store/sql/events.js';

/** Statements on a real in-memory SQLite database, each one written down. */
function countingDb(db: Database.Database, sent: string[]): SqlDb {
  const note = (sql: string): string => {
    sent.push(sql.split(' ').slice(0, 3).join(' '));
    return sql;
  };
  return {
    dialect: 'sqlite',
    all: <T>(sql: string, params: readonly SqlParam[] = []) =>
      Promise.resolve(db.prepare(note(sql)).all(...params) as T[]),
    get: <T>(sql: string, params: readonly SqlParam[] = []) =>
      Promise.resolve(db.prepare(note(sql)).get(...params) as T | undefined),
    run: (sql: string, params: readonly SqlParam[] = []) =>
      Promise.resolve(db.prepare(note(sql)).run(...params).changes),
    defer: (sql: string, params: readonly SqlParam[] = []) =>
      Promise.resolve(void db.prepare(note(sql)).run(...params)),
    allLater: <T>(sql: string, params: readonly SqlParam[] = []) =>
      Promise.resolve({ rows: Promise.resolve(db.prepare(note(sql)).all(...params) as T[]) }),
    exec: (sql: string) => Promise.resolve(void db.exec(note(sql))),
  };
}

describe('the events a write transaction appends', () => {
  let raw: Database.Database;
  let sent: string[];
  let db: SqlDb;
  const ana = person('ana');
  const kinds = (): string[] =>
    (raw.prepare('SELECT kind FROM events ORDER BY id').all() as { kind: string }[]).map(
      (r) => r.kind,
    );

  beforeEach(() => {
    raw = new Database(':memory:');
    raw.exec(
      'CREATE TABLE events (id INTEGER PRIMARY KEY, board TEXT, task_id INTEGER, run_id INTEGER,' +
        ' actor TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, at INTEGER NOT NULL);' +
        'CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT)',
    );
    sent = [];
    db = countingDb(raw, sent);
  });
  afterEach(() => raw.close());

  it('are written in one INSERT at the end, in the order appended', async () => {
    await withEventBatch(db, async (tx) => {
      await appendEvent(tx, 1, ana, { kind: 'task_created', task_id: 1, payload: {} });
      await tx.run('INSERT INTO tasks (title) VALUES (?)', ['a']);
      await appendEvent(tx, 2, ana, { kind: 'task_edited', task_id: 1, payload: { to: 'x' } });
      await appendEvent(tx, 3, ana, { kind: 'run_started', task_id: 1, run_id: 7, payload: {} });
    });
    expect(sent).toEqual(['INSERT INTO tasks', 'INSERT INTO events']);
    expect(kinds()).toEqual(['task_created', 'task_edited', 'run_started']);
    const last = raw.prepare('SELECT * FROM events ORDER BY id DESC LIMIT 1').get();
    expect(last).toMatchObject({ actor: 'person:ana', run_id: 7, payload: '{}', at: 3 });
  });

  it('are written before a statement of the transaction that reads events, so it sees them', async () => {
    const seen = await withEventBatch(db, async (tx) => {
      await appendEvent(tx, 1, ana, { kind: 'task_created', task_id: 1, payload: {} });
      const rows = await tx.all<{ kind: string }>('SELECT kind FROM events');
      await appendEvent(tx, 2, ana, { kind: 'task_edited', task_id: 1, payload: {} });
      return rows.map((r) => r.kind);
    });
    expect(seen).toEqual(['task_created']);
    expect(sent).toEqual(['INSERT INTO events', 'SELECT kind FROM', 'INSERT INTO events']);
    expect(kinds()).toEqual(['task_created', 'task_edited']);
  });

  it('are not written when the body throws', async () => {
    await expect(
      withEventBatch(db, async (tx) => {
        await appendEvent(tx, 1, ana, { kind: 'task_created', task_id: 1, payload: {} });
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(kinds()).toEqual([]);
  });

  it('outside a batch, one is written at once', async () => {
    await appendEvent(db, 1, ana, { kind: 'task_created', task_id: 1, payload: {} });
    expect(kinds()).toEqual(['task_created']);
  });

  it('many are written a few hundred at a time', async () => {
    await withEventBatch(db, async (tx) => {
      for (let i = 0; i < 1_200; i++)
        await appendEvent(tx, i, ana, { kind: 'task_edited', task_id: 1, payload: { i } });
    });
    expect(sent.filter((s) => s === 'INSERT INTO events').length).toBe(3);
    expect(raw.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 1_200 });
  });
});
