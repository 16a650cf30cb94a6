import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter, Subscription } from '../../src/core/notify.js';
import { signedWith, startReceiver } from '../helpers/notify-receiver.js';
import type { Receiver } from '../helpers/notify-receiver.js';
import type { Harness } from './harness.js';
import { ana, expectError, makeHarness } from './harness.js';

let h: Harness;
let target: Receiver;
beforeEach(async () => {
  h = await makeHarness();
  target = await startReceiver();
});
afterEach(async () => {
  await target.close();
  await h.cleanup();
});

describe('notification routes (issue #15)', () => {
  it('subscribes, lists, tests, lists dead letters and removes, never showing the secret', async () => {
    const token = h.adminToken;
    const added = await h.request('POST', '/api/v1/notify/subscriptions', {
      token,
      json: { url: target.url, events: ['completed', 'gave_up'], format: 'ntfy', secret: 'k' },
    });
    expect(added.status).toBe(200);
    const sub = added.body as Subscription;
    expect(sub).toMatchObject({ kinds: ['completed', 'gave_up'], format: 'ntfy', signed: true });
    const list = await h.request('GET', '/api/v1/notify/subscriptions', { token });
    expect((list.body as { subscriptions: Subscription[] }).subscriptions).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain('"k"');

    const test = await h.request('POST', `/api/v1/notify/subscriptions/${sub.id}/test`, { token });
    expect(test.body).toMatchObject({ id: sub.id, ok: true, status: 200, error: null });
    const [got] = target.received;
    expect(got?.headers['x-warden-event']).toBe('test');
    expect(got?.headers.title).toBe('warden: test');
    expect(got?.body).toMatch(
      /^\[warden\] test message for subscription \d+ \(completed, gave_up\)/,
    );
    expect(signedWith(got!, 'k')).toBe(true);
    // A test changes nothing stored.
    expect(await h.store.getSubscription(sub.id)).toMatchObject({ delivered: 0, failed: 0 });

    target.answer(() => 503);
    const failed = await h.request('POST', `/api/v1/notify/subscriptions/${sub.id}/test`, {
      token,
    });
    expect(failed.body).toMatchObject({ ok: false, status: 503, error: 'HTTP 503: answer 503' });

    const dead = await h.request('GET', `/api/v1/notify/dead?subscription=${sub.id}`, { token });
    expect((dead.body as { dead: DeadLetter[] }).dead).toEqual([]);
    const removed = await h.request('DELETE', `/api/v1/notify/subscriptions/${sub.id}`, { token });
    expect(removed.body).toEqual({ removed: sub.id });
    expectError(
      await h.request('GET', `/api/v1/notify/subscriptions/${sub.id}`, { token }),
      404,
      'not_found',
    );
  });

  it('never shows the path or query of a target (a Slack or Discord URL is a credential), yet sends to it', async () => {
    const token = h.adminToken;
    const slack = `${target.url}/T000/B000/XXXXsecretXXXX?token=qqqq`;
    const added = await h.request('POST', '/api/v1/notify/subscriptions', {
      token,
      json: { url: slack, format: 'slack' },
    });
    const { origin } = new URL(target.url);
    expect(added.body).toMatchObject({ url: `${origin}/…` });
    const id = (added.body as Subscription).id;
    const test = await h.request('POST', `/api/v1/notify/subscriptions/${id}/test`, { token });
    expect(test.body).toMatchObject({ ok: true, status: 200 });
    expect(target.received).toHaveLength(1);
    const shown = [
      await h.request('GET', '/api/v1/notify/subscriptions', { token }),
      await h.request('GET', `/api/v1/notify/subscriptions/${id}`, { token }),
      await h.request('GET', '/api/v1/notify/dead', { token }),
    ];
    for (const r of shown) expect(JSON.stringify(r.body)).not.toMatch(/XXXXsecret|qqqq|hook/);
  });

  it('refuses bad input with the documented status and stores nothing', async () => {
    const token = h.adminToken;
    const add = (json: unknown): ReturnType<Harness['request']> =>
      h.request('POST', '/api/v1/notify/subscriptions', { token, json });
    expectError(await add({ url: 'file:///etc/passwd' }), 400, 'invalid', /is not http\(s\)/);
    expectError(
      await add({ url: target.url, events: ['exploded'] }),
      400,
      'invalid',
      /unknown notification kind 'exploded'/,
    );
    expectError(await add({ url: target.url, events: [] }), 400, 'invalid', /at least one kind/);
    expectError(await add({ url: target.url, format: 'xml' }), 400, 'invalid', /unknown format/);
    expectError(await add({ url: target.url, board: 'ghost' }), 404, 'not_found');
    expectError(await add({ url: target.url, extra: 1 }), 400, 'invalid');
    expectError(await h.request('GET', '/api/v1/notify/dead?limit=0', { token }), 400, 'invalid');
    expect(await h.store.listSubscriptions()).toEqual([]);
    expectError(
      await h.request('POST', '/api/v1/notify/subscriptions/77/test', { token }),
      404,
      'not_found',
      /subscription 77 does not exist/,
    );
  });

  it('resends a dead letter by hand, with its key, and drops it once the target takes it', async () => {
    const token = h.adminToken;
    const sub = await h.store.addSubscription({ url: target.url, secret: 's' }, ana);
    const task = await h.store.createTask({ title: 'lost and found' }, ana);
    await h.store.moveTask(task.id, { verb: 'done' }, ana);
    const [due] = await h.store.dueNotifications('h');
    await h.store.claimNotification(due!, 'h', 60_000);
    const fail = { ok: false as const, error: 'HTTP 500', attempts: 1, retryInMs: 0 };
    expect(await h.store.recordNotification(due!, 'h', fail)).toBe('dead');
    const [dead] = await h.store.listDeadLetters();
    const resend = (): ReturnType<Harness['request']> =>
      h.request('POST', `/api/v1/notify/dead/${dead!.id}/resend`, { token });

    target.answer(() => 500);
    expect((await resend()).body).toMatchObject({ ok: false, status: 500 });
    expect(await h.store.listDeadLetters()).toHaveLength(1);
    target.answer(() => 200);
    expect((await resend()).body).toMatchObject({ ok: true, status: 200 });
    expect(await h.store.listDeadLetters()).toEqual([]);
    const last = target.received.at(-1)!;
    expect(last.headers['x-warden-delivery']).toBe(`warden-${sub.id}-${due!.event.id}`);
    expect(signedWith(last, 's')).toBe(true);
    expect(JSON.parse(last.body)).toMatchObject({ kind: 'completed', task: { id: task.id } });
    expectError(await resend(), 404, 'not_found', /dead letter \d+ does not exist/);
    // The subscription's own counts and cursor are left as they were.
    expect(await h.store.getSubscription(sub.id)).toMatchObject({ delivered: 0, dead: 1 });
  });

  it('counts sends by outcome and dead letters in /metrics', async () => {
    const sub = await h.store.addSubscription({ url: target.url }, ana);
    const task = await h.store.createTask({ title: 'x' }, ana);
    await h.store.moveTask(task.id, { verb: 'done' }, ana);
    const [due] = await h.store.dueNotifications('h');
    await h.store.claimNotification(due!, 'h', 60_000);
    const fail = { ok: false as const, error: 'HTTP 500', attempts: 1, retryInMs: 0 };
    expect(await h.store.recordNotification(due!, 'h', fail)).toBe('dead');
    const metrics = async (): Promise<string> =>
      (await h.request('GET', '/metrics', { token: h.adminToken })).text;
    let text = await metrics();
    expect(text).toContain('# TYPE warden_notify_deliveries_total counter');
    expect(text).toContain('warden_notify_deliveries_total{outcome="dead"} 1');
    expect(text).toContain('warden_notify_deliveries_total{outcome="failed"} 1');
    expect(text).toContain('warden_notify_deliveries_total{outcome="delivered"} 0');
    expect(text).toContain('warden_notify_dead_letters 1');
    expect(text).toContain('warden_notify_subscriptions{state="ok"} 1');
    // A later scrape shows what grew since, not twice the totals.
    // Another subscription: the same one again would be the first (a subscription is one).
    const other = await h.store.addSubscription({ url: target.url, format: 'ntfy' }, ana);
    await h.store.moveTask(
      (await h.store.createTask({ title: 'y' }, ana)).id,
      { verb: 'done' },
      ana,
    );
    for (const d of await h.store.dueNotifications('h')) {
      await h.store.claimNotification(d, 'h', 60_000);
      await h.store.recordNotification(d, 'h', { ok: true });
    }
    text = await metrics();
    expect(text).toContain('warden_notify_deliveries_total{outcome="delivered"} 2');
    expect(text).toContain('warden_notify_deliveries_total{outcome="failed"} 1');
    // Removing a subscription drops its counts: the counter starts again (a reset).
    await h.store.removeSubscription(other.id);
    text = await metrics();
    expect(text).toContain('warden_notify_deliveries_total{outcome="delivered"} 1');
    expect(text).toContain('warden_notify_deliveries_total{outcome="dead"} 1');
    expect(sub.id).toBeGreaterThan(0);
  });
});
