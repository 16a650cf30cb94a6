import { performance } from 'node:perf_hooks';
import type { WorkTurn } from '../api/pull-routes.js';

/** How long a poll may hold the round's turn before a change passes it by. */
const STUCK_MS = 5_000;

interface Waiter {
  /** The profiles the poll's worker serves, as one key. */
  key: string;
  wake(turn: WorkTurn | null): void;
}

/**
 * Pull workers' long-polls waiting for work, woken one at a time (issue #16). Every change
 * used to wake every waiting poll, and each looked for work: with many idle workers, one new
 * task cost a look per worker. Now a change starts a round that wakes the longest-waiting
 * poll. A poll that claims something hands the turn to the next one (more work may be ready);
 * one that finds none hands it to the next poll serving other profiles (the work may be
 * theirs), and the round ends when every set of profiles waiting has looked and found none.
 * A change during a round starts another when it ends. So a freed task wakes about one poll,
 * and a waiting poll is never left asleep while work for it is ready, bar its own timeout.
 */
export class ClaimWaiters {
  private readonly waiting: Waiter[] = [];
  /** The sets of profiles that found nothing this round; null when no round is under way. */
  private tried: Set<string> | null = null;
  /** A change came during the round. */
  private again = false;
  /** The poll holding the round's turn, and since when (`performance.now()`). */
  private holder: WorkTurn | null = null;
  private heldSince = 0;

  constructor(private readonly stuckMs = STUCK_MS) {}

  /** How many polls wait. */
  get size(): number {
    return this.waiting.length;
  }

  /**
   * Waits up to `ms` for this poll's turn; resolves with the turn, or null when the time ran
   * out (or the waiters were all let go) first.
   */
  wait(ms: number, profiles: readonly string[]): Promise<WorkTurn | null> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        key: [...profiles].sort().join('\n'),
        wake: (turn) => {
          clearTimeout(timer);
          resolve(turn);
        },
      };
      const timer = setTimeout(
        () => {
          const i = this.waiting.indexOf(waiter);
          if (i !== -1) this.waiting.splice(i, 1);
          resolve(null);
        },
        Math.max(0, ms),
      );
      this.waiting.push(waiter);
    });
  }

  /** Something changed: work may be ready for a waiting poll. */
  changed(): void {
    // A turn held this long is given up on (its claim is stuck), so the round goes on.
    const stuck = this.holder !== null && performance.now() - this.heldSince > this.stuckMs;
    if (this.tried !== null && !stuck) {
      this.again = true;
      return;
    }
    this.tried = new Set();
    this.next(null);
  }

  /** Wakes every waiting poll without a turn (the host stops). */
  releaseAll(): void {
    for (const w of this.waiting.splice(0)) w.wake(null);
  }

  /** Hands the turn on after a poll of `key` found work (`key` null) or found none. */
  private next(emptyKey: string | null): void {
    this.holder = null;
    const tried = this.tried ?? new Set<string>();
    if (emptyKey !== null) tried.add(emptyKey);
    const i = this.waiting.findIndex((w) => !tried.has(w.key));
    if (i === -1) {
      this.tried = null;
      if (this.again) {
        this.again = false;
        this.changed();
      }
      return;
    }
    const [waiter] = this.waiting.splice(i, 1);
    if (!waiter) return;
    let open = true;
    const turn: WorkTurn = {
      done: (found) => {
        if (!open) return;
        open = false;
        if (this.holder === turn) this.next(found ? null : waiter.key);
      },
    };
    this.holder = turn;
    this.heldSince = performance.now();
    waiter.wake(turn);
  }
}
