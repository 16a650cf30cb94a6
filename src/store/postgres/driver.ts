import { createHash } from 'node:crypto';
import pg from 'pg';
import { POSTGRES_DEFAULTS } from '../../core/defaults.js';
import { WardenError } from '../../core/errors.js';
import type { SqlDb, SqlDriver, TxOptions } from '../sql/driver.js';
import type { RemoteChange } from '../store.js';
import { isUnreachable, unreachableError } from '../storage-errors.js';
import { StatementNames } from './statement-names.js';
import { PgStatements, PgTransaction } from './statements.js';
import type { Queryable } from './statements.js';
import { groupBody, MemberFailed, TxLine } from './tx-line.js';
import { ChangeListener } from './listener.js';
import { ConnectionWatch, pidOf } from './connection-watch.js';

// BIGINT (ids, epoch milliseconds, counts) as numbers: every value warden keeps fits in 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** The channel every committed write notifies, so other hosts wake at once (SPEC §4). */
export const CHANGES_CHANNEL = 'warden_changes';

/**
 * The channel of one schema's changes: `warden_changes` in the default schema, and one of
 * its own for every other, so a host wakes for its own schema's writes only, not for every
 * warden (and every test) sharing the server. Channels are server-wide and at most 63
 * bytes, hence a digest of the schema's name.
 */
export function changesChannel(schema: string | undefined): string {
  if (schema === undefined) return CHANGES_CHANNEL;
  const digest = createHash('sha256').update(schema).digest('hex').slice(0, 16);
  return `${CHANGES_CHANNEL}_${digest}`;
}

/** The transaction's flag that it changed a profile: the notice's payload (./listener.ts). */
const PROFILES_CHANGED = 'warden.profiles_changed';

/**
 * Notifies `channel` if the transaction has written anything (it has an xid then), saying
 * `profiles` if it changed a profile (the flag migration 22's trigger sets), else nothing.
 */
function notifyIfWritten(channel: string): string {
  return `SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NOT NULL THEN pg_notify('${channel}', COALESCE(current_setting('${PROFILES_CHANGED}', true), '')) END`;
}

/**
 * What a transaction taking the admission turn sends after its BEGIN, in the same round trip.
 * Its reads walk the ready tasks' indexes in claim order and stop at the window; planned
 * from a table's statistics, a board whose tasks all arrived since PostgreSQL last analysed
 * it (a burst of new work, its first minute) was read whole and sorted at every claim, made
 * while the fleet waits for the turn. Likewise the open runs, found through their partial
 * index, were read by a pass over every run ever made (1 ms with 2,400 runs, growing with
 * them). Bitmap scans, sorts and sequential scans are priced out for the turn's statements
 * only (`SET LOCAL`), so an index is the plan whatever the statistics say; a table with no
 * index to use (the few profiles) is still read whole. That read's price, inflated so, would
 * have PostgreSQL compile the statement (JIT: 0.7 s a claim), so JIT is off in the turn too;
 * the turn's statements are all small. Each of the turn's statements is planned once for its
 * connection and that plan kept (a generic plan), not planned again for its parameters at every
 * claim: PostgreSQL keeps replanning a statement whose generic plan it prices above its custom
 * ones, and did so for the claim's run-making statement, whose task ids it can estimate only
 * when it sees them (0.65 ms of planning a claim, made while the fleet waits for the turn; the
 * generic plan runs as fast). Then the lock.
 */
const IN_TURN = [
  'SET LOCAL enable_bitmapscan = off',
  'SET LOCAL enable_sort = off',
  'SET LOCAL enable_seqscan = off',
  'SET LOCAL jit = off',
  'SET LOCAL plan_cache_mode = force_generic_plan',
  'LOCK TABLE admission_lock IN EXCLUSIVE MODE',
].join('; ');

