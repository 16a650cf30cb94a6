import { invalid } from './errors.js';
import type { Json, WardenEvent } from './events.js';
import type { EpochMs, EventId, TaskId } from './glossary.js';

/**
 * Notifications (issue #15): webhook subscriptions on a small set of notification kinds, each
 * mapped from the events the board already writes, so the events table is the outbox.
 */

/**
 * What a subscription may ask to hear about. A subscription made without `--events` stores
 * every kind by name: a kind added here needs a migration that adds it to those (as
 * `profile_paused` had: SQLite 19, PostgreSQL 25).
 */
export const NotifyKind = {
  /** A task is done (`task_done`). */
  completed: 'completed',
  /** A task's work waits in review for a person (`task_review_requested`, no reviewer profile). */
  review_requested: 'review_requested',
  /** A task was blocked for a person: by a worker, by a person, or stopped (`needs_input`). */
  needs_input: 'needs_input',
  /** A worker asked a question (`warden answer` clears it). */
  question: 'question',
  /** warden blocked a task after runs in a row made no progress. */
  stall_loop: 'stall_loop',
  /** warden gave up on a task: failures, time-outs, spawn or config errors, host losses. */
  gave_up: 'gave_up',
  /** A budget of the task's profile was spent. */
  budget: 'budget',
  /** A running task went silent past `stall_warn_after` (once per silence). */
  stalled: 'stalled',
  /** A host's lease lapsed and another host ended its runs. */
  host_lost: 'host_lost',
  /** A profile's breaker paused it, or its probe runs failed and it waits for a person. */
  profile_paused: 'profile_paused',
} as const;
export type NotifyKind = (typeof NotifyKind)[keyof typeof NotifyKind];
export const NOTIFY_KINDS: readonly NotifyKind[] = Object.values(NotifyKind);

/** How a message is written for its target. */
export const NotifyFormat = {
  /** The event as JSON with a one-line `text` and a `link`. */
  json: 'json',
  /** Slack incoming webhook: `{"text": ...}`. */
  slack: 'slack',
  /** Discord webhook: `{"content": ...}`. */
  discord: 'discord',
  /** ntfy: the line as a plain-text body, with Title and Tags headers. */
  ntfy: 'ntfy',
} as const;
export type NotifyFormat = (typeof NotifyFormat)[keyof typeof NotifyFormat];
export const NOTIFY_FORMATS: readonly NotifyFormat[] = Object.values(NotifyFormat);

/** The event kinds some notification kind is made from: what a cursor reads. */
export const NOTIFIED_EVENT_KINDS = [
  'task_done',
  'task_review_requested',
  'task_blocked',
  'stall_warning',
  'host_lost',
  'profile_paused',
] as const;

/** A webhook subscription as stored (never its secret). */
export interface Subscription {
  id: number;
  /** Its target's scheme and host (`maskUrl`): the rest is never shown. */
  url: string;
  kinds: NotifyKind[];
  format: NotifyFormat;
  /** Only events of this board (null: every board, and host events). */
  board: string | null;
  /** Only events of this task. */
  task_id: TaskId | null;
  /** Whether messages are signed (the secret itself is never shown). */
  signed: boolean;
  /** The last event this subscription is past: delivered, dead-lettered or not for it. */
  cursor: EventId;
  /** Failed attempts at the notification it is on now. */
  attempts: number;
  /** When the next attempt may be made (after a failure's backoff), or null. */
  next_at: EpochMs | null;
  last_error: string | null;
  delivered: number;
  failed: number;
  dead: number;
  created_by: string;
  created_at: EpochMs;
}

/** A subscription to add. Defaults: every kind, json, every board. */
export interface NewSubscription {
  url: string;
  kinds?: readonly string[];
  format?: string;
  board?: string | null;
  task_id?: TaskId | null;
  secret?: string | null;
}

/** A notification that used up its attempts: kept to be seen, and sent again by hand. */
export interface DeadLetter {
  id: number;
  subscription_id: number;
  /** Its subscription's target, masked (`maskUrl`). */
  url: string;
  event_id: EventId;
  kind: NotifyKind;
  attempts: number;
  error: string;
  at: EpochMs;
}

/** A page of dead letters (of one subscription): after the one with id `after`, `limit` at most. */
export interface DeadLetterPage {
  subscription?: number;
  after?: number;
  limit?: number;
}

/** Dead letters in a page unless asked otherwise, and the most a page holds. */
export const DEAD_LETTER_PAGE = 100;
export const DEAD_LETTER_PAGE_MAX = 1000;

