/**
 * Two real `warden serve` processes on one PostgreSQL deliver one subscription (issue #15):
 * each notification is sent once, never by both hosts at once, in order. The target answers
 * slowly, so both hosts see the subscription due while a send is in flight. Needs
 * WARDEN_TEST_PG_URL; CI must set it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription } from '../../src/core/notify.js';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { waitFor } from '../helpers/host.js';
import type { TestHome } from '../helpers/host.js';
import { pgHomes } from '../helpers/hosts.js';
import { startReceiver } from '../helpers/notify-receiver.js';
import type { Receiver } from '../helpers/notify-receiver.js';

const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI) {
  throw new Error('WARDEN_TEST_PG_URL is not set: CI must run the two-host notification test');
}

let homes: TestHome[] = [];
let target: Receiver | null = null;
let schema = '';
let scratch = '';

afterEach(async () => {
  await target?.close();
  target = null;
  for (const h of homes) await h.cleanup();
  homes = [];
  if (schema !== '' && URL) {
    const admin = await PgDriver.connect({ url: URL, max: 1 });
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  }
  schema = '';
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  scratch = '';
});

describe.skipIf(!URL)('notifications on two hosts sharing one PostgreSQL (issue #15)', () => {
  it('send each notification once, one at a time, in order', async () => {
    schema = `notify_hosts_${process.pid}_${Date.now()}`;
    scratch = mkdtempSync(join(tmpdir(), 'warden-notify-hosts-'));
    homes = await pgHomes(URL ?? '', schema, 2, join(scratch, 'life.log'));
    const [a, b] = homes as [TestHome, TestHome];
    const slow = (): Promise<number> => new Promise((r) => setTimeout(() => r(200), 250));
    target = await startReceiver(slow);
    const sub = JSON.parse(
      await a.ok(['notify', 'add', target.url, '--events', 'completed', '--json']),
    ) as Subscription;
    await a.serve(['--host-id', 'a', '--host-ttl', '10s']);
    await b.serve(['--host-id', 'b', '--host-ttl', '10s']);
    const ids: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const home = i % 2 === 0 ? a : b;
      const id = await home.task(`task ${i}`);
      await home.ok(['done', String(id)]);
      ids.push(id);
    }
    const r = target;
    await waitFor('eight deliveries', () => r.delivered().length >= 8, 60_000);
    const keys = r.received.map((m) => m.headers['x-warden-delivery']);
    expect(new Set(keys).size).toBe(keys.length);
    expect(r.received.map((m) => (JSON.parse(m.body) as { task: { id: number } }).task.id)).toEqual(
      ids,
    );
    expect(r.maxInFlight()).toBe(1);
    // The receiver has answered the last send; its record lands just after.
    const after = await waitFor('the eighth send recorded', async () => {
      const [s] = JSON.parse(await b.ok(['notify', 'list', '--json'])) as Subscription[];
      return s?.delivered === 8 ? s : undefined;
    });
    expect(after).toMatchObject({ id: sub.id, failed: 0 });
  });
});
