/** How long a claim's answer is kept for a retry of the same claim. */
const KEEP_MS = 10 * 60_000;

interface Kept<T> {
  claimId: string;
  answer: Promise<T>;
  at: number;
}

/**
 * The last claim of each lease, by the id its worker gave it, so that a claim sent again
 * because its answer was lost on the way (a cut connection, a timeout) gets the same runs
 * instead of new ones: the runs of a lost answer would otherwise belong to a live lease whose
 * worker never heard of them, held until they stalled. A retry that arrives while the first is
 * still long-polling waits for the same answer. Kept in memory: when a lease has no entry here
 * (`serve` restarted since its last claim, or the claim went to another host), the claim is
 * told so, and looks in the store for runs its id made (`Store.reissueClaim`). One entry per
 * lease, dropped after ten minutes or when the lease closes; an answer that failed is dropped
 * at once, so its retry claims again.
 */
export class ClaimAnswers<T> {
  private readonly kept = new Map<string, Kept<T>>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The answer to claim `claimId` of `leaseId`: the one already given or under way when the
   * claim is sent again, else what `claim` comes to; `claim` is told whether this lease's last
   * claim is known here (if not, this one may be a retry whose first answer is not).
   */
  answer(leaseId: string, claimId: string, claim: (leaseKnown: boolean) => Promise<T>): Promise<T> {
    const before = this.kept.get(leaseId);
    if (before?.claimId === claimId) return before.answer;
    this.prune();
    const answer = claim(this.kept.has(leaseId));
    const entry: Kept<T> = { claimId, answer, at: this.now() };
    // Deleted first so the map stays in the order entries were made, oldest first.
    this.kept.delete(leaseId);
    this.kept.set(leaseId, entry);
    answer.catch(() => {
      if (this.kept.get(leaseId) === entry) this.kept.delete(leaseId);
    });
    return answer;
  }

  /** Forgets a lease's last claim (it closed). */
  forget(leaseId: string): void {
    this.kept.delete(leaseId);
  }

  /** How many leases' answers are kept. */
  get size(): number {
    return this.kept.size;
  }

  private prune(): void {
    const cutoff = this.now() - KEEP_MS;
    for (const [leaseId, entry] of this.kept) {
      if (entry.at > cutoff) break;
      this.kept.delete(leaseId);
    }
  }
}
