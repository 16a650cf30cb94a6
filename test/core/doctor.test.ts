import { describe, expect, it } from 'vitest';
import { diagnoseRun, diagnoseWaiting, explainWaiting } from '../../src/core/doctor.js';
import type { DoctorFacts } from '../../src/core/doctor.js';
import { doctorText, groupDiagnoses } from '../../src/core/doctor-groups.js';
import { resolvePolicy } from '../../src/core/policy.js';
import type { Profile } from '../../src/core/profile.js';
import type { Run } from '../../src/core/run.js';
import type { Task } from '../../src/core/task.js';

const NOW = Date.UTC(2026, 11, 3, 12);

const facts: DoctorFacts = {
  now: NOW,
  dispatcherRunning: true,
  serveHost: 'h1',
  watching: null,
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
      {
        block_kind: 'budget' as const,
        block_rule: 'budget',
        assignee: 'coder',
        block_reason: 'budget spent: 1.02M tokens of 1M for this task (max_tokens_per_task)',
      },
      /is blocked: \(budget\) budget spent: .*; raise the profile's budget \(`warden profile edit coder --max-tokens-per-task N`\)/,
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
      /waiting for a person's approval; `warden approve 5`$/,
    );
    expect(explainWaiting(task({ status: 'review' }), facts)).toMatch(
      /`warden approve 5` or `warden request-changes 5 --reason TEXT`/,
    );
    expect(explainWaiting(task({ status: 'todo', parents: [8] }), facts)).toMatch(
      /waiting for parent 8 \(blocked\)/,
    );
  });
});

