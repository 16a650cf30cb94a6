import Database from 'better-sqlite3';
import { SQLITE_DEFAULTS } from '../../core/defaults.js';
import type { SqlDb } from '../sql/driver.js';
import type { Sqlite } from './connect.js';

/**
 * Reads on a read-only connection of their own, for while the writer connection is busy with
 * a group (group-commit.ts): there a read would wait for the group's COMMIT before it could be
 * answered, and so would the request that made it. Here it sees what is committed, which is
 * everything anyone has been told is stored (nobody is answered before the COMMIT), and
 * nothing of the open group. One at a time, each a snapshot of its own, so a read that starts
 * after a write was acknowledged always sees it.
 */
export class SnapshotReads {
  private connection: { db: Sqlite; statements: SqlDb } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly wrap: (db: Sqlite) => SqlDb,
  ) {}

  /** Runs `fn` as one statement (`bare`) or in a deferred transaction, after the reads before it. */
  run<T>(bare: boolean, fn: (db: SqlDb) => Promise<T>): Promise<T> {
    const next = this.queue.then(() => {
      const { db, statements } = this.open();
      return bare ? fn(statements) : snapshot(db, statements, fn);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.closed = true;
    this.connection?.db.close();
    this.connection = null;
  }

  private open(): { db: Sqlite; statements: SqlDb } {
    // A read that was still queued when the store closed fails, as on the writer connection.
    if (this.closed) throw new TypeError('The database connection is not open');
    this.connection ??= (() => {
      const db = new Database(this.path, { readonly: true, fileMustExist: true });
      db.pragma(`busy_timeout = ${SQLITE_DEFAULTS.busy_timeout_ms}`);
      db.pragma('cell_size_check = ON');
      return { db, statements: this.wrap(db) };
    })();
    return this.connection;
  }
}

/** Runs `fn` in a deferred transaction on `db`: a snapshot for reads. */
export async function snapshot<T>(
  db: Sqlite,
  statements: SqlDb,
  fn: (db: SqlDb) => Promise<T>,
): Promise<T> {
  db.exec('BEGIN');
  try {
    const value = await fn(statements);
    db.exec('COMMIT');
    return value;
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
