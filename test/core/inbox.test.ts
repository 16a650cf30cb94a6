import { describe, expect, it } from 'vitest';
import {
  buildInbox,
  heldItem,
  hostItem,
  pauseReason,
  pausedBy,
  profileItem,
  taskItem,
} from '../../src/core/inbox.js';
import type { InboxTaskFact } from '../../src/core/inbox.js';

const NOW = Date.UTC(2026, 11, 3, 12);

function fact(over: Partial<InboxTaskFact>): InboxTaskFact {
  return {
    id: 7,
    title: 'build',
    status: 'blocked',
    assignee: 'coder',
    block_kind: 'needs_input',
    block_rule: 'person',
    block_reason: 'stopped by ana',
    failures: 0,
    needs_approval: false,
    question: null,
    since: NOW - 60_000,
    ...over,
  };
}

describe('the attention inbox in words (issue #15)', () => {
  it.each([
    [
      { block_rule: 'question', question: 'which\ncolour?' },
      'question',
      '#7 "build" asks: which colour?',
      'warden answer 7 TEXT',
    ],
    [
      { block_kind: 'failed' as const, block_rule: 'gave_up', failures: 3, block_reason: 'exit 1' },
      'gave_up',
      '#7 "build": warden gave up after 3 failures (gave_up): exit 1',
      'warden retry 7',
    ],
    [
      {
        block_kind: 'failed' as const,
        block_rule: 'rate_limit_loop',
        failures: 0,
        block_reason: 'rate_limit_loop: rate limited 2 times in a row (last: 529)',
      },
      'gave_up',
      '#7 "build": warden gave up (rate_limit_loop): rate limited 2 times in a row (last: 529)',
      'warden retry 7',
    ],
    [
      {
        block_kind: 'failed' as const,
        block_rule: 'config_error',
        failures: 0,
        block_reason: 'the worker exited 78: Invalid API key',
      },
      'gave_up',
      '#7 "build" stopped at a configuration error (config_error): the worker exited 78: Invalid API key',
      'warden retry 7   # after fixing profile coder or its environment',
    ],
    [
      {
        block_kind: 'budget' as const,
        block_rule: 'budget',
        block_reason: 'budget spent: USD 5.10 of USD 5.00 for this task (max_cost_per_task)',
      },
      'budget',
      '#7 "build": a budget of profile coder is spent: USD 5.10 of USD 5.00 for this task (max_cost_per_task)',
      'warden profile edit coder --max-cost-per-task USD && warden unblock 7',
    ],
    [
      {
        block_kind: 'dependency' as const,
        block_rule: 'dependency',
        block_reason: 'parent #3 was archived',
      },
      'blocked',
      '#7 "build" is blocked (dependency): parent #3 was archived',
      'warden unblock 7',
    ],
    [
      { block_kind: 'needs_input' as const, block_rule: 'stopped', block_reason: 'stopped by ana' },
      'blocked',
      '#7 "build" is blocked (needs_input): stopped by ana',
      'warden unblock 7',
    ],
    [
      { block_kind: 'needs_input' as const, block_rule: 'review_rounds', block_reason: '3 rounds' },
      'blocked',
      '#7 "build" is blocked (needs_input, by review_rounds): 3 rounds',
      'warden unblock 7',
    ],
    [
      { status: 'review', block_kind: null, block_rule: null },
      'review',
      '#7 "build" is in review for a person',
      'warden approve 7   # or: warden request-changes 7 --reason TEXT',
    ],
    [
      { status: 'ready', block_kind: null, block_rule: null, needs_approval: true },
      'approval',
      '#7 "build" waits for approval before it runs (ready)',
      'warden approve 7',
    ],
  ])('%o', (over, kind, text, command) => {
    expect(taskItem(fact(over))).toEqual({
      kind,
      task_id: 7,
      profile: null,
      host: null,
      run_id: null,
      text,
      since: NOW - 60_000,
      command,
    });
  });

  it("a breaker's reason, stored as `breaker: ...`, names the breaker once", () => {
    const fact = {
      name: 'flaky',
      paused_by: 'breaker',
      paused_reason: 'breaker: 5 failed runs in a row over 2 tasks (profile_breaker 5)',
      probe_at: null,
      since: NOW - 60_000,
    };
    expect(profileItem(fact, NOW).text).toBe(
      'profile flaky is paused (by breaker: 5 failed runs in a row over 2 tasks (profile_breaker 5)) for 1m; none of its tasks start',
    );
    expect(pausedBy('person', 'breaker: my words')).toBe('by person: breaker: my words');
    expect(pauseReason(null, 'breaker: x')).toBe('breaker: x');
  });

  it('paused profiles, held runs and lost hosts say how long and what clears them; a name is quoted for the shell', () => {
    expect(
      profileItem(
        {
          name: 'my profile',
          paused_by: 'breaker',
          paused_reason: '5 failed runs',
          probe_at: NOW + 600_000,
          since: NOW - 3_600_000,
        },
        NOW,
      ),
    ).toMatchObject({
      text: 'profile my profile is paused (by breaker: 5 failed runs) for 1h; none of its tasks start; a probe run is due in 10m',
      command: "warden profile resume 'my profile'",
    });
    expect(
      heldItem(
        { run_id: 5, task_id: 6, title: 'stubborn', host: 'vm', pgid: 20114, since: NOW - 120_000 },
        NOW,
      ),
    ).toMatchObject({
      kind: 'kill_failed',
      task_id: 6,
      run_id: 5,
      host: 'vm',
      text: `#6 "stubborn": run 5's process group 20114 on host vm survived SIGKILL 2m ago; the task stays held until it is gone`,
      command: 'sudo kill -KILL -- -20114   # as root on host vm',
    });
    expect(
      hostItem({ host_id: 'vm2', since: NOW - 300_000, reaped: true, runs: 2 }, NOW),
    ).toMatchObject({
      text: 'host vm2 lost its lease 5m ago; 2 runs were ended host_lost and put back in line',
      command: 'warden serve --host-id vm2   # on that machine',
    });
  });

  it('newest first, and the total counts the tasks a limit left out', () => {
    const inbox = buildInbox(
      'default',
      {
        tasks: [fact({ id: 1, since: NOW - 10 }), fact({ id: 2, since: NOW - 1000 })],
        task_total: 40,
        profiles: [
          { name: 'p', paused_by: 'person', paused_reason: null, probe_at: null, since: NOW - 100 },
        ],
        held: [],
        hosts: [],
      },
      NOW,
    );
    expect(inbox.total).toBe(41);
    expect(inbox.items.map((i) => i.task_id ?? i.profile)).toEqual([1, 'p', 2]);
  });
});
