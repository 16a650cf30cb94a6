import type { Later, SqlDb, SqlParam } from './driver.js';
import { releaseSet } from './release-set.js';
import type { ReleaseRow } from './release-set.js';

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
 *
 * On PostgreSQL it also holds the runs that workers' reports close, with their tasks'
 * releases (./release-set.ts): written in one statement before any other statement of the
 * transaction (whatever it reads, it reads them written) or at its end.
 */
export class EventBatch implements SqlDb {
  private readonly held: SqlParam[][] = [];
  private readonly releases: ReleaseRow[] = [];
  private sent = 0;

  constructor(private readonly db: SqlDb) {}

  get dialect(): SqlDb['dialect'] {
    return this.db.dialect;
  }

  /** Holds one event row (values in `EVENT_COLUMNS` order). */
  async hold(row: SqlParam[]): Promise<void> {
    this.held.push(row);
    if (this.held.length >= MOST_HELD) await this.flush();
  }

  /** Holds a report's close of its run and its task's release. */
  holdRelease(row: ReleaseRow): void {
    this.releases.push(row);
  }

  /**
   * How many statements the transaction's bodies have sent through this batch so far (what it
   * holds and writes itself not counted): a body that saw none sent since it last looked knows
   * that nothing but held writes changed what it read before.
   */
  get statements(): number {
    return this.sent;
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

  async allLater<T>(sql: string, params?: readonly SqlParam[]): Promise<Later<T>> {
    await this.before(sql);
    return this.db.allLater<T>(sql, params);
  }

  async exec(sql: string): Promise<void> {
    this.sent++;
    await this.flush();
    return this.db.exec(sql);
  }

  /** Writes the held releases, then the held events. */
  async flush(): Promise<void> {
    await this.flushReleases();
    if (this.held.length === 0) return;
    const rows = this.held.splice(0);
    const values = rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
    // Nothing reads its answer: on PostgreSQL it goes with the statement or COMMIT after it.
    await this.db.defer(`INSERT INTO events ${EVENT_COLUMNS} VALUES ${values}`, rows.flat());
  }

  private async flushReleases(): Promise<void> {
    if (this.releases.length === 0) return;
    const { sql, params } = releaseSet(this.releases.splice(0));
    // Nothing reads its answer; a release that went wrong fails it on the server.
    await this.db.defer(sql, params);
  }

  private async before(sql: string): Promise<void> {
    this.sent++;
    await this.flushReleases();
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
