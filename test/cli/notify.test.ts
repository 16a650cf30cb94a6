import { describe, expect, it } from 'vitest';
import type { Subscription } from '../../src/core/notify.js';
import { expectError, freshHome, runWarden } from '../helpers/cli.js';
import { startReceiver } from '../helpers/notify-receiver.js';

describe('warden notify (issue #15)', () => {
  it('adds, lists, tests and removes a subscription', async (ctx) => {
    const cli = await freshHome(ctx);
    const target = await startReceiver();
    ctx.onTestFinished(() => target.close());
    const add = await cli.run(['notify', 'add', target.url, '--events', 'completed,gave_up']);
    expect(add.stdout).toMatch(
      /^subscription 1 added: json to http:\/\/127\.0\.0\.1:\d+\/… on completed, gave_up \(every board\)\n$/,
    );
    const [sub] = await cli.json<Subscription[]>(['notify', 'list']);
    // The path and query may be a credential (Slack, Discord, ntfy): never shown.
    const masked = target.url.replace(/\/hook$/, '/…');
    expect(sub).toMatchObject({ id: 1, url: masked, delivered: 0, signed: false });
    expect((await cli.run(['notify', 'list'])).stdout).toMatch(/^ID +URL +FORMAT +EVENTS/);
    const test = await cli.run(['notify', 'test', '1']);
    expect(test).toMatchObject({ code: 0, stderr: '' });
    expect(test.stdout).toMatch(
      /^subscription 1 \(http:\S+\) answered 200 in \d+ms: answer 200\n$/,
    );
    expect(target.received).toHaveLength(1);
    expect((await cli.run(['notify', 'remove', '1'])).stdout).toBe('subscription 1 removed\n');
    expect((await cli.run(['notify', 'list'])).stdout).toMatch(/^no subscriptions; add one/);
  });

  it('refuses bad input with one line, its exit code, and changes nothing', async (ctx) => {
    const cli = await freshHome(ctx);
    // A port that was just free: nothing listens there now.
    const gone = await startReceiver();
    await gone.close();
    await cli.json(['notify', 'add', gone.url]);
    const port = new URL(gone.url).port;
    const before = cli.dbSnapshot();
    const cases: [string[], number, RegExp][] = [
      [['notify', 'add', 'ftp://host/x'], 2, /url: 'ftp:\/\/host\/x' is not http\(s\)/],
      [['notify', 'add', 'https://me:pw@host/x'], 2, /url: a user name or password .* --secret/],
      [['notify', 'add', 'example.com/hook'], 2, /url: 'example.com\/hook' is not a URL/],
      [
        ['notify', 'add', 'http://h/x', '--events', 'completed,exploded'],
        2,
        /events: unknown notification kind 'exploded'; use completed, review_requested/,
      ],
      [['notify', 'add', 'http://h/x', '--events', ','], 2, /--events: name at least one kind/],
      [['notify', 'add', 'http://h/x', '--format', 'xml'], 2, /format: unknown format 'xml'/],
      [['notify', 'add', 'http://h/x', '--board', 'ghost'], 3, /board 'ghost' does not exist/],
      [['notify', 'add', 'http://h/x', '--task', '999'], 3, /task 999 does not exist/],
      [['notify', 'remove', '99'], 3, /subscription 99 does not exist/],
      [['notify', 'remove', 'one'], 2, /subscription id: 'one' is not a whole number/],
      [['notify', 'test', '99'], 3, /subscription 99 does not exist/],
      [['notify', 'dead', '--subscription', '99'], 3, /subscription 99 does not exist/],
      [['notify', 'dead', '--limit', '0'], 2, /--limit: must be from 1 to 1000, got 0/],
      [['notify', 'resend', '99'], 3, /dead letter 99 does not exist; list them with/],
      // An unreachable target: the test says so, exit 1.
      [
        ['notify', 'test', '1'],
        1,
        new RegExp(
          `^warden: subscription 1 \\(${gone.url.replace('/hook', '/…')}\\) failed: cannot reach 127\\.0\\.0\\.1:${port}: ECONNREFUSED\n$`,
        ),
      ],
      [['serve', '--port', '0'], 1, /WARDEN_NOTIFY_TIMEOUT: 'soon' is not a duration/],
      [['serve', '--port', '0', '--tick', '1s'], 1, /WARDEN_PUBLIC_URL: 'warden' is not an http/],
    ];
    const badEnv = (args: string[]): NodeJS.ProcessEnv =>
      args[0] !== 'serve'
        ? cli.env
        : args.includes('--tick')
          ? { ...cli.env, WARDEN_PUBLIC_URL: 'warden' }
          : { ...cli.env, WARDEN_NOTIFY_TIMEOUT: 'soon' };
    for (const [args, code, message] of cases) {
      const env = badEnv(args);
      expectError(await runWarden(args, env), code, message, args.join(' '));
    }
    expect(cli.dbSnapshot()).toEqual(before);
  });
});
