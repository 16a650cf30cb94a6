import type { Clock } from '../core/clock.js';
import { uptimeMs } from '../os/uptime.js';

/** Milliseconds of monotonic time: on Linux, since boot, less the time the machine slept. */
const monotonic = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * The machine's clocks: `Date.now()` for timestamps, the process's high-resolution monotonic
 * clock for durations (`process.hrtime`, in milliseconds; `performance.now()` would load
 * node:perf_hooks, a cost every CLI command paid for a clock most of them never read).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic,
  // The boot-time clock, which counts a suspend, less the monotonic one.
  suspended: () => {
    try {
      return Math.max(0, uptimeMs() - monotonic());
    } catch {
      return 0;
    }
  },
};
