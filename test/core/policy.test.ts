import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  POLICY_FIELDS,
  parsePolicyKeys,
  parsePolicyOverrides,
  parsePolicyValue,
  resolvePolicy,
} from '../../src/core/policy.js';
import { ErrorCode, WardenError } from '../../src/core/errors.js';

describe('policy', () => {
  it('has the SPEC §3 defaults', () => {
    expect(DEFAULT_POLICY).toMatchObject({
      stall_warn_after: 600_000,
      stall_timeout: 3_600_000,
      max_runtime: 21_600_000,
      kill_grace: 30_000,
      max_failures: 3,
      max_host_losses: 5,
      stall_loop_limit: 2,
      backoff_base: 60_000,
      backoff_max: 900_000,
      exit_zero: 'auto',
      rate_limit_cooldown: 60_000,
      rate_limit_cooldown_max: 900_000,
      max_rate_limited: 10,
      max_spawn_failures: 3,
    });
    expect(Object.keys(DEFAULT_POLICY).sort()).toEqual(POLICY_FIELDS.map((f) => f.key).sort());
  });

  it('layers config, profile and task over the defaults, later winning', () => {
    const p = resolvePolicy(
      { stall_timeout: 1000 },
      { stall_timeout: 2000, max_failures: 5 },
      {
        max_failures: 7,
      },
    );
    expect(p.stall_timeout).toBe(2000);
    expect(p.max_failures).toBe(7);
    expect(p.kill_grace).toBe(DEFAULT_POLICY.kill_grace);
  });

  it('accepts 0 only where it has a meaning', () => {
    expect(parsePolicyValue('max_runtime', '0')).toBe(0);
    expect(parsePolicyValue('kill_grace', 0)).toBe(0);
    expect(() => parsePolicyValue('stall_timeout', '0')).toThrow(
      'stall-timeout: must be longer than 0',
    );
  });

  it.each([
    ['stall_timeout', '10x', /not a duration/],
    ['stall_timeout', -5, /cannot be negative/],
    ['max_failures', '0', /at least 1/],
    ['max_failures', '2.5', /whole number/],
    ['exit_zero', 'maybe', /one of auto, complete, fail/],
    ['no_such_option', '1s', /unknown policy option 'no_such_option'/],
  ])('refuses %s=%j', (key, value, message) => {
    let caught: unknown;
    try {
      parsePolicyValue(key, value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WardenError);
    expect((caught as WardenError).code).toBe(ErrorCode.invalid);
    expect((caught as WardenError).message).toMatch(message);
  });

  it('reads durations from JSON as text or milliseconds', () => {
    expect(parsePolicyOverrides({ stall_timeout: '90s', kill_grace: 500 }, 'config')).toEqual({
      stall_timeout: 90_000,
      kill_grace: 500,
    });
    expect(() => parsePolicyOverrides([1], 'config')).toThrow(/must be an object/);
  });

  // Issue #11: what JSON says must be exactly what it means.
  it('refuses in JSON what a flag may spell as text', () => {
    expect(parsePolicyValue('max_failures', '3')).toBe(3);
    expect(() => parsePolicyOverrides({ max_failures: '3' }, 'policy')).toThrow(
      'policy.max_failures: expected a whole number of at least 1 (a JSON number, not a string), got "3"',
    );
    expect(() => parsePolicyOverrides({ max_failures: 2.5 }, 'policy')).toThrow(/got 2\.5$/);
    expect(() => parsePolicyOverrides({ exit_zero: 1 }, 'policy')).toThrow(/expected one of/);
  });

  it('never lets a duration that is not zero become 0 (unlimited)', () => {
    for (const value of ['0.4ms', '0.0001ms']) {
      expect(() => parsePolicyValue('max_runtime', value)).toThrow(/is shorter than 1ms/);
      expect(() => parsePolicyOverrides({ max_runtime: value }, 'policy')).toThrow(
        /^policy\.max_runtime: '.*' is shorter than 1ms/,
      );
    }
    expect(() => parsePolicyOverrides({ max_runtime: 0.4 }, 'policy')).toThrow(
      'policy.max_runtime: expected whole milliseconds or a duration like 90s, got 0.4',
    );
    expect(() => parsePolicyValue('max_runtime', '90s ')).toThrow(/has spaces around it/);
    expect(() => parsePolicyValue('max_failures', ' 3')).toThrow(/at least 1/);
    expect(parsePolicyOverrides({ max_runtime: 0, kill_grace: '0s' }, 'policy')).toEqual({
      max_runtime: 0,
      kill_grace: 0,
    });
  });

  it('checks the names of options to clear', () => {
    expect(parsePolicyKeys(['max_runtime'], 'clear_policy')).toEqual(['max_runtime']);
    expect(() => parsePolicyKeys(['max_runtime', 'colour'], 'clear_policy')).toThrow(
      /^clear_policy: unknown policy option "colour"; known: stall_warn_after, stall_timeout/,
    );
    expect(() => parsePolicyKeys([7], 'clear_policy')).toThrow(/unknown policy option 7;/);
  });
});
