import { afterEach, describe, expect, it } from 'vitest';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

describe('exit codes and retry loops stop with a reason (SPEC §3, P5)', () => {
  it('exit 75 cools down without counting a failure; exit 78 blocks at once; a missing command blocks after 3 (must-show 6)', async () => {
    home = await new TestHome().init();
    // Its loop ends by itself (third test), so no run of it is alive when serve is killed.
    await home.profile('limited', fixture('rate-limited.sh'), [
      '--rate-limit-cooldown',
      '200ms',
      '--max-rate-limited',
      '3',
    ]);
    await home.profile('misconfigured', fixture('exit-code.sh', '78'));
    await home.profile(
      'missing',
      ['/nonexistent/agent', '--go'],
      ['--no-check', '--backoff-base', '100ms'],
    );
    const limited = await home.task('limited', ['--assignee', 'limited']);
    const misconfigured = await home.task('misconfigured', ['--assignee', 'misconfigured']);
    const missing = await home.task('missing', ['--assignee', 'missing']);
    await home.serve();

    await waitFor(
      'two rate-limited runs',
      async () =>
        (await home.runs(limited)).filter(
          (r) => r.state === 'ended' && r.outcome === 'rate_limited',
        ).length >= 2,
    );
    const t = await home.getTask(limited);
    expect(t.counters.failures).toBe(0);
    expect(t.counters.rate_limited_streak).toBeGreaterThanOrEqual(2);
    const requeues = (await home.events(limited)).filter((e) => e.kind === 'task_requeued');
    expect(
      (requeues[0]?.payload.not_before as number) - (requeues[0]?.at ?? 0),
    ).toBeGreaterThanOrEqual(160);

    const blocked = await home.waitStatus(misconfigured, 'blocked');
    expect(blocked).toMatchObject({ block_rule: 'config_error' });
    expect(blocked.block_reason).toMatch(/^config_error: the worker exited 78/);
    expect(await home.runs(misconfigured)).toHaveLength(1);

    const gaveUp = await home.waitStatus(missing, 'blocked', 30_000);
    expect(gaveUp.block_rule).toBe('spawn_failed');
    expect(gaveUp.block_reason).toMatch(
      /could not be started 3 times in a row \(max_spawn_failures 3\): spawn \/nonexistent\/agent ENOENT/,
    );
    expect((await home.runs(missing)).map((r) => r.outcome)).toEqual([
      'spawn_failed',
      'spawn_failed',
      'spawn_failed',
    ]);
    expect((await home.waitStatus(limited, 'blocked', 30_000)).block_rule).toBe('rate_limit_loop');
  });

  it('exit 0 after using the worker protocol without a result fails (exit_zero auto)', async () => {
    home = await new TestHome().init();
    await home.profile(
      'forgetful',
      ['sh', '-c', 'warden worker show > /dev/null && exit 0'],
      ['--backoff-base', '10m'],
    );
    await home.profile('plain', ['sh', '-c', 'echo all good']);
    const a = await home.task('forgets to complete', ['--assignee', 'forgetful']);
    const b = await home.task('never asked', ['--assignee', 'plain']);
    await home.serve();
    await home.waitStatus(b, 'done');
    expect((await home.getTask(b)).result?.summary).toBe('all good\n');
    const run = await waitFor('the forgetful run to end', async () => {
      const [r] = await home.runs(a);
      return r?.state === 'ended' ? r : undefined;
    });
    expect(run).toMatchObject({ outcome: 'crashed', exit_code: 0 });
    expect(run.reason?.rule).toBe('exited_without_result');
  });

  it('exit 75 again and again: each cooldown is longer, and max_rate_limited ends the loop (must-show 10)', async () => {
    home = await new TestHome().init();
    await home.profile('limited', fixture('rate-limited.sh'), [
      '--rate-limit-cooldown',
      '200ms',
      '--max-rate-limited',
      '6',
    ]);
    await home.profile('limited3', fixture('rate-limited.sh'), [
      '--rate-limit-cooldown',
      '200ms',
      '--max-rate-limited',
      '3',
    ]);
    const five = await home.task('five times', ['--assignee', 'limited']);
    const three = await home.task('three times', ['--assignee', 'limited3']);
    await home.serve();

    const blocked = await home.waitStatus(three, 'blocked', 30_000);
    expect(blocked.block_rule).toBe('rate_limit_loop');
    expect(blocked.block_reason).toBe(
      'rate_limit_loop: rate limited 3 times in a row (max_rate_limited 3)',
    );
    expect(await home.runs(three)).toHaveLength(3);

    const requeues = await waitFor(
      'five rate-limited requeues',
      async () => {
        const r = (await home.events(five)).filter((e) => e.kind === 'task_requeued');
        return r.length >= 5 ? r.slice(0, 5) : undefined;
      },
      30_000,
    );
    const waits = requeues.map((e) => (e.payload.not_before as number) - e.at);
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThan(waits[i - 1] ?? 0);
    expect(await home.getTask(five)).toMatchObject({ counters: { failures: 0 } });
    const final = await home.waitStatus(five, 'blocked', 30_000);
    expect(final.block_rule).toBe('rate_limit_loop');
  });
});
