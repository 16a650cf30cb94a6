import { describe, expect, it } from 'vitest';
import { firstOverlap, lifeSpans } from '../helpers/life-spans.js';
import type { LifeLine } from '../helpers/life-spans.js';

// The check behind every integration test's P3 assertion ("never two workers at once") must
// itself be right: a false alarm fails CI, a missed overlap hides the bug the tests guard.
const line = (event: string, run: number, pid: number, at: number): LifeLine => ({
  event,
  task: 1,
  run,
  pid,
  at,
});

describe('the P3 check of workers’ own life lines', () => {
  it('ends a run with no stop line when the store ended it, even if its process ran another', () => {
    // One pull worker (pid 7): run 1's handler threw after a pause and wrote no stop; the store
    // ended run 1 at 1,500; the same process then ran run 2 from 2,000 to 4,500.
    const lines = [
      line('start', 1, 7, 1_000),
      line('start', 2, 7, 2_000),
      line('stop', 2, 7, 4_500),
    ];
    const spans = lifeSpans(lines, (run) => (run === 1 ? 1_500 : Infinity));
    expect(spans).toEqual([
      [1_000, 1_500],
      [2_000, 4_500],
    ]);
    expect(firstOverlap(spans)).toBeNull();
  });

  it('reports one process running a run while its earlier run’s handler still works', () => {
    const lines = [
      line('start', 1, 7, 1_000),
      line('stop', 1, 7, 3_000),
      line('start', 2, 7, 2_000),
      line('stop', 2, 7, 4_000),
    ];
    expect(firstOverlap(lifeSpans(lines, () => Infinity))).toEqual([
      [1_000, 3_000],
      [2_000, 4_000],
    ]);
  });

  it('reports two processes alive at once, and a run never ended as alive', () => {
    const twoProcesses = [line('start', 1, 7, 1_000), line('start', 2, 8, 2_000)];
    expect(firstOverlap(lifeSpans(twoProcesses, (run) => (run === 1 ? 2_500 : 3_000)))).toEqual([
      [1_000, 2_500],
      [2_000, 3_000],
    ]);
    expect(firstOverlap(lifeSpans(twoProcesses, () => Infinity))).not.toBeNull();
  });
});
