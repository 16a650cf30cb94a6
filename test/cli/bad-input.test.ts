import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/task.js';
import { expectError, freshHome } from '../helpers/cli.js';
import type { Cli } from '../helpers/cli.js';

/** One bad command and how it must fail. */
interface BadCommand {
  args: string[];
  code: 2 | 3 | 4;
  message: RegExp;
}

/** A kind of bad input: `commands` sets up what they need in a fresh home and lists them. */
interface BadInput {
  what: string;
  commands: (cli: Cli) => Promise<BadCommand[]>;
}

async function task(cli: Cli, ...args: string[]): Promise<string> {
  return String((await cli.json<Task>(['create', ...args])).id);
}

async function finished(cli: Cli): Promise<string> {
  const id = await task(cli, 'finished');
  await cli.json(['done', id]);
  return id;
}

async function archived(cli: Cli): Promise<string> {
  const id = await task(cli, 'archived');
  await cli.json(['archive', id]);
  return id;
}

const bad = (code: 2 | 3 | 4, message: RegExp, ...args: string[]): BadCommand => ({
  args,
  code,
  message,
});

const CASES: BadInput[] = [
  {
    what: 'an unknown task id',
    commands: async (cli) => {
      const t = await task(cli, 'real');
      const nf = /task 999 does not exist; list tasks with `warden list`/;
      return [
        bad(3, nf, 'show', '999'),
        bad(3, nf, 'done', '999'),
        bad(3, nf, 'block', '999', '--reason', 'x'),
        bad(3, nf, 'edit', '999', '--title', 'x'),
        bad(3, nf, 'comment', '999', 'hello'),
        bad(3, nf, 'runs', '999'),
        bad(3, nf, 'link', t, '999'),
        bad(3, nf, 'link', '999', t),
        bad(3, nf, 'create', 'child', '--parent', '999'),
        bad(3, nf, 'events', '--task', '999'),
      ];
    },
  },
  {
    what: 'a task id that is not an id',
    commands: () =>
      Promise.resolve([
        bad(2, /'abc' is not a task id/, 'show', 'abc'),
        bad(2, /'0' is not a task id/, 'show', '0'),
        bad(2, /'-1' is not a task id/, 'show', '--', '-1'),
        bad(2, /'1.5' is not a task id/, 'create', 't', '--parent', '1.5'),
      ]),
  },
  {
    what: 'an unknown status in list --status',
    commands: () =>
      Promise.resolve([
        bad(
          2,
          /unknown status 'bogus'; use one of triage, todo, ready/,
          'list',
          '--status',
          'bogus',
        ),
        bad(2, /unknown status 'Ready'/, 'list', '--status', 'todo,Ready'),
      ]),
  },
  {
    what: 'an unknown profile as --assignee',
    commands: async (cli) => {
      const t = await task(cli, 't');
      const nf = /profile 'ghost' does not exist; see `warden profile list`/;
      return [
        bad(3, nf, 'create', 't', '--assignee', 'ghost'),
        bad(3, nf, 'edit', t, '--assignee', 'ghost'),
        bad(3, nf, 'list', '--assignee', 'ghost'),
      ];
    },
  },
  {
    what: 'an unknown profile',
    commands: () => {
      const nf = /profile 'ghost' does not exist/;
      return Promise.resolve([
        bad(3, nf, 'profile', 'show', 'ghost'),
        bad(3, nf, 'profile', 'edit', 'ghost', '--max-concurrency', '2'),
        bad(3, nf, 'profile', 'remove', 'ghost'),
        bad(3, nf, 'profile', 'pause', 'ghost'),
        bad(3, nf, 'profile', 'resume', 'ghost'),
      ]);
    },
  },
  {
    what: 'an unknown board',
    commands: () => {
      const nf = /board 'nope' does not exist; add it with `warden board add nope`/;
      return Promise.resolve([
        bad(3, nf, 'list', '--board', 'nope'),
        bad(3, nf, 'create', 't', '--board', 'nope'),
        bad(3, nf, 'board', 'show', 'nope'),
        bad(3, nf, 'stats', '--board', 'nope'),
        bad(3, nf, 'report', '--board', 'nope'),
        bad(3, nf, 'events', '--board', 'nope'),
      ]);
    },
  },
  {
    what: 'a malformed duration',
    commands: async (cli) => {
      const t = await task(cli, 't');
      await cli.json(['profile', 'add', 'p', '--', 'sh']);
      const unit = /is not a duration; use a number with a unit, like 500ms, 90s, 10m or 4h/;
      return [
        bad(2, /stall-timeout: '10x'/, 'create', 't', '--stall-timeout', '10x'),
        bad(2, unit, 'create', 't', '--stall-timeout', '10'),
        bad(2, unit, 'create', 't', '--max-runtime', '1h 30m'),
        bad(2, /kill-grace: '1y'/, 'edit', t, '--kill-grace', '1y'),
        bad(2, unit, 'profile', 'add', 'q', '--stall-warn-after', 'soon', '--', 'sh'),
        bad(2, unit, 'profile', 'edit', 'p', '--backoff-base', '5 m'),
      ];
    },
  },
  {
    what: 'zero or negative where it is not allowed',
    commands: async (cli) => {
      const t = await task(cli, 't');
      await cli.json(['profile', 'add', 'p', '--', 'sh']);
      const atLeastOne = /expected a whole number of at least 1/;
      return [
        bad(2, /stall-timeout: must be longer than 0/, 'create', 't', '--stall-timeout', '0'),
        bad(2, /stall-warn-after: must be longer than 0/, 'edit', t, '--stall-warn-after', '0s'),
        bad(
          2,
          /backoff-base: must be longer than 0/,
          'profile',
          'edit',
          'p',
          '--backoff-base',
          '0',
        ),
        bad(2, /stall-timeout: '-5m'/, 'create', 't', '--stall-timeout=-5m'),
        bad(2, /max-failures: expected/, 'create', 't', '--max-failures', '0'),
        bad(2, atLeastOne, 'create', 't', '--max-failures=-2'),
        bad(2, atLeastOne, 'profile', 'add', 'q', '--stall-loop-limit', '0', '--', 'sh'),
        bad(
          2,
          /max_concurrency: must be at least 1/,
          'profile',
          'edit',
          'p',
          '--max-concurrency',
          '0',
        ),
      ];
    },
  },
  {
    what: 'a duration that rounds to 0 ms (issue #11)',
    commands: async (cli) => {
      const t = await task(cli, 't');
      // Stored as 0, 0.4ms meant "unlimited".
      const rounds =
        /max-runtime: '0\.4ms' is shorter than 1ms; durations are whole milliseconds, write 1ms or more/;
      return [
        bad(2, rounds, 'create', 't', '--max-runtime', '0.4ms'),
        bad(2, rounds, 'edit', t, '--max-runtime', '0.4ms'),
        bad(2, /--tick: '0\.4ms' is shorter than 1ms/, 'serve', '--tick', '0.4ms'),
      ];
    },
  },
  {
    what: "a serve interval a timer cannot keep, a count of 0, a bind that is not this machine's",
    commands: () =>
      Promise.resolve([
        // Past 2^31 - 1 ms Node fires a timer at once: the tick would spin.
        bad(2, /^warden: --tick: must be at most 24d, got 30d\n$/, 'serve', '--tick', '30d'),
        bad(2, /--host-ttl: must be at most 24d/, 'serve', '--host-ttl', '25d'),
        bad(2, /--lease-ttl: must be at most 24d/, 'serve', '--lease-ttl', '25d'),
        bad(2, /--progress-flush: must be longer than 0/, 'serve', '--progress-flush', '0'),
        bad(2, /--progress-flush: must be longer than 0/, 'serve', '--progress-flush', '0s'),
        bad(2, /--max-workers: must be at least 1/, 'dispatch', '--once', '--max-workers', '0'),
        bad(
          2,
          /--bind: cannot listen on '999\.1\.1\.1' \(no such host\); give an address of this machine/,
          'serve',
          '--bind',
          '999.1.1.1',
          '--port',
          '0',
        ),
      ]),
  },
  {
    what: 'an edit that both sets and clears one thing',
    commands: async (cli) => {
      const t = await task(cli, 't');
      await cli.json(['profile', 'add', 'p', '--env', 'A=1', '--', 'sh']);
      return [
        bad(
          2,
          /--clear stall_timeout and --stall-timeout were both given; give one/,
          'edit',
          t,
          '--clear',
          'stall_timeout',
          '--stall-timeout',
          '5m',
        ),
        bad(
          2,
          /--clear max_failures and --max-failures were both given/,
          'profile',
          'edit',
          'p',
          '--clear',
          'max_failures',
          '--max-failures',
          '3',
        ),
        bad(
          2,
          /--clear max_concurrency and --max-concurrency were both given/,
          'profile',
          'edit',
          'p',
          '--clear',
          'max_concurrency',
          '--max-concurrency',
          '3',
        ),
        bad(
          2,
          /--env A=\.\.\. and --unset-env A were both given; give one/,
          'profile',
          'edit',
          'p',
          '--env',
          'A=2',
          '--unset-env',
          'A',
        ),
      ];
    },
  },
  {
    what: "a value out of a field's range, in plain words",
    commands: () =>
      Promise.resolve([
        bad(
          2,
          /^warden: idempotency_key: must not be empty\n$/,
          'create',
          't',
          '--idempotency-key',
          '',
        ),
        bad(
          2,
          /^warden: max-failures: must be at most 9007199254740991, got 9007199254740992\n$/,
          'create',
          't',
          '--max-failures',
          '9007199254740992',
        ),
        bad(
          2,
          /^warden: --not-before: '99999999999d' is too long\n$/,
          'create',
          't',
          '--not-before',
          '99999999999d',
        ),
        bad(
          2,
          /^warden: --not-before: '103000000d' is too far ahead to be a time\n$/,
          'create',
          't',
          '--not-before',
          '103000000d',
        ),
        bad(
          2,
          /^warden: idempotency_key: must be at most 200 characters\n$/,
          'create',
          't',
          '--idempotency-key',
          'k'.repeat(201),
        ),
      ]),
  },
  {
    what: 'a run id of 0, a negative event id, an unknown --clear on a profile',
    commands: async (cli) => {
      const t = await task(cli, 't');
      await cli.json(['profile', 'add', 'p', '--', 'sh']);
      return [
        bad(2, /--run: '0' is not a run id/, 'log', t, '--run', '0'),
        bad(2, /--after: must be an event id, 0 or more/, 'events', '--after', '-1'),
        bad(
          2,
          /--clear: unknown option 'bogus'; known: .*stall_timeout/,
          'profile',
          'edit',
          'p',
          '--clear',
          'bogus',
        ),
      ];
    },
  },
  {
    what: 'an unknown board or profile as a filter',
    commands: async (cli) => {
      await task(cli, 't');
      return [
        bad(3, /board 'nope' does not exist/, 'schedule', 'list', '--board', 'nope'),
        bad(3, /profile 'nobody' does not exist/, 'retry', '--assignee', 'nobody'),
        bad(3, /profile 'nobody' does not exist/, 'archive', '--assignee', 'nobody', '--yes'),
      ];
    },
  },
  {
    what: 'a duration that rounds to 0 ms in a profile (issue #11)',
    commands: async (cli) => {
      await cli.json(['profile', 'add', 'p', '--', 'sh']);
      return [
        bad(
          2,
          /max-runtime: '0\.0001s' is shorter/,
          'profile',
          'edit',
          'p',
          '--max-runtime',
          '0.0001s',
        ),
        bad(
          2,
          /kill-grace: '0\.1ms' is shorter/,
          'profile',
          'add',
          'q',
          '--kill-grace',
          '0.1ms',
          '--',
          'sh',
        ),
      ];
    },
  },
  {
    what: 'spaces around a duration or a count (issue #11)',
    commands: () =>
      Promise.resolve([
        bad(
          2,
          /stall-timeout: '30m ' has spaces around it; write the duration alone, like '30m'/,
          'create',
          't',
          '--stall-timeout',
          '30m ',
        ),
        bad(
          2,
          /max-failures: expected a whole number of at least 1, got {2}3/,
          'create',
          't',
          '--max-failures',
          ' 3',
        ),
      ]),
  },
  {
    what: 'control and bidi characters in a title or a comment (issue #11)',
    commands: async (cli) => {
      const t = await task(cli, 't');
      return [
        bad(
          2,
          /title: must not contain control or bidi-override characters \(found U\+202E\)/,
          'create',
          'invoice\u202Etxt.exe',
        ),
        bad(2, /title: .*\(found U\+001B\)/, 'edit', t, '--title', '\u001b[31mred'),
        bad(2, /title: .*\(found U\+2066\)/, 'create', '\u2066isolated'),
        bad(2, /comment: .*\(found U\+0007\)/, 'comment', t, 'bell\u0007'),
      ];
    },
  },
  {
    what: 'metadata nested 5,000 levels deep (issue #11)',
    commands: async (cli) => {
      const t = await task(cli, 't');
      const deep = '['.repeat(5000) + ']'.repeat(5000);
      return [
        bad(
          2,
          /metadata: JSON nests deeper than 64 levels of arrays and objects; flatten it/,
          'done',
          t,
          '--metadata',
          deep,
        ),
      ];
    },
  },
  {
    what: 'a cycle in link',
    commands: async (cli) => {
      const a = await task(cli, 'a');
      const b = await task(cli, 'b', '--parent', a);
      const c = await task(cli, 'c', '--parent', b);
      const cycle = /would make a cycle/;
      return [bad(4, cycle, 'link', c, a), bad(4, cycle, 'link', b, a)];
    },
  },
  {
    what: 'a self-link',
    commands: async (cli) => {
      const a = await task(cli, 'a');
      return [bad(2, new RegExp(`a task cannot be its own parent \\(${a}\\)`), 'link', a, a)];
    },
  },
  {
    what: 'a title over 200 characters',
    commands: async (cli) => {
      const t = await task(cli, 't');
      const long = /title: must be at most 200 characters/;
      return [
        bad(2, long, 'create', 'x'.repeat(201)),
        bad(2, long, 'create', '😀'.repeat(201)),
        bad(2, long, 'edit', t, '--title', 'y'.repeat(201)),
      ];
    },
  },
  {
    what: 'an empty title',
    commands: async (cli) => {
      const t = await task(cli, 't');
      const empty = /title: must not be empty/;
      return [
        bad(2, empty, 'create', ''),
        bad(2, empty, 'create', ' \t '),
        bad(2, empty, 'edit', t, '--title', ''),
      ];
    },
  },
  {
    what: 'a body over 64 KiB',
    commands: async (cli) => {
      const t = await task(cli, 't');
      const big = /body: must be at most 65536 bytes/;
      return [
        bad(2, big, 'create', 't', '--body', 'b'.repeat(64 * 1024 + 1)),
        // 32 769 characters, but 65 538 bytes of UTF-8
        bad(2, big, 'edit', t, '--body', 'é'.repeat(32 * 1024 + 1)),
      ];
    },
  },
  {
    what: 'invalid JSON in done --metadata',
    commands: async (cli) => {
      const t = await task(cli, 't');
      const json = /--metadata: not valid JSON/;
      return [
        bad(2, json, 'done', t, '--metadata', '{"files": 3'),
        bad(2, json, 'done', t, '--metadata', "{'single': 'quotes'}"),
        bad(2, json, 'done', t, '--metadata', ''),
      ];
    },
  },
  {
    what: 'a transition the table forbids',
    commands: async (cli) => {
      const ready = await task(cli, 'ready');
      const done = await finished(cli);
      const gone = await archived(cli);
      return [
        bad(
          4,
          /cannot unblock a task that is done; unblock applies to tasks that are blocked/,
          'unblock',
          done,
        ),
        bad(
          4,
          /cannot accept a task that is ready; accept applies to tasks that are triage/,
          'accept',
          ready,
        ),
        bad(4, /cannot unblock a task that is ready/, 'unblock', ready),
        bad(4, /cannot retry a task that is ready/, 'retry', ready),
        bad(
          4,
          /cannot reopen a task that is ready; reopen applies to tasks that are review/,
          'reopen',
          ready,
        ),
        bad(4, /task that is done/, 'done', done),
        bad(4, /cannot accept a task that is done/, 'accept', done),
        bad(4, /cannot block a task that is archived/, 'block', gone, '--reason', 'x'),
        bad(4, /task that is archived/, 'archive', gone),
        bad(4, /task that is archived/, 'retry', gone),
        bad(4, /archived tasks cannot be edited/, 'edit', gone, '--title', 'new'),
        bad(
          4,
          /task \d+ is archived; an archived task cannot wait for another/,
          'link',
          ready,
          gone,
        ),
      ];
    },
  },
  {
    what: 'an unknown command or option',
    commands: async (cli) => {
      const t = await task(cli, 't');
      return [
        bad(2, /unknown command 'frobnicate' \(see `warden --help`\)/, 'frobnicate'),
        bad(2, /unknown command 'frob' \(see `warden board --help`\)/, 'board', 'frob'),
        bad(2, /unknown option '--colour' \(see `warden list --help`\)/, 'list', '--colour'),
        bad(2, /unknown option '--titel'/, 'create', 't', '--titel', 'x'),
        bad(2, /missing required argument 'id'/, 'show'),
        bad(2, /required option '--reason <text>' not specified/, 'block', t),
        bad(2, /too many arguments for 'show'/, 'show', t, 'extra'),
      ];
    },
  },
  {
    what: 'a profile whose command does not exist',
    commands: async (cli) => {
      await cli.json(['profile', 'add', 'p', '--', 'sh']);
      const missing = /command 'no-such-command-for-warden-tests' was not found on PATH/;
      return [
        bad(2, missing, 'profile', 'add', 'q', '--', 'no-such-command-for-warden-tests'),
        bad(2, missing, 'profile', 'edit', 'p', '--', 'no-such-command-for-warden-tests'),
        bad(
          2,
          /command '\/no\/such\/dir\/agent' was not found or is not executable/,
          'profile',
          'add',
          'q',
          '--',
          '/no/such/dir/agent',
        ),
        bad(2, /a profile needs a command: put it after --/, 'profile', 'add', 'q'),
      ];
    },
  },
  {
    what: 'a --cwd that does not exist',
    commands: async (cli) => {
      await cli.json(['profile', 'add', 'p', '--', 'sh']);
      const gone = /--cwd: '\/no\/such\/dir\/for\/warden' is not a folder on this host/;
      return [
        bad(2, gone, 'profile', 'add', 'q', '--cwd', '/no/such/dir/for/warden', '--', 'sh'),
        bad(2, gone, 'profile', 'edit', 'p', '--cwd', '/no/such/dir/for/warden'),
        bad(
          2,
          /cwd: must be 'workspace' or an absolute path/,
          'profile',
          'add',
          'q',
          '--cwd',
          'rel/dir',
          '--',
          'sh',
        ),
      ];
    },
  },
  {
    what: 'other values out of range',
    commands: async (cli) => {
      const t = await task(cli, 't');
      return [
        bad(2, /priority: must be at most 1000/, 'create', 't', '--priority', '5000'),
        bad(2, /--priority: 'high' is not a whole number/, 'create', 't', '--priority', 'high'),
        bad(2, /--kind: unknown kind 'bored'/, 'block', t, '--reason', 'x', '--kind', 'bored'),
        bad(2, /reason: must not be empty/, 'block', t, '--reason', ' '),
        bad(2, /comment: must not be empty/, 'comment', t, ''),
        bad(2, /nothing to change/, 'edit', t),
        bad(2, /give either --assignee or --unassign/, 'edit', t, '--assignee', 'x', '--unassign'),
        bad(2, /--clear: unknown option 'colour'/, 'edit', t, '--clear', 'colour'),
        bad(2, /--kind: unknown event kind 'task_exploded'/, 'events', '--kind', 'task_exploded'),
        bad(2, /--limit: 'lots' is not a whole number/, 'list', '--limit', 'lots'),
        bad(2, /--limit: must be from 1 to/, 'list', '--limit', '0'),
        bad(2, /--limit: must be from 1 to/, 'events', '--limit', '-1'),
        bad(
          2,
          /exit-zero: expected one of auto, complete, fail/,
          'create',
          't',
          '--exit-zero',
          'maybe',
        ),
        bad(2, /profile name: use letters, digits/, 'profile', 'add', 'has space', '--', 'sh'),
        bad(
          2,
          /--env: 'NOVALUE' is not KEY=VALUE/,
          'profile',
          'add',
          'q',
          '--env',
          'NOVALUE',
          '--',
          'sh',
        ),
        bad(2, /board name: use letters, digits/, 'board', 'add', 'a/b'),
      ];
    },
  },
  {
    what: 'a conflict with what is stored',
    commands: async (cli) => {
      await cli.json(['profile', 'add', 'p', '--', 'sh']);
      await cli.json(['board', 'add', 'other']);
      const onDefault = await task(cli, 'on default');
      const gone = await archived(cli);
      return [
        bad(4, /archived task cannot be a parent/, 'create', 't', '--parent', gone),
        bad(4, /archived task cannot be a parent/, 'link', gone, onDefault),
        bad(4, /board 'default' already exists/, 'board', 'add', 'default'),
        bad(
          4,
          /profile 'p' already exists; change it with `warden profile edit p`/,
          'profile',
          'add',
          'p',
          '--',
          'sh',
        ),
        bad(
          4,
          /is on board 'default', not 'other'/,
          'create',
          't',
          '--board',
          'other',
          '--parent',
          onDefault,
        ),
      ];
    },
  },
];

