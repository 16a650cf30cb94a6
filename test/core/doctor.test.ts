import { describe, expect, it } from 'vitest';
import { explainWaiting } from '../../src/core/doctor.js';
import type { DoctorFacts } from '../../src/core/doctor.js';
import type { Task } from '../../src/core/task.js';

const NOW = Date.UTC(2026, 11, 3, 12);

const facts: DoctorFacts = {
  now: NOW,
  dispatcherRunning: true,
  boardPaused: false,
  profiles: new Map(),
  groupCooldowns: new Map(),
  caps: { host: 4, profiles: new Map(), groups: new Map() },
  load: { host: 0, profiles: new Map(), groups: new Map(), hostGroups: new Map() },
  parentStatus: new Map([[8, 'blocked']]),
};

function task(over: Partial<Task>): Task {
  return {
    id: 5,
    board: 'default',
    title: 't',
    body: '',
    assignee: 'p',
    priority: 0,
    status: 'blocked',
    not_before: null,
    parents: [],
    children: [],
    counters: {
      attempts: 1,
      failures: 0,
      stall_streak: 0,
      rate_limited_streak: 0,
      spawn_failures: 0,
      host_losses: 0,
    },
    result: null,
    block_reason: 'why',
    block_kind: 'needs_input',
    block_rule: 'worker',
    policy: {},
    current_run_id: null,
    created_by: 'person:ana',
    created_by_task: null,
    idempotency_key: null,
    llm: { requests: 0, tokens: 0, cost_usd: 0, unpriced: 0 },
    approval: { required: false, by: null, at: null },
    review_by: null,
    created_at: NOW,
    updated_at: NOW,
    ...over,
  };
}

describe('doctor says what clears each kind of block (issue #14)', () => {
  it.each([
    [{ block_rule: 'question' }, /answer it: `warden answer 5 TEXT`/],
    [
      { block_kind: 'failed' as const, block_rule: 'gave_up' },
      /warden gave up; .*`warden retry 5`/,
    ],
    [
      { block_kind: 'budget' as const, block_rule: 'budget' },
      /raise the profile's budget .*`warden unblock 5`/,
    ],
    [
      { block_kind: 'transient' as const, not_before: NOW + 90_000 },
      /it clears itself in 1m30s \(counted as a failure\)/,
    ],
    [
      { block_kind: 'dependency' as const },
      /`warden unblock 5` or `warden retry 5` when it is fixed/,
    ],
  ])('%o', (over, said) => {
    expect(explainWaiting(task(over), facts)).toMatch(said);
  });

  it('a task behind an approval gate, a review, and a todo held by a blocked parent', () => {
    const gated = task({ status: 'ready', approval: { required: true, by: null, at: null } });
    expect(explainWaiting(gated, facts)).toMatch(
      /waiting for a person's approval: `warden approve 5`/,
    );
    expect(explainWaiting(task({ status: 'review' }), facts)).toMatch(
      /`warden approve 5` or `warden request-changes 5 --reason TEXT`/,
    );
    expect(explainWaiting(task({ status: 'todo', parents: [8] }), facts)).toMatch(
      /waiting for parent 8 \(blocked\)/,
    );
  });
});
