import { notFound } from '../core/errors.js';
import type { Subscription } from '../core/notify.js';
import { dashboardLink, renderNotification } from '../core/notify-message.js';
import type { Store } from '../store/store.js';
import { composeNotification } from './notify.js';
import { sendNotification } from './notify-send.js';
import type { SendResult } from './notify-send.js';

/** What `notify test` answers: the subscription, what its target said, and how fast. */
export interface TestSend {
  subscription: Subscription;
  result: SendResult;
  ms: number;
}

/**
 * Sends a test message to a subscription's target now, in its format, signed with its secret,
 * and waits for the answer. It changes nothing stored: not the cursor, not the counts.
 */
export async function sendTestMessage(
  store: Store,
  id: number,
  baseUrl: string | null,
  timeoutMs: number,
): Promise<TestSend> {
  const subscription = await store.getSubscription(id);
  const { url, secret } = await store.subscriptionTarget(id);
  const link = dashboardLink(baseUrl, subscription.board, subscription.task_id);
  const text = `[warden] test message for subscription ${id} (${subscription.kinds.join(', ')})${link === null ? '' : ` ${link}`}`;
  const request = renderNotification(
    { key: `warden-${id}-test-${Date.now()}`, kind: 'test', event: null, task: null, text, link },
    subscription.format,
  );
  return timed(subscription, () => sendNotification(url, request, secret, timeoutMs));
}

async function timed(
  subscription: Subscription,
  send: () => Promise<SendResult>,
): Promise<TestSend> {
  const started = performance.now();
  const result = await send();
  return { subscription, result, ms: Math.round(performance.now() - started) };
}

/** One line saying what the target answered. */
export function testSummary(t: TestSend): string {
  const target = `subscription ${t.subscription.id} (${t.subscription.url})`;
  if (t.result.ok) {
    const said = t.result.answer === '' ? '' : `: ${t.result.answer}`;
    return `${target} answered ${t.result.status} in ${t.ms}ms${said}`;
  }
  return `${target} failed: ${t.result.error}`;
}

/**
 * Sends a dead letter again now (`warden notify resend`), with its original delivery key, and
 * removes it from the dead letters once its target takes it (a 2xx). The subscription's cursor
 * and counts stay as they are. `not_found` when the dead letter or its event (pruned by gc)
 * is gone.
 */
export async function resendDeadLetter(
  store: Store,
  id: number,
  baseUrl: string | null,
  timeoutMs: number,
): Promise<TestSend> {
  const dead = await store.getDeadLetter(id);
  const subscription = await store.getSubscription(dead.subscription_id);
  const { url, secret } = await store.subscriptionTarget(dead.subscription_id);
  const [event] = await store.listEvents({ id: dead.event_id, limit: 1 });
  if (event?.id !== dead.event_id) {
    throw notFound(`event ${dead.event_id} of dead letter ${id} was pruned by gc; nothing to send`);
  }
  const n = await composeNotification(store, subscription.id, dead.kind, event, baseUrl);
  const request = renderNotification(n, subscription.format);
  const sent = await timed(subscription, () => sendNotification(url, request, secret, timeoutMs));
  if (sent.result.ok) await store.removeDeadLetter(id);
  return sent;
}
