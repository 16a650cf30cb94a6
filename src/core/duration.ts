import { invalid } from './errors.js';
import type { Millis } from './glossary.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/**
 * Parses a duration such as `500ms`, `90s`, `10m`, `4h`, `1d` or `1h30m` (what
 * `formatDuration` prints) into whole milliseconds. A bare `0` (or zero with a unit) is zero.
 * Throws an `invalid` error naming the accepted forms otherwise, and for text that is not
 * exactly a duration: spaces around it, or a length that rounds to 0 ms (`0.4ms` would
 * otherwise be stored as 0, which means "unlimited" or "at once" where zero is allowed).
 */
export function parseDuration(text: string, what = 'duration'): Millis {
  if (text !== text.trim()) {
    throw invalid(
      `${what}: '${text}' has spaces around it; write the duration alone, like '${text.trim()}'`,
    );
  }
  if (text === '0') return 0;
  if (!PATTERN.test(text)) {
    throw invalid(
      `${what}: '${text}' is not a duration; use a number with a unit, like 500ms, 90s, 10m or 4h`,
    );
  }
  let total = 0;
  for (const [, value, unit] of text.matchAll(PART))
    total += Number(value) * (UNITS[unit ?? ''] ?? 1);
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw invalid(`${what}: '${text}' is too long`);
  if (ms === 0 && total > 0) {
    throw invalid(
      `${what}: '${text}' is shorter than 1ms; durations are whole milliseconds, write 1ms or more`,
    );
  }
  return ms;
}

/** Formats milliseconds the way people write them: `750ms`, `45s`, `12m`, `2h30m`. */
export function formatDuration(ms: Millis): string {
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 || m >= 10 ? `${m}m` : `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}