/** How hard a host tries (WARDEN_NOTIFY_* in serve's environment; docs/notifications.md). */
export interface NotifyPolicy {
  /** One attempt's deadline: a target that has not answered by then failed. */
  timeoutMs: number;
  /** Attempts at one notification before it goes to the dead letters. */
  attempts: number;
  /** The first retry's delay; doubling, with jitter, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const NOTIFY_DEFAULTS: NotifyPolicy = {
  timeoutMs: 10_000,
  attempts: 8,
  backoffMs: 2_000,
  maxBackoffMs: 10 * 60_000,
};

/** Longest secret and URL a subscription keeps. */
const MAX_URL = 2000;
const MAX_SECRET = 200;

/** The notification kind an event makes, or null when it makes none. */
export function notifyKindOf(event: Pick<WardenEvent, 'kind' | 'payload'>): NotifyKind | null {
  switch (event.kind) {
    case 'task_done':
      return 'completed';
    case 'task_review_requested':
      // A reviewer profile's run reviews it: nothing waits for a person (as in the inbox).
      return typeof event.payload.review_by === 'string' ? null : 'review_requested';
    case 'stall_warning':
      return 'stalled';
    case 'host_lost':
      return 'host_lost';
    case 'profile_paused':
      // The breaker's trip, and its last failed probe: a person's own pause is not news to them,
      // and a probe that failed with more to come is not yet theirs to act on.
      return typeof event.payload.failures === 'number' || event.payload.waiting === true
        ? 'profile_paused'
        : null;
    case 'task_blocked':
      return blockedKind(event.payload);
    default:
      return null;
  }
}

function blockedKind(payload: { readonly [key: string]: Json }): NotifyKind | null {
  const rule = payload.rule;
  switch (payload.kind) {
    case 'needs_input':
      return rule === 'question' ? 'question' : 'needs_input';
    case 'failed':
      return rule === 'stall_loop' ? 'stall_loop' : 'gave_up';
    case 'budget':
      return 'budget';
    // dependency, capability and transient blocks clear themselves or by planning: no message.
    default:
      return null;
  }
}

/** Checks a new subscription; throws `invalid` with one line saying what to write instead. */
export function checkSubscription(input: NewSubscription): {
  url: string;
  kinds: NotifyKind[];
  format: NotifyFormat;
  secret: string | null;
} {
  const url = checkUrl(input.url);
  if (input.kinds?.length === 0) {
    throw invalid(
      'events: name at least one kind, like completed,gave_up, or leave it out for all',
    );
  }
  const kinds = input.kinds === undefined ? [...NOTIFY_KINDS] : [];
  for (const k of input.kinds ?? []) {
    if (!(NOTIFY_KINDS as readonly string[]).includes(k)) {
      throw invalid(`events: unknown notification kind '${k}'; use ${NOTIFY_KINDS.join(', ')}`);
    }
    if (!kinds.includes(k as NotifyKind)) kinds.push(k as NotifyKind);
  }
  const format = input.format ?? 'json';
  if (!(NOTIFY_FORMATS as readonly string[]).includes(format)) {
    throw invalid(`format: unknown format '${format}'; use ${NOTIFY_FORMATS.join(', ')}`);
  }
  const secret = input.secret ?? null;
  if (secret !== null && (secret.length === 0 || secret.length > MAX_SECRET)) {
    throw invalid(`secret: must be 1 to ${MAX_SECRET} characters`);
  }
  return { url, kinds, format: format as NotifyFormat, secret };
}

function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`url: '${text}' is not a URL; write a webhook address like https://host/path`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`url: '${text}' is not http(s); webhooks are sent to http:// or https:// URLs`);
  }
  if (text.length > MAX_URL) throw invalid(`url: longer than ${MAX_URL} characters`);
  // fetch never sends a URL with credentials, and the URL is shown in lists and errors.
  if (url.username !== '' || url.password !== '') {
    throw invalid(
      'url: a user name or password in the URL is never sent; sign messages with --secret, or put a token in the path or query',
    );
  }
  return url.toString();
}

/**
 * A target as it is shown (lists, API answers, errors, logs): its scheme and host only. The
 * path and query of a Slack or Discord webhook, an ntfy topic or a token are its credential.
 */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && u.search === '' ? `${u.origin}/` : `${u.origin}/…`;
  } catch {
    return '…';
  }
}

/** Parses a comma-separated list of kinds (`--events completed,gave_up`). */
export function parseKinds(text: string): string[] {
  return text
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

/** Whether a subscription wants an event: its kind, board and task. */
export function wants(
  sub: Pick<Subscription, 'kinds' | 'board' | 'task_id'>,
  event: WardenEvent,
): NotifyKind | null {
  const kind = notifyKindOf(event);
  if (kind === null || !sub.kinds.includes(kind)) return null;
  if (sub.board !== null && event.board !== sub.board) return null;
  if (sub.task_id !== null && event.task_id !== sub.task_id) return null;
  return kind;
}

/** The idempotency key of one notification: the same for every attempt at it, and after restarts. */
export function deliveryKey(subscriptionId: number, eventId: EventId): string {
  return `warden-${subscriptionId}-${eventId}`;
}
