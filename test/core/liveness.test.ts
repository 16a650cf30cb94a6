import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { creditedProgress, judgeLiveness, nextDeadlines } from '../../src/core/liveness.js';
import type { RunClock } from '../../src/core/liveness.js';

const policy = { stall_warn_after: 600_000, stall_timeout: 3_600_000, max_runtime: 21_600_000 };

describe('judgeLiveness', () => {
  it('never ends a run that keeps progressing, whatever its age, until max_runtime', () => {
    const clock = new ManualClock();
    const run: RunClock = { started: clock.monotonic(), lastProgress: null, warned: false };
    for (let i = 0; i < 5 * 60; i++) {
      clock.advance(60_000);
      run.lastProgress = clock.monotonic();
      expect(judgeLiveness(run, policy, clock.monotonic())).toEqual({ action: 'none' });
    }
    clock.advance(3_600_000);
    run.lastProgress = clock.monotonic();
    expect(judgeLiveness(run, policy, clock.monotonic()).action).toBe('timeout');
    expect(judgeLiveness(run, { ...policy, max_runtime: 0 }, clock.monotonic()).action).toBe(
      'none',
    );
  });

  it('warns once after stall_warn_after, then stalls at stall_timeout', () => {
    const run: RunClock = { started: 0, lastProgress: null, warned: false };
    expect(judgeLiveness(run, policy, 599_999).action).toBe('none');
    expect(judgeLiveness(run, policy, 600_000)).toEqual({ action: 'warn', silentFor: 600_000 });
    run.warned = true;
    expect(judgeLiveness(run, policy, 1_800_000).action).toBe('none');
    expect(judgeLiveness(run, policy, 3_600_000)).toEqual({
      action: 'stall',
      silentFor: 3_600_000,
    });
  });

  it('counts silence from the last progress, not from the start', () => {
    const run: RunClock = { started: 0, lastProgress: 3_000_000, warned: false };
    expect(judgeLiveness(run, policy, 3_500_000).action).toBe('none');
    expect(nextDeadlines(run, policy)).toEqual({
      warnAt: 3_600_000,
      stallAt: 6_600_000,
      timeoutAt: 21_600_000,
    });
  });

  it('leaves time in which nothing could be heard out of silence, not out of runtime', () => {
    const run: RunClock = { started: 0, lastProgress: null, warned: false };
    run.lastProgress = creditedProgress(run, 3_000_000, 3_500_000);
    expect(run.lastProgress).toBe(3_000_000);
    expect(judgeLiveness(run, policy, 3_500_000).action).toBe('none');
    expect(judgeLiveness(run, policy, 21_600_000).action).toBe('timeout');
    // Never later than now: a credit longer than the silence leaves none.
    expect(creditedProgress({ ...run, lastProgress: 1000 }, 60_000, 20_000)).toBe(20_000);
  });
});
