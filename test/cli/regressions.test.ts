/*
 * Bugs found while writing the CLI tests, kept as regressions: each states the behaviour the
 * contract asks for (one error line, a clean exit code, nothing changed).
 */
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/task.js';
import { expectError, freshHome } from '../helpers/cli.js';

describe('regressions', () => {
  // src/store/bulk.ts: a bulk move by a removed profile's name was refused as an unknown one,
  // though its done tasks still carry it.
  it.concurrent("a bulk archive reaches a removed profile's done tasks", async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['profile', 'add', 'gone', '--', 'sh']);
    const t = await cli.json<Task>(['create', 'old work', '--assignee', 'gone']);
    await cli.json(['done', String(t.id)]);
    await cli.run(['profile', 'remove', 'gone']);
    const r = await cli.run(['archive', '--status', 'done', '--assignee', 'gone', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^archived 1 task/);
  });

  // src/cli/commands/token.ts: a profile named twice was stored twice (`puller,puller`).
  it.concurrent('a worker token names each profile once', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['profile', 'add', 'puller', '--pull']);
    await cli.json(['token', 'create', 'w', '--profile', 'puller', '--profile', 'puller']);
    const tokens = await cli.json<{ name: string; profiles: string[] }[]>(['token', 'list']);
    expect(tokens.find((t) => t.name === 'w')?.profiles).toEqual(['puller']);
  });

  // src/cli/main.ts configure(): commander puts "(Did you mean ...?)" on a second line.
  it.concurrent.for([
    { args: ['creat', 'x'], message: /unknown command 'creat'.*Did you mean create\?/ },
    {
      args: ['list', '--statu', 'ready'],
      message: /unknown option '--statu'.*Did you mean --status\?/,
    },
  ])('a usage error with a suggestion is one line: warden $args.0 $args.1', async (c, ctx) => {
    const cli = await freshHome(ctx);
    const before = cli.dbSnapshot();
    expectError(await cli.run(c.args), 2, c.message);
    expect(cli.dbSnapshot()).toEqual(before);
  });

  // src/cli/main.ts main(): the message is printed as is, with the user's newline in it.
  it.concurrent('bad input containing a newline still gives one line on stderr', async (ctx) => {
    const cli = await freshHome(ctx);
    const before = cli.dbSnapshot();
    expectError(await cli.run(['show', '1\n2']), 2, /is not a task id/);
    expectError(await cli.run(['list', '--status', 'ready\nbogus']), 2, /unknown status/);
    expect(cli.dbSnapshot()).toEqual(before);
  });

  // src/store/sql/task-moves.ts moveTask(): the UNIQUE index on open idempotency keys
  // surfaces as "unexpected error: SqliteError ..." with a stack trace and exit 1.
  it.concurrent(
    'retry of a done task whose idempotency key an open task now holds is a clean conflict',
    async (ctx) => {
      const cli = await freshHome(ctx);
      const old = await cli.json<Task>(['create', 'first', '--idempotency-key', 'nightly']);
      await cli.json(['done', String(old.id)]);
      await cli.json(['create', 'second', '--idempotency-key', 'nightly']);
      const before = cli.dbSnapshot();
      expectError(await cli.run(['retry', String(old.id)]), 4, /idempotency|nightly/);
      expect(cli.dbSnapshot()).toEqual(before);
    },
  );
});
