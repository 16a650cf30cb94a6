import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Inbox } from '../../src/core/inbox.js';
import { TestHome, fixture } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

function auth(h: TestHome): Record<string, string> {
  const token = readFileSync(join(h.root, 'admin.token'), 'utf8').trim();
  return { authorization: `Bearer ${token}` };
}

/** An item's command as argv: what comes after `warden`, up to a shell comment. */
function argvOf(command: string, text: string): string[] {
  const words = command.split('#')[0]?.trim().split(/\s+/) ?? [];
  expect(words[0]).toBe('warden');
  return words.slice(1).map((w) => (w === 'TEXT' ? text : w));
}

describe('the attention inbox (issue #15)', () => {
  it('lists what waits for a person through the CLI and the API, and each command clears its item', async () => {
    home = await new TestHome().init();
    await home.profile('asker', fixture('ask-then-work.sh', 'ask', 'which colour?'));
    await home.profile('drafter', fixture('ask-then-work.sh', 'review'));
    await home.profile('crasher', fixture('exit-code.sh', '1'), ['--max-failures', '1']);
    await home.profile('parked', fixture('exit-code.sh', '0'));
    await home.ok(['profile', 'pause', 'parked', '--reason', 'key rotated']);
    const gated = await home.task('ship it', ['--needs-approval']);
    const spent = await home.task('pricey');
    await home.ok(['block', String(spent), '--reason', 'day budget spent', '--kind', 'budget']);
    await home.task('waits for parked', ['--assignee', 'parked']);
    await home.task('nothing to do with people');
    const asked = await home.task('paint the shed', ['--assignee', 'asker']);
    const drafted = await home.task('write the draft', ['--assignee', 'drafter']);
    const crashed = await home.task('flaky build', ['--assignee', 'crasher']);
    const serve = await home.serve();
    await home.waitStatus(asked, 'blocked');
    await home.waitStatus(drafted, 'review');
    await home.waitStatus(crashed, 'blocked');

    const inbox = JSON.parse(await home.ok(['inbox', '--json'])) as Inbox;
    expect(inbox.total).toBe(6);
    const byKind = Object.fromEntries(inbox.items.map((i) => [i.kind, i]));
    expect(byKind).toMatchObject({
      question: {
        task_id: asked,
        text: `#${asked} "paint the shed" asks: which colour?`,
        command: `warden answer ${asked} TEXT`,
      },
      review: {
        task_id: drafted,
        command: expect.stringMatching(`^warden approve ${drafted}`) as string,
      },
      gave_up: {
        task_id: crashed,
        text: expect.stringMatching(
          `^#${crashed} "flaky build": warden gave up after 1 failure`,
        ) as string,
        command: `warden retry ${crashed}`,
      },
      approval: { task_id: gated, command: `warden approve ${gated}` },
      budget: {
        task_id: spent,
        text: expect.stringContaining('day budget spent') as string,
        // Which budget is not in a person's reason: the unblock, after raising the right one.
        command: `warden unblock ${spent}   # after raising the budget: warden profile edit PROFILE --max-...`,
      },
      profile_paused: {
        profile: 'parked',
        text: expect.stringMatching(
          /^profile parked is paused \(by person: key rotated\) for/,
        ) as string,
        command: 'warden profile resume parked',
      },
    });
    // Newest first.
    const since = inbox.items.map((i) => i.since);
    expect(since).toEqual([...since].sort((a, b) => b - a));

    // The text: each item and, under it, the command that clears it.
    const text = await home.cli(['inbox']);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^6 things wait for a person on board default, newest first:\n/);
    expect(text.stdout).toContain(`\n               → warden answer ${asked} TEXT\n`);
    // A cut list says so on stderr; its stdout stays the listing alone.
    const cut = await home.cli(['inbox', '--limit', '2', '--json']);
    expect(cut.stderr).toBe('3 of 6 shown; --limit to see more\n');
    expect((JSON.parse(cut.stdout) as Inbox).items).toHaveLength(3);

    // The API answers the same inbox.
    const res = await fetch(`${serve.url}/api/v1/inbox`, { headers: auth(home) });
    expect(res.status).toBe(200);
    const api = (await res.json()) as Inbox;
    expect(api.total).toBe(6);
    expect(api.items.map((i) => [i.kind, i.command])).toEqual(
      inbox.items.map((i) => [i.kind, i.command]),
    );
    const bad = await fetch(`${serve.url}/api/v1/inbox?limit=0`, { headers: auth(home) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid' } });
    const none = await fetch(`${serve.url}/api/v1/inbox?board=nope`, { headers: auth(home) });
    expect(none.status).toBe(404);
    expect((await fetch(`${serve.url}/api/v1/inbox`)).status).toBe(401);

    // Each item's own command clears it (serve stopped first, so nothing runs again meanwhile).
    serve.proc.kill('SIGTERM');
    await serve.exited;
    for (const i of inbox.items) await home.ok(argvOf(i.command, 'blue'));
    expect(await home.cli(['inbox'])).toEqual({
      code: 0,
      stdout: 'nothing waits for a person on board default\n',
      stderr: '',
    });

    // Bad input: one line, the documented exit code.
    const limit = await home.cli(['inbox', '--limit', '0']);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toBe('warden: --limit: must be from 1 to 10000, got 0\n');
    const board = await home.cli(['inbox', '--board', 'nope']);
    expect(board.code).toBe(3);
    expect(board.stderr).toMatch(/^warden: board 'nope' does not exist; add it with/);
  }, 90_000);

  it("shows a worker's own failure reason, not the CLI's echo of it that its log ends with", async () => {
    home = await new TestHome().init();
    const reason = `ROOT CAUSE: accounts.owner_id has no index ${'(detail) '.repeat(20)}`.trim();
    await home.profile(
      'failer',
      ['sh', '-c', `warden worker fail --reason "${reason}"; exit 1`],
      ['--max-failures', '1'],
    );
    const id = await home.task('migrate', ['--assignee', 'failer']);
    await home.serve();
    await home.waitStatus(id, 'blocked');
    const [run] = await home.runs(id);
    expect(run?.reason?.message).toBe(reason);
    expect(run?.reason?.last_output).toBeUndefined();
    const inbox = await home.ok(['inbox']);
    expect(inbox).toContain('ROOT CAUSE: accounts.owner_id has no index');
    expect(inbox).not.toContain('last output: "failed"');
    expect(await home.ok(['list'])).toContain('ROOT CAUSE');
  });
});
