import type { Clock } from '../core/clock.js';

/**
 * The machine's clocks: `Date.now()` for timestamps, the process's high-resolution monotonic
 * clock for durations (`process.hrtime`, in milliseconds; `performance.now()` would load
 * node:perf_hooks, a cost every CLI command paid for a clock most of them never read).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => Number(process.hrtime.bigint()) / 1e6,
};
