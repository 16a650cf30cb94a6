/**
 * A host's own view of its lease when several hosts share one PostgreSQL (SPEC §3 "Several
 * hosts"). The store keeps the lease on the database's clock; the host measures it from when
 * it *sent* its last successful renewal, on its monotonic clock, which is never later than the
 * database's view. Everything here is pure and takes the time as an argument.
 */

/** The timings that follow from one TTL. */
export interface HostLeaseTimes {
  ttlMs: number;
  /** How often the lease is renewed: TTL / 6 (5 s for the default 30 s). */
  renewEveryMs: number;
  /** How long after the last renewal was sent the host's workers are frozen. */
  freezeAfterMs: number;
  /** How long workers stay frozen before they are killed: TTL + 60 s. */
  killAfterFrozenMs: number;
  /** How often a worker's watcher looks at its deadlines: a quarter of the margin, ≤ 1 s. */
  watchEveryMs: number;
  /**
   * How often a host looks for lapsed hosts to reap: TTL / 12, between 100 ms and 500 ms, so
   * the look itself adds at most a quarter of the 2 s SPEC §8 allows past the TTL.
   */
  reapEveryMs: number;
}

/**
 * The timings of a TTL. Workers freeze at TTL − 5 s; with a TTL under 15 s (tests) the margin
 * is a third of the TTL instead, so there is always time to freeze before the lease lapses.
 */
export function hostLeaseTimes(ttlMs: number): HostLeaseTimes {
  const margin = Math.min(5_000, Math.floor(ttlMs / 3));
  return {
    ttlMs,
    renewEveryMs: Math.max(100, Math.floor(ttlMs / 6)),
    freezeAfterMs: ttlMs - margin,
    killAfterFrozenMs: ttlMs + 60_000,
    watchEveryMs: Math.min(1_000, Math.max(100, Math.floor(margin / 4))),
    reapEveryMs: Math.min(500, Math.max(100, Math.floor(ttlMs / 12))),
  };
}

/** What one host knows of its own lease. */
export class HostLeaseView {
  private lastSent: number | null = null;
  private steadySince: number | null = null;

  constructor(readonly times: HostLeaseTimes) {}

  /**
   * A renewal sent at `sentAt` succeeded. Returns true when it follows a gap: the host's
   * workers may have been frozen and its lease may have lapsed, so its runs must be checked
   * before any worker is thawed.
   */
  renewed(sentAt: number): boolean {
    const gap = this.lastSent === null || sentAt - this.lastSent >= this.times.freezeAfterMs;
    if (gap) this.steadySince = sentAt;
    if (this.lastSent === null || sentAt > this.lastSent) this.lastSent = sentAt;
    return gap;
  }

  /** Forgets every renewal (after a suspend): not good until the next, which is a gap. */
  forget(): void {
    this.lastSent = null;
    this.steadySince = null;
  }

  /** Whether the lease is good at `now`: the host may start work and its workers may run. */
  valid(now: number): boolean {
    return this.lastSent !== null && now - this.lastSent < this.times.freezeAfterMs;
  }

  /** When workers freeze if no renewal succeeds first (monotonic), or null before the first. */
  freezeAt(): number | null {
    return this.lastSent === null ? null : this.lastSent + this.times.freezeAfterMs;
  }

  /**
   * Whether this host may end other hosts' runs: only after renewing without a gap for one
   * full TTL, so that after a store outage no host reaps the others before they renew too.
   */
  mayReap(now: number): boolean {
    return (
      this.valid(now) && this.steadySince !== null && now - this.steadySince >= this.times.ttlMs
    );
  }
}
