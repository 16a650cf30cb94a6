import { describe, expect, it } from 'vitest';
import { expectError, freshHome, runWarden } from '../helpers/cli.js';
import { TestHome } from '../helpers/host.js';

// Bad input to the host and worker commands: one line, the documented exit code, nothing changed.
describe('bad input to serve, dispatch, stop, doctor, group and worker', () => {
  it.concurrent('is refused cleanly and changes nothing', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['profile', 'add', 'p', '--', 'sh']);
    const task = await cli.json<{ id: number }>(['create', 't', '--assignee', 'p']);
    const before = cli.dbSnapshot();
    expectError(await cli.run(['serve', '--tick', '0']), 2, /--tick: must be longer than 0/);
    expectError(await cli.run(['serve', '--tick', 'soon']), 2, /--tick: 'soon' is not a duration/);
    expectError(await cli.run(['serve', '--port', '70000']), 2, /--port: must be from 0 to 65535/);
    expectError(
      await cli.run(['serve', '--max-workers', '0']),
      2,
      /--max-workers: must be at least 1/,
    );
    expectError(
      await cli.run(['serve', '--host-id', 'bad name']),
      2,
      /--host-id: use letters, digits/,
    );
    expectError(await cli.run(['dispatch']), 2, /required option '--once'/);
    expectError(await cli.run(['stop', '999']), 3, /task 999 does not exist/);
    expectError(
      await cli.run(['stop', String(task.id)]),
      4,
      /has no run in progress \(it is ready\)/,
    );
    expectError(await cli.run(['stop', 'x']), 2, /'x' is not a task id/);
    expectError(await cli.run(['doctor', '999']), 3, /task 999 does not exist/);
    expectError(await cli.run(['group', 'set', 'g', '--max-concurrency', '0']), 2, /at least 1/);
    expectError(
      await cli.run(['group', 'set', 'g', '--max-concurrency', '2', '--scope', 'planet']),
      2,
      /--scope: expected board or host/,
    );
    expectError(await cli.run(['group', 'set', 'g']), 2, /required option '--max-concurrency/);
    expect(cli.dbSnapshot()).toEqual(before);
  });

  it.concurrent('a worker command outside a worker, or with a bad token, says so', async (ctx) => {
    const cli = await freshHome(ctx);
    const before = cli.dbSnapshot();
    expectError(
      await cli.run(['worker', 'progress']),
      1,
      /WARDEN_URL and WARDEN_RUN_TOKEN are not set/,
    );
    expectError(
      await cli.run(['worker', 'block', '--reason', 'x', '--kind', 'nope']),
      2,
      /--kind: unknown kind 'nope'/,
    );
    expectError(
      await cli.run(['worker', 'complete', '--summary', 's', '--metadata', '{bad']),
      2,
      /--metadata: not valid JSON/,
    );
    // A malformed address is said at once, not retried for minutes as an outage would be.
    expectError(
      await runWarden(['worker', 'progress'], {
        ...cli.env,
        WARDEN_URL: 'not-a-url',
        WARDEN_RUN_TOKEN: 'wrun_x',
      }),
      1,
      /'not-a-url' is not an http\(s\) URL of warden serve \(WARDEN_URL\?\)/,
    );
    expect(cli.dbSnapshot()).toEqual(before);
  });

  it('a worker command with a token that is not a run token says so', async () => {
    const home = await new TestHome().init();
    try {
      const serve = await home.serve();
      expectError(
        await home.cli(['worker', 'progress'], {
          WARDEN_URL: serve.url,
          WARDEN_RUN_TOKEN: 'bogus',
        }),
        1,
        /worker routes take a run token \(WARDEN_RUN_TOKEN, which starts wrun_\); this is not one/,
      );
    } finally {
      await home.cleanup();
    }
  });
});
