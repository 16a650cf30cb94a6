import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

/** The most intervals open at once. */
function maxOverlap(intervals: readonly [number, number][]): number {
  const points = intervals.flatMap<[number, number]>(([a, b]) => [
    [a, 1],
    [b, -1],
  ]);
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of points) {
    open += d;
    max = Math.max(max, open);
  }
  return max;
}

describe('one admission function holds every cap (SPEC §4)', () => {
  it('50 tasks over two profiles capped at 3 each on a host capped at 5 (must-show 11)', async () => {
    home = await new TestHome().init();
    await home.profile('alpha', fixture('short-job.sh', '0.15'), ['--max-concurrency', '3']);
    await home.profile('beta', fixture('short-job.sh', '0.15'), ['--max-concurrency', '3']);
    // The tasks are put on the board through the store before serve starts: 50 CLI calls
    // took most of the test's time on a loaded machine, and the CLI is not what is tested.
    const store = await home.store();
    const profileOf = new Map<number, string>();
    for (let i = 0; i < 50; i++) {
      const p = i % 2 === 0 ? 'alpha' : 'beta';
      const task = await store.createTask({ title: `job ${i}`, assignee: p }, person('tester'));
      profileOf.set(task.id, p);
    }
    await home.serve(['--max-workers', '5']);
    const samples: { alpha: number; beta: number; total: number }[] = [];
    await waitFor(
      'all 50 tasks done',
      async () => {
        const running = await store.listTasks({ statuses: ['running'], limit: 100 });
        const count = (p: string): number => running.filter((t) => t.assignee === p).length;
        samples.push({ alpha: count('alpha'), beta: count('beta'), total: running.length });
        return (await store.listTasks({ statuses: ['done'], limit: 100 })).length === 50;
      },
      60_000,
    );
    expect(Math.max(...samples.map((s) => s.total))).toBeLessThanOrEqual(5);
    expect(Math.max(...samples.map((s) => s.alpha))).toBeLessThanOrEqual(3);
    expect(Math.max(...samples.map((s) => s.beta))).toBeLessThanOrEqual(3);
    expect(Math.max(...samples.map((s) => s.total))).toBeGreaterThanOrEqual(4);

    // The workers' own records of their lifetimes agree.
    const life = home.lifeLines();
    const intervals = (p?: string): [number, number][] =>
      [...profileOf.keys()]
        .filter((id) => p === undefined || profileOf.get(id) === p)
        .map((id) => {
          const start = life.find((l) => l.task === id && l.event === 'start')?.at ?? 0;
          const stop = life.find((l) => l.task === id && l.event === 'stop')?.at ?? 0;
          return [start, stop];
        });
    expect(maxOverlap(intervals())).toBeLessThanOrEqual(5);
    expect(maxOverlap(intervals('alpha'))).toBeLessThanOrEqual(3);
    expect(maxOverlap(intervals('beta'))).toBeLessThanOrEqual(3);
    for (const id of profileOf.keys()) {
      const runs = await home.runs(id);
      expect(runs.map((r) => r.outcome)).toEqual(['completed']);
    }
  }, 90_000);

  it("doctor judges the host cap by the running serve's --max-workers, not the config's", async () => {
    home = await new TestHome().init();
    await home.profile('sleepy', fixture('sleeper.sh', '60'), ['--kill-grace', '1s']);
    const first = await home.task('first', ['--assignee', 'sleepy']);
    const second = await home.task('second', ['--assignee', 'sleepy']);
    // The config says 4 (the default); this serve runs one worker at a time.
    await home.serve(['--max-workers', '1']);
    await home.waitStatus(first, 'running');
    const doctor = await home.ok(['doctor', String(second)]);
    expect(doctor).toMatch(/host cap full \(1\/1 max_workers\)/);
    await home.ok(['archive', String(second)]);
    await home.ok(['stop', String(first)]);
  }, 30_000);
});
