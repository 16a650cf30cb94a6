import Database from 'better-sqlite3';
import { SQLITE_DEFAULTS } from '../../core/defaults.js';
import type { Later, SqlDb, SqlDriver, SqlParam, TxOptions } from '../sql/driver.js';
import { fromSqliteError } from '../storage-errors.js';
import type { RemoteChange } from '../store.js';
import { loadSqlite } from './connect.js';
import { withFixedPlans } from './fixed-plans.js';
import { GroupCommit } from './group-commit.js';
import type { GroupLimits } from './group-commit.js';
import { SnapshotReads } from './snapshot-reads.js';
import { WalSync } from './wal-sync.js';
import type { Sqlite } from './connect.js';

/** How often another process's commits are looked for. */
const WATCH_POLL_MS = 5;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Statements on one better-sqlite3 connection, wrapped as promises. */
/** Most prepared statements one connection keeps; past it the cache starts over. */
const STATEMENT_CACHE = 500;

class SqliteStatements implements SqlDb {
  readonly dialect = 'sqlite' as const;
  /** Statements prepared once per connection and reused: preparing costs more than running. */
  private readonly prepared = new Map<string, Database.Statement>();
  constructor(private readonly db: Sqlite) {}

  private prepare(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      if (this.prepared.size >= STATEMENT_CACHE) this.prepared.clear();
      statement = this.db.prepare(withFixedPlans(sql));
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return Promise.resolve(this.prepare(sql).all(...params) as T[]);
  }

  get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return Promise.resolve(this.prepare(sql).get(...params) as T | undefined);
  }

  run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return Promise.resolve(this.prepare(sql).run(...params).changes);
  }

  defer(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    this.prepare(sql).run(...params);
    return Promise.resolve();
  }

  allLater<T>(sql: string, params: readonly SqlParam[] = []): Promise<Later<T>> {
    return Promise.resolve({ rows: this.all<T>(sql, params) });
  }

  exec(sql: string): Promise<void> {
    this.db.exec(sql);
    return Promise.resolve();
  }
}

/** Runs `fn`, saying a storage failure in words (storage-errors.ts). */
async function guard<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromSqliteError(err, path) ?? err;
  }
}

/** Options for opening a SQLite database. */
export interface SqliteOptions {
  /** Refuse to create the file: every command but `init` opens an existing home. */
  mustExist: boolean;
  /**
   * A read-only connection to use instead of opening the file read-write: reading commands
   * (and every command on a read-only home) never write, and never checkpoint.
   */
  readOnly?: Sqlite;
  /** How long a statement waits on another process's lock. @default SQLITE_DEFAULTS.busy_timeout_ms */
  busyTimeoutMs?: number;
  /**
   * How many members a commit group takes and for how long (./group-commit.ts).
   * @default SQLITE_DEFAULTS.group_max_members and group_max_ms
   */
  groupLimits?: GroupLimits;
}