describe('doctor answers like a person would (issue #15)', () => {
  const parked = {
    name: 'parked',
    paused: true,
    paused_by: 'person',
    paused_reason: 'key rotated',
    breaker: { probe_at: null },
  } as unknown as Profile;
  const withParked: DoctorFacts = { ...facts, profiles: new Map([['parked', parked]]) };

  it('each explanation that needs a person ends with the command that clears it', () => {
    expect(explainWaiting(task({ status: 'ready', assignee: 'parked' }), withParked)).toBe(
      'task 5 "t" is ready: profile parked is paused (person): key rotated; `warden profile resume parked`',
    );
    expect(explainWaiting(task({ status: 'ready', assignee: null }), facts)).toMatch(
      /nobody is assigned; `warden edit 5 --assignee PROFILE`$/,
    );
    expect(
      explainWaiting(task({ status: 'ready' }), {
        ...facts,
        boardPaused: true,
        profiles: new Map([['p', { ...parked, name: 'p', paused: false }]]),
      }),
    ).toMatch(/board default is paused; `warden board resume default`$/);
    expect(explainWaiting(task({ status: 'ready', assignee: 'gone' }), facts)).toMatch(
      /profile 'gone' does not exist; add it \(`warden profile add gone -- COMMAND`\) or `warden edit 5 --assignee PROFILE`$/,
    );
  });

  it('a todo task held by a blocked ancestor names it and the command that clears it', () => {
    const blocker = task({
      id: 8,
      title: 'build',
      block_kind: 'failed',
      block_rule: 'gave_up',
      block_reason: 'exit 1 three times',
    });
    const held = {
      ...facts,
      heldBy: new Map([[9, blocker]]),
      parentStatus: new Map([[7, 'todo']]),
    };
    const d = diagnoseWaiting(task({ id: 9, status: 'todo', parents: [7] }), held);
    expect(d.explanation).toBe(
      'task 9 "t" is todo: waiting for parent 7 (todo), held by blocked task 8 "build" (failed: exit 1 three times); clear task 8: warden gave up; fix the cause, then `warden retry 8`',
    );
    expect(d).toMatchObject({
      code: 'held_by_blocked',
      next_action: 'clear task 8: warden gave up; fix the cause, then `warden retry 8`',
    });
  });

  it('groups identical explanations: 2,000 ready tasks with no assignee are one line', () => {
    const many = Array.from({ length: 2000 }, (_, i) =>
      diagnoseWaiting(task({ id: i + 1, status: 'ready', assignee: null }), facts),
    );
    const lone = diagnoseWaiting(
      task({ id: 3000, status: 'ready', assignee: 'parked' }),
      withParked,
    );
    expect(doctorText(groupDiagnoses([...many, lone]))).toEqual([
      '2,000 ready tasks have no assignee (#1, #2, #3, #4, #5 and 1,995 more); `warden edit ID --assignee PROFILE`',
      'task 3000 "t" is ready: profile parked is paused (person): key rotated; `warden profile resume parked`',
    ]);
  });

  it('a running task gives its numbers as fields: alive, pid, silent for, each limit and when it fires', () => {
    const run = {
      id: 3,
      attempt: 2,
      host_id: 'h1',
      worker_id: null,
      state: 'running',
      outcome: null,
      ending_at: null,
      process: { pid: 4242, boot_id: 'b', start_time: '1' },
      started_at: NOW - 30 * 60_000,
      last_progress_at: NOW - 12 * 60_000,
      last_output_at: NOW - 12 * 60_000,
      last_heartbeat_at: NOW - 5000,
      stall_warned_at: NOW - 2 * 60_000,
      llm: { requests: 0, state: null },
    } as unknown as Run;
    const policy = resolvePolicy({}, {}, {});
    const d = diagnoseRun(task({ status: 'running' }), { run, policy, alive: true }, NOW, true);
    expect(d.run).toMatchObject({
      run_id: 3,
      attempt: 2,
      host: 'h1',
      pid: 4242,
      alive: true,
      running_for_ms: 30 * 60_000,
      silent_for_ms: 12 * 60_000,
      limits: {
        stall_warn_after_ms: policy.stall_warn_after,
        warned_at: NOW - 2 * 60_000,
        warns_at: null,
        stall_timeout_ms: policy.stall_timeout,
        stalls_at: NOW - 12 * 60_000 + policy.stall_timeout,
        max_runtime_ms: policy.max_runtime,
        times_out_at: NOW - 30 * 60_000 + policy.max_runtime,
      },
    });
    expect(d.explanation).toMatch(
      /alive, running 30m; .*silent 12m; warned at 10m; stalls at 1h of silence \(in 48m\); max runtime 6h \(in 5h30m\); to end it sooner: `warden stop 5`$/,
    );
    expect(d.next_action).toBe('to end it sooner: `warden stop 5`');
  });

  it("a run nothing watches names its host: with several hosts another host's serve may run", () => {
    const run = {
      id: 3,
      attempt: 1,
      host_id: 'b',
      worker_id: null,
      state: 'running',
      outcome: null,
      ending_at: null,
      process: { pid: 4242, boot_id: 'b', start_time: '1' },
      started_at: NOW - 60_000,
      last_progress_at: null,
      last_output_at: null,
      last_heartbeat_at: null,
      stall_warned_at: null,
      llm: { requests: 0, state: null },
    } as unknown as Run;
    const policy = resolvePolicy({}, {}, {});
    const alive = diagnoseRun(
      task({ status: 'running' }),
      { run, policy, alive: true },
      NOW,
      false,
    );
    expect(alive.explanation).toMatch(
      /; no serve is running on host b: nothing watches it now; start `warden serve` on host b$/,
    );
    expect(alive.next_action).toBe('start `warden serve` on host b');
    // Another host's clock a little ahead: no negative durations.
    const ahead = { ...run, started_at: NOW + 274, last_progress_at: NOW + 100 } as Run;
    const early = diagnoseRun(
      task({ status: 'running' }),
      { run: ahead, policy, alive: true },
      NOW,
      true,
    );
    expect(early.run).toMatchObject({ running_for_ms: 0, silent_for_ms: 0 });
    expect(early.explanation).toMatch(/alive, running 0ms; .*silent 0ms;/);
  });

  it('running tasks keep a line each, and a held one says to kill its group by hand', () => {
    const policy = resolvePolicy({}, {}, {});
    const base = {
      attempt: 1,
      host_id: 'vm',
      worker_id: null,
      outcome: null,
      ending_at: null,
      reason: null,
      process: { pid: 4242, boot_id: 'b', start_time: '1' },
      started_at: NOW - 60_000,
      last_progress_at: null,
      last_output_at: null,
      last_heartbeat_at: null,
      stall_warned_at: null,
      llm: { requests: 0, state: null },
    };
    const running = [1, 2].map((id) =>
      diagnoseRun(
        task({ id, status: 'running' }),
        { run: { ...base, id, state: 'running' } as unknown as Run, policy, alive: true },
        NOW,
        true,
      ),
    );
    expect(groupDiagnoses(running)).toHaveLength(2);
    const held = {
      ...base,
      id: 3,
      state: 'ending',
      outcome: 'stopped',
      ending_at: NOW - 120_000,
      reason: {
        rule: 'stopped_by',
        message: 'stopped',
        phases: { pid: 4242, pgid: 4242, grace_ms: 0, held_at_ms: 1000 },
      },
    } as unknown as Run;
    const d = diagnoseRun(
      task({ id: 6, status: 'running' }),
      { run: held, policy, alive: true },
      NOW,
      true,
    );
    expect(d).toMatchObject({
      code: 'kill_failed',
      next_action: 'kill it by hand, as root on host vm: `sudo kill -KILL -- -4242`',
    });
    expect(d.explanation).toBe(
      'task 6 "t": attempt 1 on vm, pid 4242: ending (stopped) for 2m; its process group 4242 survived SIGKILL, so the task stays held (kill_failed) and SIGKILL is sent again every tick; kill it by hand, as root on host vm: `sudo kill -KILL -- -4242`',
    );
  });
});