/**
 * How a SERIALIZABLE write transaction begins: with the write turn, so those of every host
 * take turns as one host's already do in its line (migration 21). Taken before the
 * transaction's snapshot (as the admission turn is, above), so each sees every write of the
 * one before it and none can be a pivot between two others: without it, reports of two hosts
 * failed each other on PostgreSQL's page-level predicate locks hundreds of times a minute,
 * and each failure held up its host's line for a retry's wait. The transaction is still
 * SERIALIZABLE, so its correctness does not rest on the turn.
 */
const SERIALIZABLE_IN_TURN =
  'BEGIN ISOLATION LEVEL SERIALIZABLE; LOCK TABLE write_turn IN EXCLUSIVE MODE';

/** How often a busy (serialisation) failure is retried before it surfaces. */
const RETRIES = POSTGRES_DEFAULTS.retries;
const IDLE_IN_TX_MS = POSTGRES_DEFAULTS.idle_in_transaction_ms;
const GROUP_MAX = POSTGRES_DEFAULTS.group_max_members;

/** A connection URL without its user and password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/** Whether an error means the connection itself is gone (network, server shutdown, timeout). */
function connectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code !== 'string' || code.startsWith('08') || code.startsWith('57');
}

/**
 * Runs `fn` on a connection of the pool, watched while it is out (./connection-watch.ts). A
 * connection the server ended, or the watch closed, is dropped from the pool, not handed out
 * again.
 */
async function withConnection<T>(
  pool: pg.Pool,
  watch: ConnectionWatch,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection that dies while checked out emits 'error' on its client (the pool only
  // listens to idle ones); unheard, that would end the process. The query fails anyway.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  const done = watch.busy(client);
  try {
    return await fn(client);
  } catch (err) {
    const cause = err instanceof MemberFailed ? err.cause : err;
    if (connectionLost(cause)) broken = cause as Error;
    throw err;
  } finally {
    done();
    client.off('error', onError);
    client.release(broken);
  }
}

function retryable(err: unknown, names: StatementNames): boolean {
  const code = (err as { code?: unknown }).code;
  // serialization_failure, deadlock_detected; or a prepared statement the schema outgrew
  return code === '40001' || code === '40P01' || names.replanned(err);
}

/**
 * Makes the schema if it is missing. Two hosts starting together may both find it missing:
 * `IF NOT EXISTS` does not stop the second from failing on the catalog's unique index then,
 * and the schema the other made is the one wanted.
 */
async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replaceAll('"', '')}"`);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // unique_violation (pg_namespace_nspname_index), duplicate_schema
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

/** Options of the PostgreSQL driver. */
export interface PgOptions {
  url: string;
  /** A schema to work in (tests use a fresh one each); created if missing. */
  schema?: string;
  /** Connections in the pool. @default 8 */
  max?: number;
  /**
   * How long a connection busy in a transaction may hear nothing before the server is asked
   * whether it is dead (./connection-watch.ts). @default POSTGRES_DEFAULTS.answer_quiet_ms
   */
  quietMs?: number;
  /** How often the LISTEN connection is checked. @default POSTGRES_DEFAULTS.listen_check_ms */
  listenCheckMs?: number;
  /**
   * Create the schema if it is missing (`warden init`, tests). Without it a database with no
   * warden schema is refused, so a wrong `WARDEN_DB` never gains tables. @default true
   */
  create?: boolean;
}

/**
 * The PostgreSQL driver: write transactions run SERIALIZABLE and are retried with jitter on
 * serialisation failures, so the shared SQL keeps the one-writer semantics it has on SQLite;
 * every commit notifies `warden_changes`.
 */
export class PgDriver extends PgStatements implements SqlDriver {
  private readonly pool: pg.Pool;
  private readonly connections: ConnectionWatch;
  private readonly listener: ChangeListener;
  private readonly notify: string;
  private closed = false;

