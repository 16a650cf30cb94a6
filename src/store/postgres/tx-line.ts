import type { SqlDb } from '../sql/driver.js';
import { Batcher } from '../sql/batcher.js';
import { EventBatch } from '../sql/event-batch.js';
import { isUnreachable } from '../storage-errors.js';

/** A transaction body. */
type Body = (db: SqlDb) => Promise<unknown>;

/** How one member's body ended. */
type Settled = { ok: true; value: unknown } | { ok: false; err: unknown };

/** A member's own error, said by the group's transaction so the group can be rolled back. */
export class MemberFailed extends Error {
  override readonly name = 'MemberFailed';
  /** Not an SQLSTATE: the connection is sound, only this member's work failed. */
  readonly code = 'member_failed';
  constructor(override readonly cause: unknown) {
    super('a member of a grouped transaction failed');
  }
}

/**
 * Whether `err` is about the whole transaction rather than one member's work: a
 * serialisation failure or deadlock (class 40, retried whole), a lost connection (08, 57, or
 * the socket's own error: a reset, or one the connection watch closed), or a prepared
 * statement the schema outgrew (0A000). Everything else a member throws (a refusal, a
 * constraint) is that member's alone: run again alone, which for a lost connection would only
 * wait for the server once per member.
 */
export function aboutTheTransaction(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.length === 5) return /^(40|08|57|0A)/.test(code);
  return isUnreachable(err);
}

/**
 * Transactions of one kind in this process, one at a time, in the order they were asked for;
 * those that queue while one runs share the next transaction (group commit on PostgreSQL).
 * A line that is idle starts a body at once and alone, so grouping adds no wait; under load,
 * one BEGIN, one COMMIT (one WAL flush) and, for the admission turn, one wait for the lock
 * serve many bodies, and only one pool connection waits instead of one per body.
 *
 * Members run one after another in the group's transaction, each seeing the writes of those
 * before it, as if each had committed alone in that order. No member is answered before the
 * COMMIT returns. A member that throws its own error rolls the group back, and then each
 * member runs again alone, in order, so the others' work is not lost with it and the one
 * that threw answers with its own error from a transaction of its own. A failure of the
 * transaction itself (a serialisation failure after its retries, a lost connection) fails
 * every member, as it would have failed each alone.
 */
export class TxLine {
  private readonly groups: Batcher<Body, Settled>;

  constructor(
    /** Runs the bodies in order in one transaction, returning their results. */
    private readonly runGroup: (bodies: Body[]) => Promise<unknown[]>,
    /** Most members in one transaction; the rest wait for the next. */
    maxMembers: number,
  ) {
    this.groups = new Batcher((bodies) => this.runMembers(bodies), maxMembers);
  }

  async submit<T>(body: (db: SqlDb) => Promise<T>): Promise<T> {
    const settled = await this.groups.submit(body);
    if (!settled.ok) throw settled.err;
    return settled.value as T;
  }

  private async runMembers(bodies: Body[]): Promise<Settled[]> {
    try {
      const values = await this.runGroup(bodies);
      return values.map((value) => ({ ok: true, value }));
    } catch (err) {
      if (err instanceof MemberFailed && bodies.length > 1) {
        // Each again alone, in the same order: a body is safe to run again (as on a retry).
        const alone: Settled[] = [];
        for (const body of bodies) alone.push(...(await this.runMembers([body])));
        return alone;
      }
      const cause = err instanceof MemberFailed ? err.cause : err;
      return bodies.map(() => ({ ok: false, err: cause }));
    }
  }
}

/**
 * The body of a group's transaction: each member's body in order, the events they append
 * held and written in one statement at the end (../sql/event-batch.ts), one round trip for
 * the group instead of one per member. A member's own error is wrapped (`MemberFailed`) so
 * the line can tell it from a failure of the transaction.
 */
export function groupBody(
  bodies: ((db: SqlDb) => Promise<unknown>)[],
): (db: SqlDb) => Promise<unknown[]> {
  return async (db) => {
    const batch = new EventBatch(db);
    const values: unknown[] = [];
    for (const body of bodies) {
      try {
        values.push(await body(batch));
      } catch (err) {
        throw aboutTheTransaction(err) ? err : new MemberFailed(err);
      }
    }
    await batch.flush();
    return values;
  };
}
