import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { systemClock } from '../../src/config/clock.js';
import {
  RUN_START_FILE,
  adoptedClock,
  readRunStart,
  runStartNow,
  writeRunStart,
} from '../../src/supervisor/run-start.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe("an adopted run's clock", () => {
  it('leaves the machine’s sleep out of runtime and silence', () => {
    const clock = new ManualClock();
    const startedAt = clock.now();
    const start = runStartNow(clock);
    clock.advance(10 * MIN);
    const lastProgress = clock.now();
    clock.advance(5 * MIN);
    clock.jumpWall(15 * HOUR); // asleep overnight
    clock.advance(2 * MIN);
    const adopted = adoptedClock({ startedAt, lastProgress }, start, clock);
    expect(clock.monotonic() - adopted.started).toBe(17 * MIN);
    expect(clock.monotonic() - (adopted.lastProgress ?? 0)).toBe(7 * MIN);
  });

  it('counts serve’s downtime as runtime: the worker ran meanwhile', () => {
    const clock = new ManualClock();
    const startedAt = clock.now();
    const start = runStartNow(clock);
    clock.advance(40 * MIN); // serve down, the machine awake
    const adopted = adoptedClock({ startedAt, lastProgress: null }, start, clock);
    expect(clock.monotonic() - adopted.started).toBe(40 * MIN);
    expect(adopted.lastProgress).toBeNull();
  });

  it('leaves a sleep before the last progress out of silence too, but never past now', () => {
    const clock = new ManualClock();
    const startedAt = clock.now();
    const start = runStartNow(clock);
    clock.jumpWall(8 * HOUR);
    clock.advance(30 * MIN);
    const lastProgress = clock.now();
    clock.advance(50 * MIN);
    const adopted = adoptedClock({ startedAt, lastProgress }, start, clock);
    expect(clock.monotonic() - adopted.started).toBe(80 * MIN);
    // When the sleep fell is not kept: silence is judged from the adoption on.
    expect(adopted.lastProgress).toBe(clock.monotonic());
  });

  it('takes the wall times as they are for a run with no start kept (an older warden’s)', () => {
    const clock = new ManualClock();
    const startedAt = clock.now();
    clock.advance(10 * MIN);
    const lastProgress = clock.now();
    clock.jumpWall(2 * HOUR);
    const adopted = adoptedClock({ startedAt, lastProgress }, null, clock);
    expect(clock.monotonic() - adopted.started).toBe(130 * MIN);
    expect(clock.monotonic() - (adopted.lastProgress ?? 0)).toBe(120 * MIN);
  });
});

describe("a run's start in its folder", () => {
  it('is read back as written, and a missing or damaged file is none', () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-start-'));
    expect(readRunStart(dir)).toBeNull();
    writeRunStart(dir, { mono: 1234.5, suspended: 60_000 });
    expect(readRunStart(dir)).toEqual({ mono: 1234.5, suspended: 60_000 });
    writeFileSync(join(dir, RUN_START_FILE), 'not numbers\n');
    expect(readRunStart(dir)).toBeNull();
  });

  it('reads this machine’s sleep as the boot-time clock less the monotonic one', () => {
    const before = systemClock.suspended();
    const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
    const mono = Number(process.hrtime.bigint()) / 1e6;
    const after = systemClock.suspended();
    // /proc/uptime has a resolution of 10 ms; the figure does not grow while awake.
    expect(Math.abs(before - Math.max(0, up - mono))).toBeLessThan(20);
    expect(Math.abs(after - before)).toBeLessThan(20);
  });
});
