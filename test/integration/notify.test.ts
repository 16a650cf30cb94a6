/**
 * Webhook notifications end to end (issue #15): a real `warden serve`, real workers, and real
 * local HTTP receivers. Waits are on what the receivers got, with generous deadlines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeadLetter, Subscription } from '../../src/core/notify.js';
import { createClient } from '../../src/sdk/client.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';
import { signedWith, startReceiver } from '../helpers/notify-receiver.js';
import type { Receiver, Received } from '../helpers/notify-receiver.js';

let home: TestHome | null = null;
const receivers: Receiver[] = [];

afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
  await home?.cleanup();
  home = null;
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

async function subscribe(h: TestHome, url: string, ...options: string[]): Promise<Subscription> {
  return JSON.parse(await h.ok(['notify', 'add', url, ...options, '--json'])) as Subscription;
}

const json = (r: Received): { kind: string; text: string; task: { id: number } | null } =>
  JSON.parse(r.body) as { kind: string; text: string; task: { id: number } | null };

/** The task ids of a json receiver's delivered messages, in the order they arrived. */
const taskIds = (r: Receiver): number[] => r.delivered().map((m) => json(m).task?.id ?? 0);

/** Makes a task and marks it done by hand; returns its id. */
async function doneTask(h: TestHome, title: string): Promise<number> {
  const id = await h.task(title);
  await h.ok(['done', String(id)]);
  return id;
}