/**
 * The SQLite driver: WAL, short `BEGIN IMMEDIATE` transactions one at a time per process,
 * committed in groups that share one sync (group-commit.ts), nothing answered before its
 * group is on disk (nothing acknowledged is lost, SPEC P6), and a busy timeout plus jittered
 * retries against other processes that hold the write lock. The sync is an `fdatasync` of
 * the WAL after the COMMIT, off the event loop while other work arrives (wal-sync.ts,
 * `synchronous=NORMAL`); a database that cannot be in WAL mode syncs in its COMMIT
 * (`synchronous=FULL`).
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Sqlite;
  private readonly statements: SqliteStatements;
  private readonly groups: GroupCommit;
  private readonly snapshots: SnapshotReads;
  /** Syncs the WAL after commits, when the writer commits without syncing. */
  private readonly wal: WalSync | null = null;
  private closed = false;
  /** Who `watch` tells of other processes' commits, and the one timer that looks for them. */
  private readonly watchers = new Set<() => void>();
  private watchTimer: NodeJS.Timeout | null = null;
  /**
   * `PRAGMA data_version`, prepared once: `watch` runs it 200 times a second, and
   * better-sqlite3's `pragma()` prepares its statement anew at each call (7.6 µs against 1.2
   * on warden's schema in a loop, more run cold between polls; docs/benchmarks.md).
   */
  private dataVersionStatement: Database.Statement | null = null;
  /** Whether this connection only reads (a reading command, or a read-only home). */
  readonly readOnly: boolean;

  constructor(
    readonly path: string,
    options: SqliteOptions,
  ) {
    loadSqlite();
    this.readOnly = options.readOnly !== undefined;
    try {
      this.db = options.readOnly ?? new Database(path, { fileMustExist: options.mustExist });
      if (!this.readOnly) {
        const mode = this.db.pragma('journal_mode = WAL', { simple: true });
        if (mode === 'wal') {
          this.db.pragma('synchronous = NORMAL');
          this.wal = new WalSync(path);
        } else {
          this.db.pragma('synchronous = FULL');
        }
        // A group's members each run in a savepoint, whose undo copies of the pages they touch
        // would spill past 64 KiB into a file in /var/tmp, opened and written for most groups
        // (docs/architecture.md, src/store); in memory they cost a copy.
        this.db.pragma('temp_store = MEMORY');
      }
      this.db.pragma('foreign_keys = ON');
      // Pages are checked as they are read, so damage is reported rather than read as data.
      this.db.pragma('cell_size_check = ON');
      this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? SQLITE_DEFAULTS.busy_timeout_ms}`);
    } catch (err) {
      throw fromSqliteError(err, path) ?? err;
    }
    this.statements = new SqliteStatements(this.db);
    this.groups = new GroupCommit(
      this.db,
      this.statements,
      options.groupLimits ?? {
        maxMembers: SQLITE_DEFAULTS.group_max_members,
        maxMs: SQLITE_DEFAULTS.group_max_ms,
      },
      () => this.beginImmediate(),
      this.wal,
    );
    this.snapshots = new SnapshotReads(path, (db) => new SqliteStatements(db));
  }

  // Statements outside a transaction wait their turn, so they never read a half-done one; a
  // write outside a transaction is one of its own, and joins a group like any other.
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.reading(true, (db) => db.all<T>(sql, params));
  }

  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.reading(true, (db) => db.get<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    return this.queued(true, true, (db) => db.run(sql, params));
  }

  defer(sql: string, params?: readonly SqlParam[]): Promise<void> {
    return this.queued(true, true, (db) => db.defer(sql, params));
  }

  allLater<T>(sql: string, params?: readonly SqlParam[]): Promise<Later<T>> {
    return this.queued(true, true, (db) => db.allLater<T>(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.queued(true, true, (db) => db.exec(sql));
  }

  /**
   * A read: on the writer connection when it is free (no group open, nothing queued), else on
   * a read-only connection that sees what is committed, so it need not wait for the group's
   * COMMIT (snapshot-reads.ts).
   */
  private reading<T>(bare: boolean, fn: (db: SqlDb) => Promise<T>): Promise<T> {
    if (this.readOnly || this.groups.idle) return this.queued(false, bare, fn);
    return guard(this.path, () => this.synced(this.snapshots.run(bare, fn)));
  }

  /** A read made beside the writer, answered once what it may have seen is on disk. */
  private async synced<T>(read: Promise<T>): Promise<T> {
    const value = await read;
    await this.groups.durableSoFar();
    return value;
  }

  private queued<T>(write: boolean, bare: boolean, fn: (db: SqlDb) => Promise<T>): Promise<T> {
    // A full disk, a lock held too long or a damaged page is said in words (storage-errors.ts).
    return guard(this.path, () => this.groups.submit(write, bare, fn));
  }

  private reader: { db: Sqlite; statements: SqliteStatements } | null = null;

  /**
   * Statements on a read-only connection of their own: they see what is committed and wait
   * for no transaction of this process (the one connection runs them one at a time). For a
   * single-statement read on a hot path, such as the model proxy's admission of a request.
   */
  concurrentReads(): SqlDb {
    if (this.readOnly) return this;
    this.reader ??= (() => {
      const db = new Database(this.path, { readonly: true, fileMustExist: true });
      db.pragma(`busy_timeout = ${SQLITE_DEFAULTS.busy_timeout_ms}`);
      return { db, statements: new SqliteStatements(db) };
    })();
    const { statements } = this.reader;
    const path = this.path;
    return {
      dialect: 'sqlite',
      all: (sql, params) => guard(path, () => this.synced(statements.all(sql, params))),
      get: (sql, params) => guard(path, () => this.synced(statements.get(sql, params))),
      run: () => Promise.reject(new Error('concurrent reads do not write')),
      defer: () => Promise.reject(new Error('concurrent reads do not write')),
      allLater: () => Promise.reject(new Error('concurrent reads do not write')),
      exec: () => Promise.reject(new Error('concurrent reads do not write')),
    };
  }

  /** The raw connection, for backups and `PRAGMA data_version`. */
  get connection(): Sqlite {
    return this.db;
  }

  /**
   * Runs `fn` inside `BEGIN IMMEDIATE`, as a member of a group that shares one COMMIT (see
   * group-commit.ts); resolves once that COMMIT is on disk. Transactions of this process are
   * queued so two never interleave on the one connection; a busy lock held by another process
   * is retried.
   */
  tx<T>(fn: (db: SqlDb) => Promise<T>, _options?: TxOptions): Promise<T> {
    return this.queued(true, false, fn);
  }

  /**
   * A deferred transaction: a snapshot for reads that takes no write lock, on the read-only
   * connection while a group is open (see `reading`).
   */
  read<T>(fn: (db: SqlDb) => Promise<T>): Promise<T> {
    return this.reading(false, fn);
  }

  /** `BEGIN IMMEDIATE`, retried with jitter while another process holds the write lock. */
  private async beginImmediate(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.db.exec('BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if (!isBusy(err) || attempt >= SQLITE_DEFAULTS.busy_retries) throw err;
        await sleep((10 << Math.min(attempt, 6)) * (0.5 + Math.random()));
      }
    }
  }

  /**
   * Polls `PRAGMA data_version`, which changes when another connection commits: a cheap
   * check of shared memory, so another process's change wakes the dispatcher at once.
   */
  watch(onChange: (change: RemoteChange) => void): () => void {
    // One poll for every watcher of this connection (serve's dispatcher, its notifier): each
    // had a timer of its own, and an idle serve read data_version 400 times a second.
    // data_version says that something changed, not what.
    const listener = (): void => onChange({ profiles: true });
    this.watchers.add(listener);
    if (!this.watchTimer) {
      let last = this.dataVersion();
      this.watchTimer = setInterval(() => {
        if (this.closed) return;
        const now = this.dataVersion();
        if (now === last) return;
        last = now;
        for (const w of [...this.watchers]) w();
      }, WATCH_POLL_MS);
      this.watchTimer.unref();
    }
    return () => {
      this.watchers.delete(listener);
      if (this.watchers.size === 0 && this.watchTimer) {
        clearInterval(this.watchTimer);
        this.watchTimer = null;
      }
    };
  }

  private dataVersion(): number {
    this.dataVersionStatement ??= this.db.prepare('PRAGMA data_version').pluck();
    return this.dataVersionStatement.get() as number;
  }

  /**
   * Closes the connection: at once when nothing is queued (so the file is free when this
   * returns), else once the work already queued has run and an open group has committed.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = null;
    const shut = (): void => {
      this.reader?.db.close();
      this.snapshots.close();
      this.wal?.close();
      this.db.close();
    };
    if (this.groups.idle) {
      shut();
      return Promise.resolve();
    }
    return this.groups.drained().then(shut);
  }
}
