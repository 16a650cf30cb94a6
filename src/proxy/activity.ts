import type { LlmState } from '../core/llm.js';
import type { RunMode } from '../core/run.js';

/** A run as the proxy tells the host about it. */
export interface ProxiedRun {
  id: number;
  mode: RunMode;
}

/** Where a request of a run stands. */
export type Phase = LlmState;

/** How often open requests count as liveness while nothing streams (queued, model thinking). */
export const ACTIVITY_BEAT_MS = 1000;

/**
 * What each run's model traffic is doing, from its open requests: streaming if any request
 * is streaming, else waiting for the model, else queued. The host hears every change, each
 * chunk, and a beat every second while a request is open, so an agent waiting on a slow
 * model call is never taken for a silent one (the seed's stall loop).
 */
export class ActivityBook {
  private readonly runs = new Map<
    number,
    { run: ProxiedRun; counts: Record<Phase, number>; state: LlmState | null }
  >();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly tell: (run: ProxiedRun, state?: LlmState | null) => void) {}

  /** A request of `run` enters `phase` (from `from`, or newly). */
  move(run: ProxiedRun, from: Phase | null, to: Phase | null): void {
    let entry = this.runs.get(run.id);
    if (!entry) {
      entry = { run, counts: { queued: 0, waiting: 0, streaming: 0 }, state: null };
      this.runs.set(run.id, entry);
    }
    if (from !== null) entry.counts[from] -= 1;
    if (to !== null) entry.counts[to] += 1;
    const c = entry.counts;
    const state: LlmState | null =
      c.streaming > 0 ? 'streaming' : c.waiting > 0 ? 'waiting' : c.queued > 0 ? 'queued' : null;
    if (state === null) this.runs.delete(run.id);
    if (state !== entry.state) {
      entry.state = state;
      this.tell(run, state);
    } else {
      this.tell(run);
    }
    this.beat();
  }

  /** A chunk of a streamed answer went past. */
  chunk(run: ProxiedRun): void {
    this.tell(run);
  }

  /** Keeps the beat going while any request is open. */
  private beat(): void {
    if (this.runs.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const entry of this.runs.values()) this.tell(entry.run);
    }, ACTIVITY_BEAT_MS);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.runs.clear();
  }
}
