import { backoffDelay } from '../core/backoff.js';
import type { Random } from '../core/backoff.js';
import { WardenError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { NOTIFY_DEFAULTS, deliveryKey } from '../core/notify.js';
import type { NotifyKind, NotifyPolicy } from '../core/notify.js';
import { dashboardLink, notificationText, renderNotification } from '../core/notify-message.js';
import type { Notification, TaskBrief } from '../core/notify-message.js';
import type { WardenEvent } from '../core/events.js';
import type { Store } from '../store/store.js';
import type { DueNotification } from '../store/sql/notify-cursor.js';
import { watchHeldBack } from './notify-holdback.js';
import { sendNotification } from './notify-send.js';

/** How often a host looks for notifications without a wake-up. */
const POLL_MS = 1000;
/** Sends at once, at most: one per subscription, so one slow target holds only its own. */
const MAX_IN_FLIGHT = 32;

/** What a notifier needs. */
export interface NotifierOptions {
  store: Store;
  host: string;
  policy: NotifyPolicy;
  /** Where the dashboard is, for links (null: messages carry none). */
  baseUrl: () => string | null;
  random?: Random;
  log?: (line: string) => void;
  /** Where a notification given up on (a dead letter) is said (default: `log`). */
  warn?: (line: string) => void;
}

/**
 * The deliverer of `serve` (issue #15): off the dispatcher's path, on its own timer and the
 * store's wake-ups. Each subscription's next notification is sent under a lease on the
 * subscription, one at a time per subscription and in its cursor's order, each with its own
 * deadline, so a target that fails or hangs delays only itself. The cursor moves only after a
 * 2xx is recorded: a `serve` that stops or dies mid-send sends that notification again
 * (at-least-once), with the same `X-Warden-Delivery` key.
 */
export class Notifier {
  private timer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly abort = new AbortController();
  private polling = false;
  private again = false;
  private failing = false;
  /**
   * Whether any subscription exists, as of the timer's last look: the store's wake-ups (one
   * per write) look for due notifications only then, so a board with no subscriptions pays
   * nothing per write. A subscription made meanwhile is found by the next look (≤ 1 s).
   */
  private subscribed = true;

  constructor(private readonly opts: NotifierOptions) {}

  /** Starts polling and listening for changes. Idempotent. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.look(), POLL_MS);
    const unwatch = this.opts.store.watchChanges(() => {
      if (this.subscribed) this.kick();
    });
    const { log } = this.opts;
    const unhold = log ? watchHeldBack(this.opts.store, log) : () => undefined;
    this.unwatch = () => {
      unwatch();
      unhold();
    };
    void this.look();
  }

  /** The timer's look: whether there are subscriptions, and if so what is due. */
  private async look(): Promise<void> {
    try {
      this.subscribed = (await this.opts.store.listSubscriptions()).length > 0;
    } catch {
      // Said by the poll, which meets the same store.
      this.subscribed = true;
    }
    if (this.subscribed || this.inFlight.size > 0) this.kick();
  }

  /** Stops looking and ends the sends in flight (they are sent again by the next serve). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unwatch?.();
    this.unwatch = null;
    this.abort.abort();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Looks for notifications to send now (or right after the look in progress). */
  kick(): void {
    if (this.abort.signal.aborted) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    void this.poll().finally(() => {
      this.polling = false;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async poll(): Promise<void> {
    // Sends in flight are not read again: their events wait until they are recorded.
    if (this.inFlight.size >= MAX_IN_FLIGHT) return;
    let due: DueNotification[];
    try {
      due = await this.opts.store.dueNotifications(this.opts.host, [...this.inFlight.keys()]);
      if (this.failing) this.opts.log?.('notify: the store answers again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.opts.log?.(`notify: ${(err as Error).message}`);
      this.failing = true;
      return;
    }
    for (const d of due) {
      const id = d.subscription.id;
      if (this.inFlight.has(id) || this.inFlight.size >= MAX_IN_FLIGHT) continue;
      if (this.abort.signal.aborted) return;
      const sending = this.deliver(d)
        .catch((err: unknown) => this.opts.log?.(`notify ${id}: ${(err as Error).message}`))
        .finally(() => {
          this.inFlight.delete(id);
          this.kick();
        });
      this.inFlight.set(id, sending);
    }
  }

  private async deliver(due: DueNotification): Promise<void> {
    const { store, host, policy } = this.opts;
    // The lease outlasts the send's deadline, so no other host sends it while this one waits.
    if (!(await store.claimNotification(due, host, policy.timeoutMs * 2 + 5000))) return;
    const n = await composeNotification(
      store,
      due.subscription.id,
      due.kind,
      due.event,
      this.opts.baseUrl(),
    );
    const sent = await sendNotification(
      due.url,
      renderNotification(n, due.subscription.format),
      due.secret,
      policy.timeoutMs,
      this.abort.signal,
    );
    // Stopping: the lease runs out and the next serve sends it again.
    if (this.abort.signal.aborted && !sent.ok) return;
    const attempt = due.subscription.attempts + 1;
    const outcome = await store.recordNotification(
      due,
      host,
      sent.ok
        ? { ok: true }
        : {
            ok: false,
            error: sent.error ?? 'failed',
            attempts: policy.attempts,
            retryInMs: backoffDelay(
              attempt,
              policy.backoffMs,
              policy.maxBackoffMs,
              this.opts.random ?? Math.random,
            ),
          },
    );
    const what = `notify ${due.subscription.id}: ${n.kind} of event ${due.event.id}`;
    if (outcome === 'retry') this.opts.log?.(`${what}: attempt ${attempt} failed, ${sent.error}`);
    if (outcome === 'dead') {
      (this.opts.warn ?? this.opts.log)?.(
        `${what}: dead letter after ${attempt} attempts, ${sent.error}`,
      );
    }
  }
}

/**
 * A notification of `event` for a subscription, as it is sent: its key, its line with the task
 * as it is now (title, attempts, result) and its dashboard link.
 */
export async function composeNotification(
  store: Store,
  subscriptionId: number,
  kind: NotifyKind,
  event: WardenEvent,
  base: string | null,
): Promise<Notification> {
  const task = await brief(store, event);
  const link = dashboardLink(base, event.board, event.task_id);
  return {
    key: deliveryKey(subscriptionId, event.id),
    kind,
    event,
    task,
    text: notificationText(kind, event, task, link),
    link,
  };
}

async function brief(store: Store, event: WardenEvent): Promise<TaskBrief | null> {
  if (event.task_id === null) return null;
  try {
    const t = await store.getTask(event.task_id);
    return {
      id: t.id,
      title: t.title,
      board: t.board,
      status: t.status,
      attempts: t.counters.attempts,
      result_summary: t.result?.summary ?? null,
    };
  } catch {
    // Pruned since: the message says what the event says.
    return null;
  }
}

/**
 * How hard `serve` tries, from its environment: `WARDEN_NOTIFY_TIMEOUT`, `_ATTEMPTS`,
 * `_BACKOFF` and `_MAX_BACKOFF` (and `WARDEN_PUBLIC_URL` is checked). A value that does not
 * parse stops serve with one line.
 */
export function notifyPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): NotifyPolicy {
  const duration = (name: string, fallback: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    try {
      const ms = parseDuration(text, name);
      if (ms > 0) return ms;
    } catch (err) {
      throw new WardenError('setup', (err as Error).message);
    }
    throw new WardenError('setup', `${name}: must be longer than 0, like 10s`);
  };
  const attemptsText = env.WARDEN_NOTIFY_ATTEMPTS;
  const attempts =
    attemptsText === undefined || attemptsText === ''
      ? NOTIFY_DEFAULTS.attempts
      : Number(attemptsText);
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) {
    throw new WardenError(
      'setup',
      `WARDEN_NOTIFY_ATTEMPTS: '${attemptsText}' is not a whole number from 1 to 100`,
    );
  }
  const pub = env.WARDEN_PUBLIC_URL;
  if (pub !== undefined && pub !== '' && !/^https?:\/\/[^/\s]+/.test(pub)) {
    throw new WardenError(
      'setup',
      `WARDEN_PUBLIC_URL: '${pub}' is not an http(s) address; write where people reach the dashboard, like https://warden.example`,
    );
  }
  return {
    timeoutMs: duration('WARDEN_NOTIFY_TIMEOUT', NOTIFY_DEFAULTS.timeoutMs),
    attempts,
    backoffMs: duration('WARDEN_NOTIFY_BACKOFF', NOTIFY_DEFAULTS.backoffMs),
    maxBackoffMs: duration('WARDEN_NOTIFY_MAX_BACKOFF', NOTIFY_DEFAULTS.maxBackoffMs),
  };
}

/**
 * Where the dashboard is for links: `WARDEN_PUBLIC_URL` when set (serve behind a proxy or a
 * name), else the address serve listens on (a wildcard bind as this machine's loopback).
 */
export function dashboardBase(listening: string, env: NodeJS.ProcessEnv = process.env): string {
  const pub = env.WARDEN_PUBLIC_URL;
  if (pub !== undefined && pub !== '') return pub;
  return listening.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}
