import { describe, expect, it } from 'vitest';
import type { WardenEvent } from '../../src/core/events.js';
import { NOTIFY_KINDS, notifyKindOf, wants } from '../../src/core/notify.js';
import {
  dashboardLink,
  notificationText,
  renderNotification,
} from '../../src/core/notify-message.js';
import type { Notification, TaskBrief } from '../../src/core/notify-message.js';
import { signature } from '../../src/serve/notify-send.js';

function event(kind: string, payload: WardenEvent['payload'] = {}, board = 'default'): WardenEvent {
  return {
    id: 7,
    board,
    task_id: 12,
    run_id: 30,
    actor: 'host:h1',
    kind,
    payload,
    at: 0,
  } as WardenEvent;
}

const task: TaskBrief = {
  id: 12,
  title: 'fix the login',
  board: 'default',
  status: 'blocked',
  attempts: 3,
  result_summary: null,
};

describe('notification kinds', () => {
  it('maps each event to at most one kind, blocks by their kind and rule', () => {
    const blocked = (kind: string, rule: string): WardenEvent =>
      event('task_blocked', { kind, rule, reason: 'r' });
    expect(notifyKindOf(event('task_done'))).toBe('completed');
    expect(notifyKindOf(event('task_review_requested'))).toBe('review_requested');
    // Reviewed by a reviewer profile's run: nothing waits for a person, nobody is told.
    expect(notifyKindOf(event('task_review_requested', { review_by: null }))).toBe(
      'review_requested',
    );
    expect(notifyKindOf(event('task_review_requested', { review_by: 'rev' }))).toBeNull();
    expect(notifyKindOf(event('stall_warning'))).toBe('stalled');
    expect(notifyKindOf(event('host_lost'))).toBe('host_lost');
    expect(notifyKindOf(blocked('needs_input', 'worker'))).toBe('needs_input');
    expect(notifyKindOf(blocked('needs_input', 'question'))).toBe('question');
    expect(notifyKindOf(blocked('failed', 'stall_loop'))).toBe('stall_loop');
    expect(notifyKindOf(blocked('failed', 'gave_up'))).toBe('gave_up');
    expect(notifyKindOf(blocked('failed', 'timed_out'))).toBe('gave_up');
    expect(notifyKindOf(blocked('budget', 'budget'))).toBe('budget');
    for (const quiet of ['dependency', 'capability', 'transient']) {
      expect(notifyKindOf(blocked(quiet, quiet))).toBeNull();
    }
    expect(notifyKindOf(event('task_created'))).toBeNull();
    expect(notifyKindOf(event('run_ended'))).toBeNull();
  });

  it('keeps a subscription to its kinds, board and task', () => {
    const sub = { kinds: [...NOTIFY_KINDS], board: 'ops', task_id: null };
    expect(wants(sub, event('task_done', {}, 'ops'))).toBe('completed');
    expect(wants(sub, event('task_done', {}, 'default'))).toBeNull();
    expect(wants({ ...sub, board: null, task_id: 13 }, event('task_done'))).toBeNull();
    expect(wants({ ...sub, board: null, kinds: ['gave_up'] }, event('task_done'))).toBeNull();
  });
});

