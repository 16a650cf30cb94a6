import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { GcSchedule } from '../../src/serve/gc-schedule.js';

describe('serve --gc-every: when gc runs', () => {
  it('runs at the first tick, then once per interval, never two passes at once', async () => {
    const clock = new ManualClock();
    let passes = 0;
    let finish: () => void = () => undefined;
    const schedule = new GcSchedule({
      everyMs: 60_000,
      clock,
      run: () => {
        passes++;
        return new Promise<void>((resolve) => (finish = resolve));
      },
    });
    const first = schedule.tick();
    expect(first).not.toBeNull();
    expect(passes).toBe(1);
    // Due again, but the first pass is still running: no second one beside it.
    clock.advance(120_000);
    expect(schedule.tick()).toBeNull();
    finish();
    await first;
    const second = schedule.tick();
    expect(passes).toBe(2);
    finish();
    await second;
    clock.advance(59_999);
    expect(schedule.tick()).toBeNull();
    clock.advance(1);
    expect(schedule.tick()).not.toBeNull();
    expect(passes).toBe(3);
  });

  it('a failing pass does not stop the schedule', async () => {
    const clock = new ManualClock();
    let passes = 0;
    const schedule = new GcSchedule({
      everyMs: 1000,
      clock,
      run: () => {
        passes++;
        return Promise.reject(new Error('disk gone'));
      },
    });
    await expect(schedule.tick()).rejects.toThrow('disk gone');
    clock.advance(1000);
    await expect(schedule.tick()).rejects.toThrow('disk gone');
    expect(passes).toBe(2);
  });
});
