import { describe, expect, it } from 'vitest';
import { accountRun } from '../../src/core/accounting.js';
import type { AccountingInput, RunEnding } from '../../src/core/accounting.js';
import { backoffDelay } from '../../src/core/backoff.js';
import { DEFAULT_POLICY, resolvePolicy } from '../../src/core/policy.js';
import type { TaskCounters } from '../../src/core/task.js';

const zero: TaskCounters = {
  attempts: 1,
  failures: 0,
  stall_streak: 0,
  rate_limited_streak: 0,
  spawn_failures: 0,
  host_losses: 0,
};
const NOW = 1_000_000;
const mid = (): number => 0.5;

function input(
  ending: Partial<RunEnding>,
  counters: Partial<TaskCounters> = {},
  policy = DEFAULT_POLICY,
): AccountingInput {
  return {
    ending: { runId: 9, outcome: 'crashed', madeProgress: true, message: 'exit code 1', ...ending },
    counters: { ...zero, ...counters },
    policy,
    now: NOW,
    random: mid,
    recentRunIds: [9, 8, 7],
  };
}

describe('backoffDelay', () => {
  it('doubles from the base up to the max, spread ±20 %', () => {
    expect(backoffDelay(1, 60_000, 900_000, mid)).toBe(60_000);
    expect(backoffDelay(3, 60_000, 900_000, mid)).toBe(240_000);
    expect(backoffDelay(10, 60_000, 900_000, mid)).toBe(900_000);
    expect(backoffDelay(1, 60_000, 900_000, () => 0)).toBe(48_000);
    expect(backoffDelay(1, 60_000, 900_000, () => 0.999999)).toBe(72_000);
  });
});

describe('accountRun', () => {
  it('completes and resets the consecutive counters, never the failure count', () => {
    const d = accountRun(
      input({ outcome: 'completed' }, { failures: 2, stall_streak: 1, rate_limited_streak: 4 }),
    );
    expect(d.verb).toBe('complete');
    expect(d.counters).toMatchObject({ failures: 2, stall_streak: 0, rate_limited_streak: 0 });
    expect(d.failure).toBe(false);
  });

  it('requeues a crash with backoff and blocks gave_up at max_failures, naming the last error', () => {
    const first = accountRun(input({}));
    expect(first).toMatchObject({ verb: 'requeue', notBefore: NOW + 60_000, failure: true });
    expect(first.counters.failures).toBe(1);
    const second = accountRun(input({}, { failures: 1 }));
    expect(second.notBefore).toBe(NOW + 120_000);
    const third = accountRun(input({}, { failures: 2 }));
    expect(third).toMatchObject({ verb: 'block', rule: 'gave_up' });
    expect(third.message).toBe(
      'gave_up: 3 failed runs (max_failures 3); last: crashed — exit code 1',
    );
  });

  it('blocks stall_loop after stall_loop_limit silent runs, naming the runs and limits', () => {
    const policy = resolvePolicy({ stall_timeout: 10_000 });
    const once = accountRun(input({ outcome: 'stalled', madeProgress: false }, {}, policy));
    expect(once).toMatchObject({ verb: 'requeue' });
    expect(once.counters.stall_streak).toBe(1);
    const twice = accountRun(
      input({ outcome: 'stalled', madeProgress: false }, { stall_streak: 1, failures: 1 }, policy),
    );
    expect(twice).toMatchObject({ verb: 'block', rule: 'stall_loop' });
    expect(twice.message).toBe(
      'stall_loop: 2 runs in a row made no progress (runs 8, 9; stall_loop_limit 2, stall_timeout 10s)',
    );
  });

  it('resets the stall streak when a run makes progress', () => {
    const d = accountRun(input({ outcome: 'stalled', madeProgress: true }, { stall_streak: 1 }));
    expect(d.counters.stall_streak).toBe(0);
    expect(d.verb).toBe('requeue');
  });

  it('treats exit 75 as come back later: cooldown on task and group, not a failure, bounded', () => {
    const policy = resolvePolicy({ rate_limit_cooldown: 200, max_rate_limited: 3 });
    const a = accountRun(input({ outcome: 'rate_limited' }, {}, policy));
    expect(a).toMatchObject({
      verb: 'requeue',
      notBefore: NOW + 200,
      groupNotBefore: NOW + 200,
      failure: false,
    });
    expect(a.counters).toMatchObject({ failures: 0, rate_limited_streak: 1 });
    const b = accountRun(input({ outcome: 'rate_limited' }, { rate_limited_streak: 1 }, policy));
    expect(b.notBefore).toBe(NOW + 400);
    const c = accountRun(input({ outcome: 'rate_limited' }, { rate_limited_streak: 2 }, policy));
    expect(c).toMatchObject({ verb: 'block', rule: 'rate_limit_loop' });
    expect(c.message).toMatch(/rate limited 3 times in a row \(max_rate_limited 3\)/);
  });

  it('blocks a config error at once and a timeout with its limit', () => {
    expect(accountRun(input({ outcome: 'config_error', message: 'exit 78' }))).toMatchObject({
      verb: 'block',
      rule: 'config_error',
      failure: true,
    });
    const t = accountRun(input({ outcome: 'timed_out' }));
    expect(t).toMatchObject({ verb: 'block', rule: 'timed_out' });
    expect(t.message).toMatch(/max_runtime 6h/);
  });

  it('blocks after max_spawn_failures spawn errors in a row with the error', () => {
    const d = accountRun(
      input(
        { outcome: 'spawn_failed', message: 'spawn nope ENOENT' },
        { spawn_failures: 2, failures: 0 },
      ),
    );
    expect(d).toMatchObject({ verb: 'block', rule: 'spawn_failed' });
    expect(d.message).toMatch(/3 times in a row \(max_spawn_failures 3\): spawn nope ENOENT/);
  });

  it('counts host losses on their own limit, not against failures or the breaker', () => {
    const d = accountRun(input({ outcome: 'host_lost' }, { host_losses: 1, failures: 2 }));
    expect(d).toMatchObject({ verb: 'requeue', failure: false });
    expect(d.counters).toMatchObject({ host_losses: 2, failures: 2 });
    const e = accountRun(input({ outcome: 'host_lost' }, { host_losses: 4 }));
    expect(e).toMatchObject({ verb: 'block', rule: 'host_losses' });
  });

  it('stops as the stopper asked: blocked needs_input, or requeued', () => {
    expect(accountRun(input({ outcome: 'stopped', message: 'stopped by ana' }))).toMatchObject({
      verb: 'block',
      rule: 'stopped',
      kind: 'needs_input',
      message: 'stopped by ana',
      failure: false,
    });
    expect(accountRun(input({ outcome: 'stopped', requeue: true }))).toMatchObject({
      verb: 'requeue',
      notBefore: null,
    });
  });

  it('blocks with the worker’s own reason and kind', () => {
    expect(
      accountRun(
        input({ outcome: 'worker_blocked', message: 'need the API key', blockKind: 'capability' }),
      ),
    ).toMatchObject({
      verb: 'block',
      rule: 'worker',
      kind: 'capability',
      message: 'need the API key',
    });
    expect(accountRun(input({ outcome: 'review_requested' })).verb).toBe('request_review');
  });
});
