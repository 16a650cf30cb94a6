import { describe, expect, it } from 'vitest';
import { HostLeaseView, hostLeaseTimes } from '../../src/core/host-lease.js';

describe('host lease timings (SPEC §3 "Several hosts")', () => {
  it('renews every TTL/6, freezes at TTL − 5 s, kills TTL + 60 s after freezing', () => {
    expect(hostLeaseTimes(30_000)).toEqual({
      ttlMs: 30_000,
      renewEveryMs: 5_000,
      freezeAfterMs: 25_000,
      killAfterFrozenMs: 90_000,
      watchEveryMs: 1_000,
      reapEveryMs: 500,
    });
  });

  it('keeps a margin of a third of a short TTL, so freezing always comes before the lapse', () => {
    const t = hostLeaseTimes(3_000);
    expect(t.freezeAfterMs).toBe(2_000);
    expect(t.renewEveryMs).toBe(500);
    expect(t.watchEveryMs).toBe(250);
    expect(t.reapEveryMs).toBe(250);
  });

  it('looks for lapsed hosts often enough that looking adds at most 500 ms past the TTL', () => {
    for (const ttl of [300, 1_000, 3_000, 6_000, 30_000, 600_000]) {
      const t = hostLeaseTimes(ttl);
      expect(t.reapEveryMs).toBeGreaterThanOrEqual(100);
      expect(t.reapEveryMs).toBeLessThanOrEqual(500);
      expect(t.reapEveryMs).toBeLessThanOrEqual(Math.max(100, ttl / 12));
    }
  });
});

describe('a host’s own view of its lease', () => {
  const times = hostLeaseTimes(30_000);

  it('is good from the send time of the last renewal until the freeze point', () => {
    const v = new HostLeaseView(times);
    expect(v.valid(0)).toBe(false);
    expect(v.freezeAt()).toBeNull();
    expect(v.renewed(1_000)).toBe(true);
    expect(v.valid(25_999)).toBe(true);
    expect(v.valid(26_000)).toBe(false);
    expect(v.freezeAt()).toBe(26_000);
  });

  it('reaps only after renewing without a gap for one full TTL', () => {
    const v = new HostLeaseView(times);
    v.renewed(0);
    for (let t = 5_000; t < 30_000; t += 5_000) {
      expect(v.renewed(t)).toBe(false);
      expect(v.mayReap(t)).toBe(false);
    }
    v.renewed(30_000);
    expect(v.mayReap(30_000)).toBe(true);
    // A store outage: no renewal for 25 s is a gap; the count starts again.
    expect(v.renewed(55_000)).toBe(true);
    expect(v.mayReap(60_000)).toBe(false);
    for (let t = 60_000; t <= 85_000; t += 5_000) v.renewed(t);
    expect(v.mayReap(85_000)).toBe(true);
  });

  it('never reaps while its own lease is not good', () => {
    const v = new HostLeaseView(times);
    for (let t = 0; t <= 30_000; t += 5_000) v.renewed(t);
    expect(v.mayReap(30_000)).toBe(true);
    expect(v.mayReap(55_000)).toBe(false);
  });

  it('measures from the send time: a slow answer does not lengthen the lease', () => {
    const v = new HostLeaseView(times);
    v.renewed(10_000);
    v.renewed(5_000); // an older renewal answered late
    expect(v.freezeAt()).toBe(35_000);
  });

  it('trusts nothing after a suspend: not good until the next renewal, which is a gap', () => {
    const v = new HostLeaseView(times);
    for (let t = 0; t <= 30_000; t += 5_000) v.renewed(t);
    v.forget();
    expect(v.valid(30_001)).toBe(false);
    expect(v.mayReap(30_001)).toBe(false);
    expect(v.renewed(31_000)).toBe(true);
    expect(v.valid(31_001)).toBe(true);
  });
});
