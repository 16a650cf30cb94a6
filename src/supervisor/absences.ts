import type { EpochMs, Millis } from '../core/glossary.js';

/** A span of time in which this `serve` did not run, on the clock its `Absences` reads. */
export interface Absence {
  from: EpochMs;
  ms: Millis;
}

/** The most absences remembered; an older one has long been covered by every deadline. */
const KEPT = 64;

/**
 * The spans of wall time in which this `serve` did not run: the machine suspended, the process
 * stopped, or its event loop held. Each is seen as a gap longer than `thresholdMs` between two
 * beats (a timer's, and every pull request's). Nobody could be heard then, so a pull worker's
 * lease and its silence do not count that time (SPEC §3: a suspend shifts every deadline).
 * Which clock is read decides what counts: the wall clock sees a suspend too (pull runs, judged
 * on it), the monotonic one only what happened while the machine was awake (spawned runs).
 */
export class Absences {
  private last: EpochMs;
  private readonly spans: Absence[] = [];

  constructor(
    private readonly read: () => EpochMs,
    private readonly thresholdMs: Millis,
  ) {
    this.last = read();
  }

  /** Notes that `serve` runs now; returns the absence this ends, if the gap was one. */
  beat(): Absence | null {
    const now = this.read();
    const gap = now - this.last;
    // A wall clock set back counts from its new reading.
    this.last = now;
    if (gap <= this.thresholdMs) return null;
    const absence = { from: now - gap, ms: gap };
    this.spans.push(absence);
    if (this.spans.length > KEPT) this.spans.shift();
    return absence;
  }

  /** How much of the time from `at` until now `serve` was absent. */
  since(at: EpochMs): Millis {
    let ms = 0;
    for (const s of this.spans) {
      const end = s.from + s.ms;
      if (end > at) ms += end - Math.max(s.from, at);
    }
    return ms;
  }
}
