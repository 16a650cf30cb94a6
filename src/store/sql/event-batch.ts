import type { SqlDb, SqlParam } from './driver.js';

/** The columns of an event row as `appendEvent` writes them, in order. */
export const EVENT_COLUMNS = '(board, task_id, run_id, actor, kind, payload, at)';

/** Statements that touch the events table: the held events are written before them. */
const TOUCHES_EVENTS = /\bevents\b/i;

/** Held events written at once, at most: a row has 7 parameters, well under every limit. */
const MOST_HELD = 500;

/**
 * A write transaction's statements, holding the events it appends (issue #16): a task's claim
 * or report appends up to three, each one round trip on PostgreSQL. They are written in one
 * `INSERT` (in the order appended, so their ids keep that order) when the transaction's body
 * has returned, before its COMMIT, or earlier, before any statement of it that names the
 * events table, so the transaction reads its own events as before. A body that throws writes
 * none of them: its transaction is rolled back anyway.
 */
export class EventBatch implements SqlDb {
  private readonly held: SqlParam[][] = [];

  constructor(private readonly db: SqlDb) {}

  get dialect(): SqlDb['dialect'] {
    return this.db.dialect;
  }

  /** Holds one event row (values in `EVENT_COLUMNS` order). */
  async hold(row: SqlParam[]): Promise<void> {
    this.held.push(row);
    if (this.held.length >= MOST_HELD) await this.flush();
  }

  async all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    await this.before(sql);
    return this.db.all<T>(sql, params);
  }

  async get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    await this.before(sql);
    return this.db.get<T>(sql, params);
  }

  async run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    await this.before(sql);
    return this.db.run(sql, params);
  }

  async defer(sql: string, params?: readonly SqlParam[]): Promise<void> {
    await this.before(sql);
    return this.db.defer(sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.flush();
    return this.db.exec(sql);
  }

  /** Writes the held events. */
  async flush(): Promise<void> {
    if (this.held.length === 0) return;
    const rows = this.held.splice(0);
    const values = rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
    // Nothing reads its answer: on PostgreSQL it goes with the statement or COMMIT after it.
    await this.db.defer(`INSERT INTO events ${EVENT_COLUMNS} VALUES ${values}`, rows.flat());
  }

  private async before(sql: string): Promise<void> {
    if (this.held.length > 0 && TOUCHES_EVENTS.test(sql)) await this.flush();
  }
}

/**
 * Runs a write transaction's body with its events held and written once, at its end; or, in
 * a transaction that already holds them (several bodies grouped in one on PostgreSQL), at
 * that one's end.
 */
export async function withEventBatch<T>(db: SqlDb, fn: (db: SqlDb) => Promise<T>): Promise<T> {
  if (db instanceof EventBatch) return fn(db);
  const batch = new EventBatch(db);
  const value = await fn(batch);
  await batch.flush();
  return value;
}