describe('notification messages', () => {
  const link = dashboardLink('http://127.0.0.1:7420/', 'default', 12);

  it('says in one line what happened and why, with the numbers and the link', () => {
    expect(link).toBe('http://127.0.0.1:7420/?board=default&task=12');
    const reason =
      'stall_loop: 2 runs in a row made no progress (runs 8, 9; stall_loop_limit 2, stall_timeout 10s)';
    expect(
      notificationText(
        'stall_loop',
        event('task_blocked', { kind: 'failed', rule: 'stall_loop', reason }),
        task,
        link,
      ),
    ).toBe(
      `[warden] task #12 “fix the login” (default) was given up on after 3 attempts: ${reason} ${link}`,
    );
    expect(
      notificationText(
        'completed',
        event('task_done'),
        { ...task, result_summary: 'ok\nall\tgood' },
        null,
      ),
    ).toBe('[warden] task #12 “fix the login” (default) completed after 3 attempts — ok all good');
    // A question's reason starts `question: ` itself: said once.
    expect(
      notificationText(
        'question',
        event('task_blocked', {
          kind: 'needs_input',
          rule: 'question',
          reason: 'question: Which colour should it be?',
        }),
        task,
        null,
      ),
    ).toBe(
      '[warden] task #12 “fix the login” (default) asks a question: Which colour should it be?',
    );
    expect(
      notificationText(
        'stalled',
        event('stall_warning', { silent_ms: 95_000, stall_timeout: 600_000, attempt: 2 }),
        task,
        null,
      ),
    ).toBe(
      '[warden] task #12 “fix the login” (default) has been silent for 1m35s (run 30, attempt 2); it is ended as stalled at 10m of silence',
    );
    expect(
      notificationText(
        'host_lost',
        { ...event('host_lost', { host: 'b', reaped_by: 'a', runs: [1, 2] }), task_id: null },
        null,
        null,
      ),
    ).toBe('[warden] host b was lost: its lease lapsed, and a ended its 2 runs');
    const paused = (payload: WardenEvent['payload']): WardenEvent => ({
      ...event('profile_paused', { profile: 'flaky', ...payload }),
      task_id: null,
      board: null,
    });
    const tripped = paused({
      reason:
        'breaker: 5 failed runs in a row over 2 tasks (profile_breaker 5); one probe run in 10m',
      failures: 5,
    });
    expect(notificationText('profile_paused', tripped, null, null)).toBe(
      '[warden] profile flaky was paused by its breaker: 5 failed runs in a row over 2 tasks (profile_breaker 5); one probe run in 10m; none of its tasks start — `warden profile resume flaky`',
    );
    const gaveUp = paused({
      reason: 'breaker: 3 probe runs failed; waiting for a person (`warden profile resume flaky`)',
      failed_probes: 3,
      waiting: true,
    });
    expect(notificationText('profile_paused', gaveUp, null, null)).toBe(
      '[warden] profile flaky was paused by its breaker: 3 probe runs failed; waiting for a person (`warden profile resume flaky`); none of its tasks start',
    );
  });

  it("tells of a breaker's pause, and of its probes given up, not of a person's pause", () => {
    const paused = (payload: WardenEvent['payload']): WardenEvent =>
      event('profile_paused', { profile: 'flaky', reason: 'r', ...payload });
    expect(notifyKindOf(paused({ failures: 5, tasks: [1, 2] }))).toBe('profile_paused');
    expect(notifyKindOf(paused({ failed_probes: 3, waiting: true }))).toBe('profile_paused');
    expect(notifyKindOf(paused({ failed_probes: 1, waiting: false }))).toBeNull();
    expect(notifyKindOf(paused({}))).toBeNull();
  });

  it('writes each format, with the delivery key and kind in headers', () => {
    const n: Notification = {
      key: 'warden-1-7',
      kind: 'gave_up',
      event: event('task_blocked'),
      task,
      text: 'the line',
      link,
    };
    const json = renderNotification(n, 'json');
    expect(JSON.parse(json.body)).toMatchObject({
      id: 'warden-1-7',
      kind: 'gave_up',
      text: 'the line',
      link,
    });
    expect(json.headers).toMatchObject({
      'x-warden-delivery': 'warden-1-7',
      'x-warden-event': 'gave_up',
    });
    expect(JSON.parse(renderNotification(n, 'slack').body)).toEqual({ text: 'the line' });
    expect(JSON.parse(renderNotification(n, 'discord').body)).toEqual({ content: 'the line' });
    const ntfy = renderNotification(n, 'ntfy');
    expect(ntfy.body).toBe('the line');
    expect(ntfy.headers).toMatchObject({ title: 'warden: #12 gave up', tags: 'x', click: link });
  });

  it('signs with HMAC-SHA256 of the timestamp, the delivery key and the body', () => {
    // echo -n '1700000000.warden-1-2.body' | openssl dgst -sha256 -hmac secret
    expect(signature('secret', '1700000000', 'warden-1-2', 'body')).toBe(
      'sha256=4761d9b59104b88b8f214207fa7176fadd888ec175f5c6270de89c40a67aea74',
    );
  });
});
