import type { TokenUsage } from '../core/llm.js';
import type { LlmAdmission } from '../store/run-types.js';

/**
 * The proxy's memory of admitted runs, so a run's next request is not one more store read on
 * the way to its first byte (issue #13's latency target, and one round trip per model request
 * saved on PostgreSQL). An entry is only ever a shortcut past a read whose answer cannot have
 * changed:
 *
 * - it belongs to a spawned run this host watches, and the host says the run is still running
 *   and not being ended (`stillRunning`), which covers every ending this host begins;
 * - nothing has changed since it was read: `invalidate()` drops every entry, and `serve` calls
 *   it on every wake-up: another process's commit (a person's CLI, another host), and every
 *   write of its own API (a stop, a block, a profile edit);
 * - its task's budget figures move with each request this proxy records, which are all of the
 *   run's requests (only the current run is admitted, and only here);
 * - profiles with a day's budget are never kept: other runs, on other hosts too, spend it;
 * - it is at most `MAX_AGE_MS` old, as a bound on anything unforeseen.
 */

const MAX_AGE_MS = 30_000;

/** Most runs remembered; past it the memory starts over. */
const MAX_ENTRIES = 10_000;

interface Entry {
  admission: LlmAdmission;
  at: number;
  generation: number;
}

export class AdmissionMemory {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;

  constructor(
    private readonly now: () => number,
    /** Whether this host watches the spawned run and it is neither ending nor lost. */
    private readonly stillRunning: (runId: number) => boolean,
  ) {}

  /** The remembered admission of `tokenHash`, if it still holds. */
  get(tokenHash: string): LlmAdmission | null {
    const e = this.entries.get(tokenHash);
    if (!e) return null;
    const fresh =
      e.generation === this.generation &&
      this.now() - e.at < MAX_AGE_MS &&
      this.stillRunning(e.admission.run.id);
    if (!fresh) {
      this.entries.delete(tokenHash);
      return null;
    }
    return e.admission;
  }

  /** Taken before a store read, so a change during the read voids what it read. */
  mark(): number {
    return this.generation;
  }

  /** Remembers an admission read from the store since `mark`, when it may be remembered. */
  put(tokenHash: string, admission: LlmAdmission, generation: number): void {
    if (generation !== this.generation || admission.run.mode !== 'spawned') return;
    if (admission.profile?.budget.max_cost_per_day != null) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(tokenHash, { admission, at: this.now(), generation });
  }

  /** A request of `runId` was recorded: its task's figures move with it. */
  spent(runId: number, tokens: TokenUsage, cost: number | null): void {
    for (const e of this.entries.values()) {
      if (e.admission.run.id !== runId) continue;
      const use = e.admission.use;
      use.task_tokens += tokens.input + tokens.output + tokens.cache_read + tokens.cache_write;
      use.task_cost += cost ?? 0;
    }
  }

  /** Something changed: nothing remembered holds any more. */
  invalidate(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
