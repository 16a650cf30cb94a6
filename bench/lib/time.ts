import { performance } from 'node:perf_hooks';

/**
 * Wall-clock milliseconds with sub-millisecond resolution (`Date.now()` has whole
 * milliseconds). Comparable with `Date.now()` stamps of other processes on this machine.
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A whole number of milliseconds drawn uniformly from [min, max). */
export function randomBetween(min: number, max: number): number {
  return Math.floor(min + Math.random() * (max - min));
}

/** Polls `check` every `everyMs` until it returns a value, or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  everyMs = 5,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * The time a worker wrote with `date +%s%N` (nanoseconds since the epoch) as epoch
 * milliseconds with microsecond precision, or undefined if it has not written it yet.
 */
export function parseDateStamp(text: string): number | undefined {
  const line = text.trim().split('\n')[0] ?? '';
  if (!/^\d{19}$/.test(line)) return undefined;
  return Number(BigInt(line) / 1000n) / 1000;
}
