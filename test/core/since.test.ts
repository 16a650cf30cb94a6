import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/core/when.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

/** `--since` of `events` and `report`, and the report API's `since`. */
describe('parseSince', () => {
  it('takes a time, or how far back', () => {
    expect(parseSince('2026-12-06T09:00:00Z', NOW, '--since')).toBe(Date.UTC(2026, 11, 6, 9));
    expect(parseSince('3h', NOW, '--since')).toBe(NOW - 3 * 3_600_000);
  });

  it('refuses a time to come, past the slack a client with a clock ahead may need', () => {
    const soon = '2026-12-06T12:00:30Z';
    expect(() => parseSince(soon, NOW, '--since')).toThrow(
      "--since: '2026-12-06T12:00:30Z' is in the future; give a time before now",
    );
    // With a minute's slack it is taken as now.
    expect(parseSince(soon, NOW, 'since', 60_000)).toBe(NOW);
    expect(() => parseSince('2026-12-06T12:02:00Z', NOW, 'since', 60_000)).toThrow(/future/);
  });

  it('refuses what is before 1970 or too long to hold, and anything else naming both forms', () => {
    // It once printed a RangeError ("Invalid time value") from the report's headline.
    expect(() => parseSince('101000000d', NOW, '--since')).toThrow(
      "--since: '101000000d' is too far back; give a time after 1970",
    );
    expect(() => parseSince('99999999999999999d', NOW, '--since')).toThrow(/is too long$/);
    expect(() => parseSince('yesterday', NOW, '--since')).toThrow(
      /^--since: 'yesterday' is neither a time nor a duration/,
    );
  });
});
