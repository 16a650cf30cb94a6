import { describe, expect, it } from 'vitest';
import { parseSince, parseWindowStart } from '../../src/core/when.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

/** `--since` of `events` (`parseSince`) and `report`, and the report API's `since` (`parseWindowStart`). */
describe('parseSince and parseWindowStart', () => {
  it('takes a time, or how far back', () => {
    expect(parseSince('2026-12-06T09:00:00Z', NOW, '--since')).toBe(Date.UTC(2026, 11, 6, 9));
    expect(parseSince('3h', NOW, '--since')).toBe(NOW - 3 * 3_600_000);
  });

  it('a window start refuses a time to come, past the slack a client with a clock ahead may need', () => {
    const soon = '2026-12-06T12:00:30Z';
    // events --since takes it: nothing yet.
    expect(parseSince(soon, NOW, '--since')).toBe(NOW + 30_000);
    expect(() => parseWindowStart(soon, NOW, '--since')).toThrow(
      "--since: '2026-12-06T12:00:30Z' is in the future; give a time before now",
    );
    // With a minute's slack it is taken as now.
    expect(parseWindowStart(soon, NOW, 'since', 60_000)).toBe(NOW);
    expect(() => parseWindowStart('2026-12-06T12:02:00Z', NOW, 'since', 60_000)).toThrow(/future/);
  });

  it('refuses what is before 1970 or too long to hold, and anything else naming both forms', () => {
    // It once printed a RangeError ("Invalid time value") from the report's headline.
    expect(() => parseWindowStart('101000000d', NOW, '--since')).toThrow(
      "--since: '101000000d' is too far back; give a time after 1970",
    );
    expect(() => parseSince('99999999999999999d', NOW, '--since')).toThrow(/is too long$/);
    expect(() => parseSince('yesterday', NOW, '--since')).toThrow(
      /^--since: 'yesterday' is neither a time nor a duration/,
    );
  });
});
