import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['10m', 600_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
    ['1.5s', 1500],
    ['0', 0],
    ['1h30m', 5_400_000],
    ['2m5s', 125_000],
    [' 2m ', 120_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', '10x', '-5s', 'm', '5 m', '1e3ms', 'ten minutes'])('refuses %j', (text) => {
    expect(() => parseDuration(text, 'stall-timeout')).toThrow(
      /^stall-timeout: '.*' is not a duration; use a number with a unit/,
    );
  });

  it('reads back whatever whole number of a unit it is given', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.constantFrom(['ms', 1], ['s', 1000], ['m', 60_000], ['h', 3_600_000]),
        (n, [unit, scale]) => parseDuration(`${n}${unit}`) === n * (scale as number),
      ),
    );
  });
});

describe('formatDuration', () => {
  it.each([
    [750, '750ms'],
    [45_000, '45s'],
    [90_000, '1m30s'],
    [12 * 60_000, '12m'],
    [150 * 60_000, '2h30m'],
    [4 * 3_600_000, '4h'],
    [72 * 3_600_000, '3d'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('writes something parseDuration reads back to within its rounding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 48 * 3_600_000 - 1 }), (ms) => {
        const text = formatDuration(ms);
        return Math.abs(parseDuration(text) - ms) < 60_000;
      }),
    );
  });
});
