import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Store } from '../store/store.js';

/**
 * The webhook figures of `/metrics` (issue #15), read from the store at each scrape like the
 * board figures, so every host reports the same and a restart loses nothing: sends by outcome,
 * dead letters kept, and subscriptions by state.
 */
export function notifyGauges(registry: Registry, store: Store): void {
  new Gauge({
    name: 'warden_notify_deliveries',
    help: 'Webhook sends by outcome (delivered, failed attempts, dead-lettered), summed over subscriptions since each was added.',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const subs = await store.listSubscriptions();
      const sum = (pick: (s: (typeof subs)[number]) => number): number =>
        subs.reduce((n, s) => n + pick(s), 0);
      this.set(
        { outcome: 'delivered' },
        sum((s) => s.delivered),
      );
      this.set(
        { outcome: 'failed' },
        sum((s) => s.failed),
      );
      this.set(
        { outcome: 'dead' },
        sum((s) => s.dead),
      );
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
    name: 'warden_notify_subscriptions',
    help: 'Webhook subscriptions by state: ok, or retrying a failed send.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const subs = await store.listSubscriptions();
      const retrying = subs.filter((s) => s.attempts > 0).length;
      this.set({ state: 'ok' }, subs.length - retrying);
      this.set({ state: 'retrying' }, retrying);
    },
  });
}
