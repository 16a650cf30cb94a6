import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { WardenEvent } from '../../src/core/events.js';
import type { Profile } from '../../src/core/profile.js';
import type { Task } from '../../src/core/task.js';
import { expectError, freshHome, sharedHome } from '../helpers/cli.js';
import type { Cli } from '../helpers/cli.js';

/** Profile events, which belong to no board, as `warden events` lists them. */
async function profileEvents(cli: Cli, ...kinds: string[]): Promise<WardenEvent[]> {
  return cli.json<WardenEvent[]>(['events', '--kind', kinds.join(',')]);
}

describe('profile add, show, list, edit', () => {
  const cli = sharedHome({ name: 'bo' });
  const dir = realpathSync(tmpdir());

  it('add stores the command, options and limits at version 1', async () => {
    const added = await cli().json<Profile>([
      'profile',
      'add',
      'coder',
      '--max-concurrency',
      '2',
      '--concurrency-group',
      'llm',
      '--env',
      'A=1',
      '--env',
      'B=two=2',
      '--cwd',
      dir,
      '--stall-timeout',
      '5m',
      '--max-failures',
      '4',
      '--exit-zero',
      'fail',
      '--',
      'sh',
      '-c',
      'echo "$1" --json',
      'sh',
      '--not-an-option',
    ]);
    expect(added).toMatchObject({
      name: 'coder',
      version: 1,
      argv: ['sh', '-c', 'echo "$1" --json', 'sh', '--not-an-option'],
      env: { A: '1', B: 'two=2' },
      cwd: dir,
      max_concurrency: 2,
      concurrency_group: 'llm',
      policy: { stall_timeout: 300_000, max_failures: 4, exit_zero: 'fail' },
      paused: false,
      paused_reason: null,
      updated_at: added.created_at,
    });
    expect(added.env).toEqual({ A: '1', B: 'two=2' });
    expect(added.policy).toEqual({ stall_timeout: 300_000, max_failures: 4, exit_zero: 'fail' });
    expect(await cli().json<Profile>(['profile', 'show', 'coder'])).toEqual(added);
  });

  it('add without options uses the defaults', async () => {
    const echo = await cli().json<Profile>(['profile', 'add', 'echo', '--', '/bin/echo', 'hi']);
    expect(echo).toMatchObject({
      version: 1,
      argv: ['/bin/echo', 'hi'],
      env: {},
      cwd: 'workspace',
      max_concurrency: null,
      concurrency_group: null,
      policy: {},
    });
    const r = await cli().run(['profile', 'add', 'plain', '--', 'sh']);
    expect(r).toEqual({ code: 0, stdout: 'profile plain added (version 1)\n', stderr: '' });
  });

  it('list --json returns every profile by name', async () => {
    const list = await cli().json<Profile[]>(['profile', 'list']);
    expect(list.map((p) => p.name)).toEqual(['coder', 'echo', 'plain']);
    expect(list[0]).toEqual(await cli().json<Profile>(['profile', 'show', 'coder']));
  });

  it('edit bumps the version on every change and keeps what it was not told to change', async () => {
    const v2 = await cli().json<Profile>(['profile', 'edit', 'coder', '--max-concurrency', '3']);
    expect(v2).toMatchObject({ version: 2, max_concurrency: 3, concurrency_group: 'llm' });

    const v3 = await cli().json<Profile>(['profile', 'edit', 'coder', '--', '/bin/echo', 'new']);
    expect(v3).toMatchObject({ version: 3, argv: ['/bin/echo', 'new'], env: { A: '1' } });

    const v4 = await cli().json<Profile>([
      'profile',
      'edit',
      'coder',
      '--unset-env',
      'A',
      '--env',
      'C=3',
      '--clear',
      'stall_timeout',
      '--clear',
      'max_concurrency',
      '--kill-grace',
      '0',
    ]);
    expect(v4).toMatchObject({
      version: 4,
      env: { B: 'two=2', C: '3' },
      max_concurrency: null,
      policy: { max_failures: 4, exit_zero: 'fail', kill_grace: 0 },
    });
    expect(v4.policy).not.toHaveProperty('stall_timeout');

    // Setting what is already set is not a new version.
    const same = await cli().json<Profile>(['profile', 'edit', 'coder', '--kill-grace', '0']);
    expect(same.version).toBe(4);
    // A policy limit named max_* is cleared as policy (it was taken for a budget's key).
    const v5 = await cli().json<Profile>(['profile', 'edit', 'coder', '--clear', 'max_failures']);
    expect(v5.policy).not.toHaveProperty('max_failures');

    const events = await profileEvents(cli(), 'profile_edited');
    expect(events.map((e) => e.payload)).toEqual([
      { profile: 'coder', version: 2, changed: ['max_concurrency'] },
      { profile: 'coder', version: 3, changed: ['argv'] },
      { profile: 'coder', version: 4, changed: ['env', 'max_concurrency', 'policy'] },
      { profile: 'coder', version: 5, changed: ['policy'] },
    ]);
    expect(events.every((e) => e.actor === 'person:bo')).toBe(true);
  });

  it('pause and resume, with a reason shown on the profile', async () => {
    const paused = await cli().json<Profile>([
      'profile',
      'pause',
      'echo',
      '--reason',
      'quota used up',
    ]);
    expect(paused).toMatchObject({ paused: true, paused_reason: 'quota used up' });
    const resumed = await cli().json<Profile>(['profile', 'resume', 'echo']);
    expect(resumed).toMatchObject({ paused: false, paused_reason: null });
    const byDefault = await cli().json<Profile>(['profile', 'pause', 'echo']);
    expect(byDefault).toMatchObject({ paused: true, paused_reason: 'paused by bo' });
    const listed = await cli().json<Profile[]>(['profile', 'list']);
    expect(listed.find((p) => p.name === 'echo')?.paused).toBe(true);

    const events = await profileEvents(cli(), 'profile_paused', 'profile_resumed');
    expect(events.map((e) => [e.kind, e.payload])).toEqual([
      ['profile_paused', { profile: 'echo', reason: 'quota used up' }],
      ['profile_resumed', { profile: 'echo', reason: 'resumed by bo' }],
      ['profile_paused', { profile: 'echo', reason: 'paused by bo' }],
    ]);
  });

  it('--no-check accepts a command that exists only on other hosts', async () => {
    const p = await cli().json<Profile>([
      'profile',
      'add',
      'remote',
      '--no-check',
      '--',
      'only-on-the-gpu-box',
    ]);
    expect(p.argv).toEqual(['only-on-the-gpu-box']);
  });

  it('refuses a WARDEN_RETRY_FOR_MS that is not milliseconds, on add and edit; nothing changes', async () => {
    const bad = /env: WARDEN_RETRY_FOR_MS is a whole number of milliseconds \(5000, not 5s\)/;
    expectError(
      await cli().run([
        'profile',
        'add',
        'retrier',
        '--env',
        'WARDEN_RETRY_FOR_MS=5s',
        '--',
        'true',
      ]),
      2,
      bad,
    );
    expectError(await cli().run(['profile', 'show', 'retrier']), 3, /does not exist/);
    await cli().json([
      'profile',
      'add',
      'retrier',
      '--env',
      'WARDEN_RETRY_FOR_MS=5000',
      '--',
      'true',
    ]);
    expectError(
      await cli().run(['profile', 'edit', 'retrier', '--env', 'WARDEN_RETRY_FOR_MS=abc']),
      2,
      bad,
    );
    const p = await cli().json<Profile>(['profile', 'show', 'retrier', '--json']);
    expect(p).toMatchObject({ version: 1, env: { WARDEN_RETRY_FOR_MS: '5000' } });
  });
});

