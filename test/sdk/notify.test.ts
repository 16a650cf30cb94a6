/**
 * The SDK client's notification methods (issue #15) against a real `warden serve` and a real
 * local receiver: subscribe, test, list, dead letters, unsubscribe; refusals as `WardenError`s.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WardenError } from '../../src/core/errors.js';
import { createClient } from '../../src/sdk/client.js';
import { TestHome, waitFor } from '../helpers/host.js';
import { startReceiver } from '../helpers/notify-receiver.js';
import type { Receiver } from '../helpers/notify-receiver.js';

let home: TestHome;
let target: Receiver;
afterEach(async () => {
  await target.close();
  await home.cleanup();
});

describe('the SDK client: notifications (issue #15)', () => {
  it('subscribes, tests, hears a completion, lists and unsubscribes', async () => {
    home = await new TestHome().init();
    target = await startReceiver();
    const serve = await home.serve();
    const token = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    const client = createClient({ url: serve.url, token });

    const sub = await client.subscribe({
      url: target.url,
      events: ['completed'],
      format: 'discord',
    });
    expect(sub).toMatchObject({ kinds: ['completed'], format: 'discord', signed: false });
    expect(await client.testSubscription(sub.id)).toMatchObject({ ok: true, status: 200 });
    const task = await client.createTask({ title: 'tell me when done' });
    await home.ok(['done', String(task.id)]);
    await waitFor('the completion', () => target.delivered().length === 2);
    expect(JSON.parse(target.received[1]?.body ?? '{}')).toEqual({
      content: expect.stringMatching(
        /^\[warden\] task #\d+ “tell me when done” \(default\) completed/,
      ) as string,
    });
    await waitFor(
      'the send recorded',
      async () => (await client.listSubscriptions())[0]?.delivered === 1,
    );
    expect(await client.deadLetters(sub.id)).toEqual([]);
    const refused = await client.subscribe({ url: 'gopher://x' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WardenError);
    expect((refused as WardenError).code).toBe('invalid');
    await client.unsubscribe(sub.id);
    expect(await client.listSubscriptions()).toEqual([]);
  });
});
