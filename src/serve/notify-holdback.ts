import { formatDuration } from '../core/duration.js';
import type { Store } from '../store/store.js';

/** How often serve looks, and how long events may wait before it says so. */
export const HOLDBACK_EVERY_MS = 30_000;
export const HOLDBACK_WARN_MS = 60_000;

/**
 * Says in serve's log when a transaction left open on PostgreSQL holds final events back
 * (notifications, the SSE stream and `events --follow` all wait for it), once when it starts
 * and once when events flow again. Returns a function that stops watching.
 */
export function watchHeldBack(
  store: Store,
  log: (line: string) => void,
  everyMs = HOLDBACK_EVERY_MS,
  warnMs = HOLDBACK_WARN_MS,
): () => void {
  let warned = false;
  let looking = false;
  const look = async (): Promise<void> => {
    const held = await store.eventsHeldBack();
    if (held.events > 0 && held.age_ms >= warnMs) {
      if (!warned) {
        log(
          `events: ${held.events} events have waited ${formatDuration(held.age_ms)} behind a transaction still open on PostgreSQL${held.blocker === null ? '' : `, the oldest ${held.blocker}`}; notifications, live events and events --follow wait until it ends (see idle_in_transaction_session_timeout in docs/notifications.md)`,
        );
      }
      warned = true;
    } else if (warned) {
      log('events: no longer held back; notifications and live events go on');
      warned = false;
    }
  };
  const timer = setInterval(() => {
    if (looking) return;
    looking = true;
    // A store that does not answer is said elsewhere (the notifier's own poll).
    void look()
      .catch(() => undefined)
      .finally(() => (looking = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