describe.concurrent('profile remove', () => {
  it('is refused while an open task is assigned, allowed once it is archived', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['profile', 'add', 'worker', '--', 'sh', '-c', 'true']);
    const task = await cli.json<Task>(['create', 'assigned', '--assignee', 'worker']);
    const before = cli.dbSnapshot();
    expectError(
      await cli.run(['profile', 'remove', 'worker']),
      4,
      new RegExp(`profile 'worker' is assigned to open tasks \\(${task.id}\\)`),
    );
    expect(cli.dbSnapshot()).toEqual(before);

    await cli.json(['block', String(task.id), '--reason', 'hold']);
    expectError(await cli.run(['profile', 'remove', 'worker']), 4, /open tasks/);

    await cli.json(['archive', String(task.id)]);
    const removed = await cli.run(['profile', 'remove', 'worker']);
    expect(removed).toEqual({ code: 0, stdout: 'profile worker removed\n', stderr: '' });
    expectError(await cli.run(['profile', 'show', 'worker']), 3, /profile 'worker' does not exist/);
    const events = await profileEvents(cli, 'profile_removed');
    expect(events.map((e) => e.payload)).toEqual([{ profile: 'worker', version: 1 }]);
  });

  it('is allowed once the task is done; a name added again carries on its versions', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['profile', 'add', 'w', '--', '/bin/echo']);
    await cli.json(['profile', 'edit', 'w', '--max-failures', '2']);
    const task = await cli.json<Task>(['create', 'assigned', '--assignee', 'w', '--triage']);
    expectError(await cli.run(['profile', 'remove', 'w']), 4, /open tasks/);
    await cli.json(['done', String(task.id)]);
    expect((await cli.run(['profile', 'remove', 'w'])).code).toBe(0);
    expect(await cli.json<Profile[]>(['profile', 'list'])).toEqual([]);

    const again = await cli.json<Profile>(['profile', 'add', 'w', '--', '/bin/echo']);
    expect(again.version).toBe(3);
  });
});
