import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.js';

/** The machine's clocks: `Date.now()` for timestamps, `performance.now()` for durations. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
