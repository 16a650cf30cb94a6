import type { Clock } from '../core/clock.js';

/**
 * When `serve --gc-every` runs gc: at its first tick, then once every `everyMs` on the
 * monotonic clock, never two passes at once. A policy with an injected clock, so it is tested
 * without sleeping.
 */
export class GcSchedule {
  private due: number;
  private running = false;

  constructor(private readonly opts: { everyMs: number; clock: Clock; run: () => Promise<void> }) {
    this.due = opts.clock.monotonic();
  }

  /** Starts a pass if one is due and none is running; returns it, or null. */
  tick(): Promise<void> | null {
    const now = this.opts.clock.monotonic();
    if (this.running || now < this.due) return null;
    this.running = true;
    this.due = now + this.opts.everyMs;
    return this.opts.run().finally(() => {
      this.running = false;
    });
  }
}