  /** This process's SERIALIZABLE transactions (`tx`), one at a time, grouped under load. */
  private readonly serializable: TxLine;
  /** Transactions that take a lock's turn, one line per lock. */
  private readonly lockLines = new Map<number, TxLine>();
  private constructor(
    pool: pg.Pool,
    channel: string,
    /** The server processes of this pool's connections: their notices are this process's own. */
    ownBackends: ReadonlySet<number>,
    watch: ConnectionWatch,
    listenCheckMs: number | undefined,
  ) {
    // A statement outside any transaction is watched on its connection as a transaction is.
    const pooled: Queryable = {
      query: (config: string | pg.QueryConfig) =>
        withConnection(pool, watch, (c) => c.query(config)),
    };
    super(pooled, new StatementNames());
    this.pool = pool;
    this.connections = watch;
    this.listener = new ChangeListener(
      (pool.options as { connectionString?: string }).connectionString,
      channel,
      (backend) => ownBackends.has(backend),
      listenCheckMs,
    );
    this.notify = notifyIfWritten(channel);
    this.serializable = new TxLine(
      (bodies) => this.inTx(SERIALIZABLE_IN_TURN, true, groupBody(bodies)),
      GROUP_MAX,
    );
  }

  /** Connects, checking the server answers; a bad URL is one clear error. */
  static async connect(options: PgOptions): Promise<PgDriver> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.max ?? POSTGRES_DEFAULTS.pool_max,
      // A transaction's statements are sent without waiting for the answer to the one before
      // where nothing needs it (./statements.ts); outside a transaction each is alone anyway.
      pipeline: true,
      connectionTimeoutMillis: POSTGRES_DEFAULTS.connect_timeout_ms,
      options: [
        ...(options.schema ? [`-c search_path=${options.schema}`] : []),
        `-c idle_in_transaction_session_timeout=${IDLE_IN_TX_MS}`,
      ].join(' '),
    });
    // A lost connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    // Counted from the pool's first connection: the one the checks below open stays in the pool,
    // and its commits, taken for another host's, woke this host for its own writes.
    const ownBackends = new Set<number>();
    const watch = new ConnectionWatch({
      connectionString: options.url,
      quietMs: options.quietMs ?? POSTGRES_DEFAULTS.answer_quiet_ms,
      probeTimeoutMs: POSTGRES_DEFAULTS.connect_timeout_ms,
    });
    pool.on('connect', (client) => {
      ownBackends.add(pidOf(client));
      watch.adopt(client);
    });
    pool.on('remove', (client) => {
      ownBackends.delete(pidOf(client));
      watch.forget(client);
    });
    let hasMeta: boolean;
    try {
      if (options.schema && options.create !== false) await createSchema(pool, options.schema);
      const found = await pool.query<{ meta: string | null }>("SELECT to_regclass('meta') AS meta");
      hasMeta = found.rows[0]?.meta != null;
    } catch (err) {
      watch.close();
      await pool.end().catch(() => undefined);
      const where = redactUrl(options.url);
      // Not answering is worth trying again (exit 5); a refusal (a password, a database that
      // does not exist) needs WARDEN_DB fixed.
      if (isUnreachable(err)) throw unreachableError(where, err);
      throw new WardenError(
        'setup',
        `cannot reach PostgreSQL at ${where}: ${(err as Error).message}; check WARDEN_DB`,
      );
    }
    if (!hasMeta && options.create === false) {
      watch.close();
      await pool.end().catch(() => undefined);
      throw new WardenError(
        'setup',
        `no warden schema in ${redactUrl(options.url)} (schema ${options.schema ?? 'public'}); run \`warden init\` with this WARDEN_DB first`,
      );
    }
    return new PgDriver(
      pool,
      changesChannel(options.schema),
      ownBackends,
      watch,
      options.listenCheckMs,
    );
  }

  private async inTx<T>(
    begin: string,
    notify: boolean,
    fn: (db: SqlDb) => Promise<T>,
    lock?: number,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await withConnection(this.pool, this.connections, (client) =>
          this.attempt(client, begin, notify, fn, lock),
        );
      } catch (err) {
        if (retryable(err, this.names) && attempt < RETRIES) {
          await new Promise((r) =>
            setTimeout(r, (5 << Math.min(attempt, 6)) * (0.5 + Math.random())),
          );
          continue;
        }
        throw err;
      }
    }
  }

  /** One try of a transaction on `client`, rolled back if it fails. */
  private async attempt<T>(
    client: pg.PoolClient,
    begin: string,
    notify: boolean,
    fn: (db: SqlDb) => Promise<T>,
    lock: number | undefined,
  ): Promise<T> {
    try {
      // The admission turn is a table lock taken before the first query, so the
      // transaction's snapshot is taken after the turn comes (PostgreSQL takes it at the
      // first SELECT, not at LOCK), and it is released with the transaction: a holder that
      // is paused or cut off loses it with its session (idle_in_transaction_session_timeout).
      // BEGIN and LOCK go in one simple query, sent with the body's first statement: one
      // round trip (./statements.ts).
      const tx = new PgTransaction(client, this.names);
      tx.send(client.query(lock === undefined ? begin : `${begin}; ${IN_TURN}`));
      const result = await fn(tx);
      // Only a transaction that wrote wakes the others: a claim that found nothing must not
      // wake every host into claiming again (a storm of empty passes). The notice and the
      // COMMIT go in one simple query, sent with the writes still unanswered; the notice is
      // sent if the COMMIT succeeds. A failed write before it is the transaction's failure.
      const commit = client.query(notify ? `${this.notify}; COMMIT` : 'COMMIT');
      commit.catch(() => undefined);
      await tx.settle();
      await commit;
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  tx<T>(fn: (db: SqlDb) => Promise<T>, options?: TxOptions): Promise<T> {
    // A transaction that takes the admission turn runs REPEATABLE READ: turns already order
    // claims among themselves, its snapshot is taken after the turn comes, and a row it updates
    // that another transaction changed still fails it (and it is retried). SERIALIZABLE there
    // only added false conflicts with every completion reading the same small tables.
    // A row-locked transaction (a lease renewal) waits on its own row at READ COMMITTED: under
    // SERIALIZABLE every renewal read the whole small hosts table and failed against the others'
    // renewals and reaps, and under load its retries outlasted the freeze margin (issue #11).
    if (options?.lock !== undefined) return this.lockLine(options.lock).submit(fn);
    if (options?.rowLocked) return this.inTx('BEGIN ISOLATION LEVEL READ COMMITTED', true, fn);
    // The SERIALIZABLE ones run one at a time in this process. Concurrent ones (8 workers'
    // reports) failed each other about 1.4 times per report on PostgreSQL's page-level
    // predicate locks over small tables, and each retry ran every statement again; in a line
    // they do not fail, and other hosts' still may (retried as before). Those that queue
    // behind one share the next transaction (./tx-line.ts). A transaction's body never waits
    // on another transaction of the same store (as on SQLite, whose writer is one
    // connection), so the line cannot wait on itself.
    return this.serializable.submit(fn);
  }

  /**
   * The line of transactions taking `lock`'s turn: in this process they queue here, not each
   * on a pool connection waiting for the lock, and those that queued share the next turn.
   */
  private lockLine(lock: number): TxLine {
    let line = this.lockLines.get(lock);
    if (!line) {
      line = new TxLine(
        (bodies) =>
          this.inTx('BEGIN ISOLATION LEVEL REPEATABLE READ', true, groupBody(bodies), lock),
        GROUP_MAX,
      );
      this.lockLines.set(lock, line);
    }
    return line;
  }

  read<T>(fn: (db: SqlDb) => Promise<T>): Promise<T> {
    return this.inTx('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', false, fn);
  }

  /** The pool already runs a statement outside any transaction of this process. */
  concurrentReads(): SqlDb {
    return this;
  }

  /** Watches other processes' commits, on the store's one `LISTEN` connection (./listener.ts). */
  watch(onChange: (change: RemoteChange) => void): () => void {
    return this.listener.watch(onChange);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listener.close();
    this.connections.close();
    await this.pool.end();
  }
}
