import type { Millis } from './glossary.js';

/** A source of randomness in [0, 1), injected so tests are repeatable. */
export type Random = () => number;

/** How far a delay is spread either way, so retries of many tasks do not land together. */
export const JITTER = 0.2;

/**
 * The delay before try `n` (1-based): `min(base · 2^(n-1), max)`, spread ±20 %. Used for
 * failure backoff and for rate-limit cooldowns.
 */
export function backoffDelay(n: number, base: Millis, max: Millis, random: Random): Millis {
  const raw = Math.min(base * 2 ** Math.max(0, n - 1), max);
  const spread = 1 + JITTER * (2 * random() - 1);
  return Math.max(0, Math.round(raw * spread));
}
