import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { Absences } from '../../src/supervisor/absences.js';

describe('Absences: the spans in which serve did not run', () => {
  it('sees a gap between beats longer than the threshold, and no shorter one', () => {
    const clock = new ManualClock();
    const absences = new Absences(() => clock.now(), 1000);
    const start = clock.now();
    for (let i = 0; i < 20; i++) {
      clock.advance(250);
      expect(absences.beat()).toBeNull();
    }
    clock.advance(1000);
    expect(absences.beat()).toBeNull();
    expect(absences.since(start)).toBe(0);

    const from = clock.now();
    clock.advance(5000);
    expect(absences.beat()).toEqual({ from, ms: 5000 });
    clock.advance(250);
    expect(absences.beat()).toBeNull();
  });

  it('sees a suspend, which moves only the wall clock', () => {
    const clock = new ManualClock();
    const absences = new Absences(() => clock.now(), 1000);
    const from = clock.now();
    clock.jumpWall(3_600_000);
    expect(absences.beat()).toEqual({ from, ms: 3_600_000 });
  });

  it('counts the absent part of the time since a moment, for every absence after it', () => {
    const clock = new ManualClock();
    const absences = new Absences(() => clock.now(), 1000);
    const t0 = clock.now();
    clock.advance(10_000); // an absence of 10 s: [t0, t0 + 10 s]
    absences.beat();
    clock.advance(500);
    absences.beat();
    clock.advance(4000); // another of 4 s: [t0 + 10.5 s, t0 + 14.5 s]
    absences.beat();
    expect(absences.since(t0 - 1000)).toBe(14_000);
    expect(absences.since(t0)).toBe(14_000);
    expect(absences.since(t0 + 6000)).toBe(8000);
    expect(absences.since(t0 + 10_200)).toBe(4000);
    expect(absences.since(t0 + 12_500)).toBe(2000);
    expect(absences.since(clock.now())).toBe(0);
  });

  it('takes a wall clock set back as no absence, and measures the next gap from there', () => {
    const clock = new ManualClock();
    const absences = new Absences(() => clock.now(), 1000);
    clock.jumpWall(-60_000);
    expect(absences.beat()).toBeNull();
    clock.advance(900);
    expect(absences.beat()).toBeNull();
  });
});
