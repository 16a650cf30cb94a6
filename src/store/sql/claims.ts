import type { Clock } from '../../core/clock.js';
import { STORE_DEFAULTS } from '../../core/defaults.js';
import type { Claim, ClaimRequest } from '../run-types.js';
import { Batcher } from './batcher.js';
import { ADMISSION_LOCK, claimBatch, mayClaim, withContexts } from './claim.js';
import type { BatchedClaim, ClaimRoots, MadeClaim, SentClaims } from './claim.js';
import type { SqlDb, SqlDriver, TxOptions } from './driver.js';

/** The store's write transaction, with the time it happens at. */
type Write = <T>(fn: (db: SqlDb, now: number) => Promise<T>, options?: TxOptions) => Promise<T>;

/**
 * How the store makes claims (SPEC §4): a look outside any transaction, then the claim under the
 * admission turn, then, on PostgreSQL, a pull claim's worker context after the turn.
 *
 * PostgreSQL: claims (pull workers' and the dispatcher's) that wait for the admission turn
 * together are made in one transaction (./claim.ts `claimBatch`). SQLite: none; each claim is a
 * write of its own, which joins the open group commit at once instead of waiting for the claims
 * before it to be committed and synced (a burst's dispatch latency grew by a fifth).
 */
export class Claims {
  private readonly batches: Batcher<BatchedClaim, MadeClaim[]> | null;
  /**
   * Whether a pull claim's worker context is read in its claim's transaction (SQLite: it saves
   * a transaction) or after it, in a snapshot of its own (PostgreSQL: the admission turn is
   * held for every statement of a claim).
   */
  private readonly contextInClaim: boolean;

  constructor(
    private readonly driver: SqlDriver,
    private readonly clock: Clock,
    private readonly write: Write,
  ) {
    this.contextInClaim = driver.dialect !== 'postgres';
    this.batches =
      driver.dialect === 'postgres'
        ? new Batcher((batch) => this.inTurn(batch), STORE_DEFAULTS.claim_batch_max)
        : null;
  }

  async claim(req: ClaimRequest, roots: ClaimRoots): Promise<Claim[]> {
    // A hint read outside any transaction (one statement, no BEGIN and COMMIT): the claim
    // itself decides under the admission turn.
    if (
      req.noLook !== true &&
      !(await mayClaim(this.driver.concurrentReads(), this.clock.now(), req))
    )
      return [];
    const claim = { req, roots };
    const made = this.batches
      ? await this.batches.submit(claim)
      : ((await this.inTurn([claim]))[0] ?? []);
    if (req.mode !== 'pull' || this.contextInClaim) return made.map((m) => m.claim);
    return withContexts(this.driver.concurrentReads(), (fn) => this.driver.read(fn), made);
  }

  /**
   * Claims made in one transaction, taking the admission turn: read from the answer of their
   * runs' statement, which on PostgreSQL goes with the COMMIT.
   */
  private async inTurn(batch: BatchedClaim[]): Promise<MadeClaim[][]> {
    const sent = await this.write(
      async (db, now): Promise<SentClaims> => {
        const claims = await claimBatch(db, now, batch);
        if (!this.contextInClaim) return claims;
        const made = await claims.made(db);
        return { made: () => Promise.resolve(made) };
      },
      { lock: ADMISSION_LOCK },
    );
    return sent.made(null);
  }
}