describe('webhook notifications', () => {
  it('delivers exactly the subscribed events once, each a signed line with the numbers and a link', async () => {
    home = await new TestHome().init();
    await home.profile('worker', fixture('short-job.sh', '0.1'));
    await home.profile('broken', fixture('exit-code.sh', '3'), ['--max-failures', '1']);
    // Two silent runs in a row make a stall_loop (the policy's default limit is 2).
    const fast = [
      '--stall-warn-after',
      '200ms',
      '--stall-timeout',
      '600ms',
      '--kill-grace',
      '200ms',
    ];
    await home.profile('mute', fixture('silent.sh'), [...fast, '--backoff-base', '200ms']);
    const all = await receiver();
    const slack = await receiver();
    const secret = 'hunter2';
    const kinds = 'completed,stall_loop,gave_up,needs_input';
    await subscribe(home, all.url, '--events', kinds, '--secret', secret);
    await subscribe(home, slack.url, '--events', 'completed', '--format', 'slack');
    await home.serve();

    const done = await home.task('finish me', ['--assignee', 'worker']);
    const failing = await home.task('fail me', ['--assignee', 'broken']);
    const silent = await home.task('say nothing', ['--assignee', 'mute']);
    const asking = await home.task('ask a person');
    await home.ok(['block', String(asking), '--kind', 'needs_input', '--reason', 'which colour?']);
    await home.waitStatus(silent, 'blocked', 60_000);
    await home.waitStatus(failing, 'blocked', 60_000);
    await home.waitStatus(done, 'done', 60_000);
    // A last notification of each: once it is in, everything before it was sent (in order).
    const marker = await doneTask(home, 'marker');
    await waitFor('the marker at both receivers', () =>
      [all, slack].every((r) => r.delivered().some((m) => m.body.includes('marker'))),
    );

    const byTask = new Map(all.delivered().map((m) => [json(m).task?.id, json(m)]));
    expect(all.received).toHaveLength(5);
    expect(new Set(taskIds(all))).toEqual(new Set([done, failing, silent, asking, marker]));
    expect(byTask.get(done)?.kind).toBe('completed');
    expect(byTask.get(failing)?.kind).toBe('gave_up');
    expect(byTask.get(silent)?.kind).toBe('stall_loop');
    expect(byTask.get(asking)?.kind).toBe('needs_input');
    for (const m of all.received) {
      expect(signedWith(m, secret)).toBe(true);
      expect(m.headers['x-warden-delivery']).toMatch(/^warden-\d+-\d+$/);
      const text = json(m).text;
      expect(text).not.toContain('\n');
      expect(text).toMatch(/\/\?board=default&task=\d+$/);
    }
    expect(byTask.get(silent)?.text).toMatch(
      /^\[warden\] task #\d+ “say nothing” \(default\) was given up on after 2 attempts: stall_loop: 2 runs in a row made no progress \(runs \d+, \d+; stall_loop_limit 2, stall_timeout 600ms\) http/,
    );
    expect(byTask.get(asking)?.text).toMatch(/needs input: which colour\? http/);
    // The slack target heard only what it asked for, in its own shape, unsigned.
    expect(slack.received.map((m) => Object.keys(JSON.parse(m.body) as object))).toEqual([
      ['text'],
      ['text'],
    ]);
    expect(slack.received[0]?.headers['x-warden-signature']).toBeUndefined();
    expect(slack.received.map((m) => m.headers['x-warden-event'])).toEqual([
      'completed',
      'completed',
    ]);
  });

  it('sends everything in order to a target that answers 500 for a while, then recovers', async () => {
    home = await new TestHome().init();
    const flaky = await receiver((n) => (n < 4 ? 500 : 200));
    await subscribe(home, flaky.url, '--events', 'completed');
    await home.serve([], { WARDEN_NOTIFY_BACKOFF: '100ms', WARDEN_NOTIFY_ATTEMPTS: '20' });
    const ids = [];
    for (const title of ['one', 'two', 'three']) ids.push(await doneTask(home, title));
    await waitFor('three deliveries', () => flaky.delivered().length === 3);
    expect(taskIds(flaky)).toEqual(ids);
    // The four failures were attempts at the first notification, with one key between them.
    const keys = flaky.received.map((m) => m.headers['x-warden-delivery']);
    expect(new Set(keys.slice(0, 5)).size).toBe(1);
    expect(new Set(keys).size).toBe(3);
    // The receiver has answered the last send; its record lands just after.
    const sub = await waitFor('the third send recorded', async () => {
      const [s] = JSON.parse(await home!.ok(['notify', 'list', '--json'])) as Subscription[];
      return s?.delivered === 3 ? s : undefined;
    });
    expect(sub).toMatchObject({ failed: 4, dead: 0, attempts: 0, last_error: null });
  });

  it('puts a hanging target’s notifications in the dead letters while another is served on time', async () => {
    home = await new TestHome().init();
    const hanging = await receiver(() => 'hang');
    const prompt = await receiver();
    await subscribe(home, hanging.url, '--events', 'completed');
    await subscribe(home, prompt.url, '--events', 'completed');
    const serve = await home.serve([], {
      WARDEN_NOTIFY_TIMEOUT: '4s',
      WARDEN_NOTIFY_ATTEMPTS: '2',
      WARDEN_NOTIFY_BACKOFF: '100ms',
    });
    const admin = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    // Both made first: while the hanging target holds its 4 s, only the second `done` runs.
    const [first, second] = [await home.task('first'), await home.task('second')];
    await home.ok(['done', String(first)]);
    await waitFor('the hanging target to be asked', () => hanging.received.length === 1);
    // Through serve's API, not a CLI whose start-up on a loaded machine eats the 4 s.
    await createClient({ url: serve.url, token: admin }).done(second);
    await waitFor('both at the prompt target', () => prompt.delivered().length === 2);
    // Served while serve still waited for the hanging target's first answer.
    const held = hanging.received[0]!;
    expect(prompt.delivered()[1]!.at).toBeLessThan(held.droppedAt ?? Infinity);
    expect(taskIds(prompt)).toEqual([first, second]);

    const dead = await waitFor(
      'two dead letters',
      async () => {
        const list = JSON.parse(await home!.ok(['notify', 'dead', '--json'])) as DeadLetter[];
        return list.length === 2 ? list : undefined;
      },
      60_000,
    );
    expect(dead.map((d) => [d.kind, d.attempts, d.error])).toEqual([
      ['completed', 2, 'no answer within 4s'],
      ['completed', 2, 'no answer within 4s'],
    ]);
    expect(dead.every((d) => d.url === hanging.url.replace(/\/hook$/, '/…'))).toBe(true);
    const table = await home.ok(['notify', 'list']);
    expect(table).toMatch(/no answer within 4s/);
    // A lost notification is heard at --log-level warn too.
    expect(serve.output()).toMatch(/"level":40,[^\n]*dead letter after 2 attempts, no answer/);
    // The board kept working throughout.
    expect(await doneTask(home, 'after')).toBeGreaterThan(second);
  });

  it('a serve killed mid-send sends that notification again after a restart, and loses nothing', async () => {
    home = await new TestHome().init();
    // The second request is held open: serve dies while it waits for the answer.
    const target = await receiver((n) => (n === 1 ? 'hang' : 200));
    await subscribe(home, target.url, '--events', 'completed');
    const first = await home.serve();
    const a = await doneTask(home, 'a');
    const b = await doneTask(home, 'b');
    await waitFor('the held request', () => target.received.length === 2);
    first.proc.kill('SIGKILL');
    await first.exited;
    const c = await doneTask(home, 'c');
    await home.serve();
    await waitFor('c after the restart', () => taskIds(target).includes(c));
    const marker = await doneTask(home, 'marker');
    await waitFor('the marker', () => taskIds(target).includes(marker));
    // At least once: b twice (held, then sent again with the same key), everything else once.
    expect(taskIds(target)).toEqual([a, b, c, marker]);
    const keys = target.received.map((m) => m.headers['x-warden-delivery']);
    expect(keys[1]).toBe(keys[2]);
    expect(target.received).toHaveLength(5);
  });
});
