import type { EpochMs, Millis } from './glossary.js';

/**
 * Time as the domain sees it. Policies take a clock instead of reading the system time,
 * so they are tested without sleeping.
 */
export interface Clock {
  /** Wall-clock time, for timestamps people read. */
  now(): EpochMs;
  /** A monotonic reading, for measuring durations; only differences are meaningful. */
  monotonic(): Millis;
  /**
   * How long the machine has slept (suspended) so far: the time the monotonic clock did not
   * count. Only differences are meaningful; 0 where it cannot be read.
   */
  suspended(): Millis;
}

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  private wall: EpochMs;
  private mono: Millis = 0;
  private slept: Millis = 0;

  constructor(start: EpochMs = Date.UTC(2026, 0, 1)) {
    this.wall = start;
  }

  now(): EpochMs {
    return this.wall;
  }

  monotonic(): Millis {
    return this.mono;
  }

  suspended(): Millis {
    return this.slept;
  }

  /** Moves both readings forward by `ms`. */
  advance(ms: Millis): void {
    this.wall += ms;
    this.mono += ms;
  }

  /** Moves only the wall clock, as a suspend of the machine appears to a process. */
  jumpWall(ms: Millis): void {
    this.wall += ms;
    this.slept += ms;
  }
}
