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
    ['0s', 0],
    ['0.5ms', 1],
    ['1.5ms', 2],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', '10x', '-5s', 'm', '5 m', '1e3ms', 'ten minutes'])('refuses %j', (text) => {
    expect(() => parseDuration(text, 'stall-timeout')).toThrow(
      /^stall-timeout: '.*' is not a duration; use a number with a unit/,
    );
  });

  it.each([' 2m ', '2m ', ' 2m', '2m\t', '\n90s'])(
    'refuses %j: spaces around a duration',
    (text) => {
      expect(() => parseDuration(text, 'max-runtime')).toThrow(
        /^max-runtime: '.*' has spaces around it; write the duration alone, like '(2m|90s)'$/s,
      );
    },
  );

  // `--max-runtime 0.4ms` was stored as 0, which means unlimited (issue #11).
  it.each(['0.4ms', '0.0001ms', '0.0004s', '0.00000001h'])(
    'refuses %j: it rounds to 0 ms',
    (text) => {
      expect(() => parseDuration(text, 'max-runtime')).toThrow(
        `max-runtime: '${text}' is shorter than 1ms; durations are whole milliseconds, write 1ms or more`,
      );
    },
  );

  it('never reads a duration other than zero as 0 ms', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 10, noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom('ms', 's', 'm'),
        (n, unit) => {
          const text = `${n.toFixed(6)}${unit}`;
          let ms: number;
          try {
            ms = parseDuration(text);
          } catch {
            return true;
          }
          return Number(n.toFixed(6)) === 0 ? ms === 0 : ms >= 1 && Number.isSafeInteger(ms);
        },
      ),
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
