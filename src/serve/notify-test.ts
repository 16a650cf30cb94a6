import type { Subscription } from '../core/notify.js';
import { dashboardLink, renderNotification } from '../core/notify-message.js';
import type { Store } from '../store/store.js';
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
  const secret = await store.subscriptionSecret(id);
  const link = dashboardLink(baseUrl, subscription.board, subscription.task_id);
  const text = `[warden] test message for subscription ${id} (${subscription.kinds.join(', ')})${link === null ? '' : ` ${link}`}`;
  const request = renderNotification(
    { key: `warden-${id}-test-${Date.now()}`, kind: 'test', event: null, task: null, text, link },
    subscription.format,
  );
  const started = performance.now();
  const result = await sendNotification(subscription.url, request, secret, timeoutMs);
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
