import type pg from 'pg';
import type { PoolClient } from 'pg';
import type { Later, SqlDb, SqlParam } from '../sql/driver.js';
import type { StatementNames } from './statement-names.js';

/** What statements are sent through: a connection, or the pool. */
export type Queryable = Pick<PoolClient, 'query'>;

/** Statements outside any transaction (the pool): each one round trip, waited for. */
export class PgStatements implements SqlDb {
  readonly dialect = 'postgres' as const;
  constructor(
    protected readonly q: Queryable,
    protected readonly names: StatementNames,
  ) {}

  protected async query(sql: string, params: readonly SqlParam[]): Promise<pg.QueryResult> {
    try {
      return await this.q.query({ ...this.names.of(sql), values: [...params] });
    } catch (err) {
      // Tried again at once, under its new name (inside a transaction the whole transaction is).
      if (!this.names.replanned(err)) throw err;
      return await this.q.query({ ...this.names.of(sql), values: [...params] });
    }
  }

  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }

  async defer(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    await this.run(sql, params);
  }

  async allLater<T>(sql: string, params: readonly SqlParam[] = []): Promise<Later<T>> {
    return { rows: Promise.resolve(await this.all<T>(sql, params)) };
  }

  async exec(sql: string): Promise<void> {
    await this.q.query(sql);
  }
}

/**
 * The statements of one transaction on a connection in pipeline mode (the `pg` client's
 * `pipeline` option): what is sent is not waited for before the next is sent, so PostgreSQL
 * gets them back to back and answers them in order. The transaction's BEGIN travels with its
 * first statement, and a write whose answer nobody reads (`defer`: the events a transaction
 * appends) with the statement or the COMMIT after it; one round trip each instead of two. A
 * statement whose answer the body reads only after the transaction (`allLater`: a claim's
 * runs) goes with the COMMIT too.
 *
 * Nothing sent is forgotten: every statement waits for all sent before it, and the first
 * failure among them is its failure (a statement after a failed one finds the transaction
 * aborted, which says nothing of the cause). `settle` says the same before the COMMIT, so a
 * transaction whose deferred write failed is never taken for committed.
 */
export class PgTransaction extends PgStatements {
  private unsettled: Promise<unknown>[] = [];
  private failure: { err: unknown } | null = null;

  /** Sends a statement of the transaction not waited for here (BEGIN, a deferred write). */
  send(sent: Promise<unknown>): void {
    sent.catch((err: unknown) => {
      this.failure ??= { err };
    });
    this.unsettled.push(sent);
  }

  /** Waits for everything sent so far; throws the first failure among it. */
  async settle(): Promise<void> {
    if (this.unsettled.length > 0) await Promise.allSettled(this.unsettled.splice(0));
    if (this.failure) throw this.failure.err;
  }

  protected override query(sql: string, params: readonly SqlParam[]): Promise<pg.QueryResult> {
    return this.answer(this.named(sql, params));
  }

  override defer(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    this.send(this.named(sql, params));
    return Promise.resolve();
  }

  override allLater<T>(sql: string, params: readonly SqlParam[] = []): Promise<Later<T>> {
    const sent = this.named(sql, params);
    this.send(sent);
    const rows = sent.then((result) => result.rows as T[]);
    // Its failure is the transaction's (`settle`); a body retried whole never reads these.
    rows.catch(() => undefined);
    return Promise.resolve({ rows });
  }

  override async exec(sql: string): Promise<void> {
    await this.answer(this.q.query(sql));
  }

  private named(sql: string, params: readonly SqlParam[]): Promise<pg.QueryResult> {
    return this.q.query({ ...this.names.of(sql), values: [...params] });
  }

  /** A sent statement's answer, once all sent before it have answered. */
  private async answer(sent: Promise<pg.QueryResult>): Promise<pg.QueryResult> {
    // Its own failure is read below, unless one sent before it is the cause.
    sent.catch(() => undefined);
    await this.settle();
    return await sent;
  }
}
