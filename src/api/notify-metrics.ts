import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Subscription } from '../core/notify.js';
import type { Store } from '../store/store.js';

const OUTCOMES = ['delivered', 'failed', 'dead'] as const;

/**
 * The webhook figures of `/metrics` (issue #15), read from the store at each scrape like the
 * board figures, so every host reports the same and a restart loses nothing: sends by outcome,
 * dead letters kept, and subscriptions by state.
 */
export function notifyGauges(registry: Registry, store: Store): void {
  // One read of the subscriptions per scrape, shared by the metrics made from it.
  let reading: Promise<Subscription[]> | null = null;
  const subscriptions = (): Promise<Subscription[]> =>
    (reading ??= store.listSubscriptions().finally(() => (reading = null)));
  // A counter made from stored totals: it goes up by what they grew since the last scrape.
  // Removing a subscription drops its counts from the totals: the counter starts again from
  // the new totals, which Prometheus reads as a counter reset (rate() and increase() allow it).
  const shown = new Map<string, number>();
  new Counter({
    name: 'warden_notify_deliveries_total',
    help: 'Webhook sends by outcome (delivered, failed attempts, dead-lettered), summed over the subscriptions there are; a removed subscription resets it.',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const subs = await subscriptions();
      const totals = OUTCOMES.map((o) => [o, subs.reduce((n, s) => n + s[o], 0)] as const);
      if (totals.some(([o, n]) => n < (shown.get(o) ?? 0))) {
        this.reset();
        shown.clear();
      }
      for (const [outcome, n] of totals) {
        this.inc({ outcome }, n - (shown.get(outcome) ?? 0));
        shown.set(outcome, n);
      }
    },
  });
  new Gauge({
    name: 'warden_notify_dead_letters',
    help: 'Webhook notifications kept in the dead letters (`warden notify dead`).',
    registers: [registry],
    async collect() {
      this.set(await store.countDeadLetters());
    },
  });
  new Gauge({
    name: 'warden_events_held_back_seconds',
    help: 'PostgreSQL: how long the oldest committed event has waited behind a transaction still open, so notifications, live events and events --follow cannot pass it yet (0: none waits).',
    registers: [registry],
    async collect() {
      this.set((await store.eventsHeldBack()).age_ms / 1000);
    },
  });
  new Gauge({
    name: 'warden_notify_subscriptions',
    help: 'Webhook subscriptions by state: ok, or retrying a failed send.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const subs = await subscriptions();
      const retrying = subs.filter((s) => s.attempts > 0).length;
      this.set({ state: 'ok' }, subs.length - retrying);
      this.set({ state: 'retrying' }, retrying);
    },
  });
}
