import { parseDuration } from './duration.js';
import { invalid } from './errors.js';
import type { EpochMs } from './glossary.js';

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A time a person gives (`create --not-before`): an ISO 8601 date or time
 * (`2026-05-01T09:00:00Z`, `2026-05-01T11:00+02:00`, `2026-05-01` as midnight UTC; a time
 * without a zone is the machine's local time), or a duration from `now` (`30m`, `2h`, `1d`).
 * Throws `invalid` naming both forms otherwise.
 */
export function parseWhen(text: string, now: EpochMs, what: string): EpochMs {
  const t = text.trim();
  if (ISO.test(t)) {
    const at = Date.parse(t);
    // Date.parse rolls 2026-02-30 over to March 2; a day that does not exist is refused.
    const [y, m, d] = t.slice(0, 10).split('-').map(Number);
    const day = new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1));
    if (Number.isNaN(at) || day.getUTCMonth() !== (m ?? 1) - 1 || day.getUTCDate() !== d) {
      throw invalid(`${what}: '${text}' is not a real date or time`);
    }
    return at;
  }
  if (/^\d/.test(t) && !/^\d{4}-/.test(t)) {
    let ms: number | null = null;
    try {
      ms = parseDuration(t, what);
    } catch (err) {
      // A duration too long to hold is said as such; anything else below, with both forms.
      if (err instanceof Error && err.message.endsWith('is too long')) throw err;
    }
    if (ms !== null) {
      // Past the last time a date can hold (about 275,000 years from now), it is no time at all.
      if (Number.isNaN(new Date(now + ms).getTime())) {
        throw invalid(`${what}: '${text}' is too far ahead to be a time`);
      }
      return now + ms;
    }
  }
  throw invalid(
    `${what}: '${text}' is neither a time nor a duration; use ISO 8601 like 2026-05-01T09:00:00Z, or a duration from now like 30m or 2h`,
  );
}

/**
 * A time back from now (`events --since`): an ISO 8601 time, or how far back (`10m` is ten
 * minutes ago). Throws `invalid` naming both forms otherwise.
 */
export function parseSince(text: string, now: EpochMs, what: string): EpochMs {
  if (/^\d{4}-/.test(text.trim())) return parseWhen(text, now, what);
  try {
    return now - parseDuration(text, what);
  } catch (err) {
    // A duration too long to hold is said as such; anything else, with both forms.
    if (err instanceof Error && err.message.endsWith('is too long')) throw err;
    throw invalid(
      `${what}: '${text}' is neither a time nor a duration; use ISO 8601 like 2026-05-01T09:00:00Z, or how far back, like 10m or 2h`,
    );
  }
}

/**
 * The start of a window that ends now (`report --since`): as `parseSince`, but a time to come
 * (past `slackMs`, which an API gives a client whose clock runs a little ahead) and one before
 * 1970 are refused; a time within the slack is now.
 */
export function parseWindowStart(text: string, now: EpochMs, what: string, slackMs = 0): EpochMs {
  const at = parseSince(text, now, what);
  if (at > now + slackMs) {
    throw invalid(`${what}: '${text}' is in the future; give a time before now`);
  }
  if (at < 0) throw invalid(`${what}: '${text}' is too far back; give a time after 1970`);
  return Math.min(at, now);
}
