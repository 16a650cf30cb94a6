import type { RemoteChange } from '../store.js';

/** How a write transaction runs. */
export interface TxOptions {
  /**
   * Take turns with every other transaction naming the same lock, across processes and hosts,
   * taken before the transaction's snapshot (PostgreSQL: `LOCK TABLE admission_lock` as the
   * transaction's first statement, held until it ends; SQLite's BEGIN IMMEDIATE already
   * serialises writers).
   */
  lock?: number;
  /**
   * The transaction locks every row it depends on before reading it (`SELECT ... FOR UPDATE`
   * on PostgreSQL) and its writes are conditional on what they replace, so it needs no
   * snapshot isolation: PostgreSQL runs it READ COMMITTED, and it waits for the rows it locks
   * instead of failing against every other writer of the same small table (a host's lease
   * renewal, issue #11), and takes no write turn. A migration counts as one: its advisory
   * lock guards all it depends on. SQLite's BEGIN IMMEDIATE already serialises writers.
   */
  rowLocked?: boolean;
}

/** A parameter of a statement. Statements are always parameterised (SPEC §9). */
export type SqlParam = string | number | null;

/** A statement sent whose rows come later (`SqlDb.allLater`): an object, so not a promise's value. */
export interface Later<T> {
  rows: Promise<T[]>;
}

/**
 * `later`'s rows as `fn` makes them. Their failure is the transaction's, which is retried whole
 * or thrown, so nobody may read them: like `allLater`'s own, it is never left unhandled (Node
 * would end the process, as a connection cut mid-claim once ended `serve`).
 */
export function mapLater<T, U>(later: Later<T>, fn: (rows: T[]) => U[]): Later<U> {
  const rows = later.rows.then(fn);
  rows.catch(() => undefined);
  return { rows };
}

/** Statements on a connection or inside a transaction. Placeholders are `?`. */
export interface SqlDb {
  readonly dialect: 'sqlite' | 'postgres';
  /** Every row the statement returns. */
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /**
   * Runs a write whose answer nobody reads. Inside a PostgreSQL transaction it is sent and not
   * waited for: it travels with the next statement or the COMMIT, one round trip for both, and
   * if it fails, that statement or the COMMIT fails with its error. Elsewhere it is `run`.
   */
  defer(sql: string, params?: readonly SqlParam[]): Promise<void>;
  /**
   * Sends a statement whose answer the transaction's body does not wait for; resolves once it
   * is sent, with its rows to come (`Later`). Inside a PostgreSQL transaction, what is sent
   * after it (the COMMIT too) goes without waiting for its answer. If it fails, the
   * transaction fails with its error, so a body that returns before reading its rows must
   * check on the server whatever would stop the commit (./exactly.ts). Elsewhere it is `all`.
   */
  allLater<T>(sql: string, params?: readonly SqlParam[]): Promise<Later<T>>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * What the shared SQL store needs from a database: statements, one write transaction at a
 * time, and the database's idea of now. Backend differences (locking, busy retries,
 * placeholders) live behind it.
 */
export interface SqlDriver extends SqlDb {
  /**
   * Runs `fn` in a short write transaction and commits, or rolls back if it throws. Busy
   * or serialisation failures are retried with jitter; `fn` must only touch the database.
   */
  tx<T>(fn: (db: SqlDb) => Promise<T>, options?: TxOptions): Promise<T>;
  /** Runs `fn` in a read-only transaction, so several reads see one snapshot. */
  read<T>(fn: (db: SqlDb) => Promise<T>): Promise<T>;
  /**
   * Statements that see only committed data and wait for no transaction of this process:
   * for one-statement reads on a hot path (SQLite: a read-only connection of their own;
   * PostgreSQL: the pool).
   */
  concurrentReads(): SqlDb;
  /** Closes the connection. Safe to call twice. */
  close(): Promise<void>;
  /**
   * Calls `onChange` soon after another connection commits a change, with what it may have
   * changed; returns a stop function.
   */
  watch(onChange: (change: RemoteChange) => void): () => void;
}

/** The larger of two SQL expressions: `MAX(a, b)` in SQLite, `GREATEST(a, b)` in PostgreSQL. */
export function greatest(db: SqlDb, a: string, b: string): string {
  return db.dialect === 'sqlite' ? `MAX(${a}, ${b})` : `GREATEST(${a}, ${b})`;
}