describe('bad input gets one clear line, the documented exit code and changes nothing', () => {
  it.concurrent.for(CASES)('$what', async ({ commands }, ctx) => {
    const cli = await freshHome(ctx);
    for (const c of await commands(cli)) {
      const before = cli.dbSnapshot();
      expectError(await cli.run(c.args), c.code, c.message, `warden ${c.args.join(' ')}`);
      expect(cli.dbSnapshot(), `warden ${c.args.join(' ')} changed the database`).toEqual(before);
    }
  });
});

describe('a home that was never set up', () => {
  it.concurrent.for([
    { args: ['list'] },
    { args: ['create', 'x'] },
    { args: ['show', '1'] },
    { args: ['profile', 'list'] },
    { args: ['events', '--follow'] },
  ])('warden $args.0 exits 1 and says to run warden init', async ({ args }, ctx) => {
    const cli = await freshHome(ctx, { init: false });
    expectError(await cli.run(args), 1, /no admin token at .*; run `warden init`/);
    expect(readdirSync(cli.home)).toEqual([]);
  });

  it.concurrent(
    'a token the database does not know: reads still work, a write is refused',
    async (ctx) => {
      const cli = await freshHome(ctx);
      writeFileSync(join(cli.home, 'admin.token'), 'wdn_not-this-homes-token\n');
      const before = cli.dbSnapshot();
      // A read acts as nobody, so it does not look the token up (docs/security.md).
      expect((await cli.run(['list'])).code).toBe(0);
      expectError(
        await cli.run(['create', 'x']),
        1,
        /the token in .*admin\.token is not known to this home's database; restore the file/,
      );
      expect(cli.dbSnapshot()).toEqual(before);
    },
  );

  it.concurrent('a home whose database is gone is never silently recreated', async (ctx) => {
    const cli = await freshHome(ctx);
    for (const file of readdirSync(cli.home)) {
      if (file.startsWith('warden.db')) rmSync(join(cli.home, file));
    }
    expectError(await cli.run(['list']), 1, /no warden database at /);
    expectError(await cli.run(['init']), 1, /has an admin token but no warden\.db/);
    expect(readdirSync(cli.home).filter((f) => f.startsWith('warden.db'))).toEqual([]);
    // A home of several hosts (its host.secret) used without WARDEN_DB: its board is on
    // PostgreSQL, and a new home here would be a second one.
    writeFileSync(join(cli.home, 'host.secret'), 'secret\n', { mode: 0o600 });
    const pg =
      /this home has a host\.secret, as a home of several hosts on PostgreSQL does: set WARDEN_DB to its postgres:\/\/ URL/;
    expectError(await cli.run(['list']), 1, pg);
    expectError(await cli.run(['init']), 1, pg);
    expectError(await cli.run(['check']), 1, pg);
    expect(readdirSync(cli.home).filter((f) => f.startsWith('warden.db'))).toEqual([]);
  });
});
