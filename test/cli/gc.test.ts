/*
 * Issue #11, defect 6: nothing pruned old run folders, workspaces and events. `warden gc
 * --older-than D` removes those of finished (done or archived) tasks only, says what it
 * removed (or, with --dry-run, would remove, touching nothing), and refuses a bad age in one
 * line with exit 2; `serve --gc-every` runs the same on a timer.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectError, freshHome } from '../helpers/cli.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome | undefined;
afterEach(async () => {
  await home?.cleanup();
  home = undefined;
});

describe('warden gc: its argument', () => {
  it.concurrent.for([
    { args: ['gc'], message: /required option '--older-than <duration>' not specified/ },
    { args: ['gc', '--older-than', '0'], message: /--older-than: must be longer than 0/ },
    { args: ['gc', '--older-than', '-1d'], message: /--older-than: '-1d' is not a duration/ },
    { args: ['gc', '--older-than', 'soon'], message: /--older-than: 'soon' is not a duration/ },
    { args: ['gc', '--older-than', '30'], message: /--older-than: '30' is not a duration/ },
    { args: ['gc', '--older-than', '0.4ms'], message: /--older-than: .*0\.4ms/ },
    { args: ['serve', '--gc-every', '0'], message: /--gc-every: must be longer than 0/ },
    { args: ['serve', '--gc-older-than', '1d'], message: /--gc-older-than: only with --gc-every/ },
  ])('$args is refused in one line, exit 2, changing nothing', async (c, ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['create', 'a task']);
    const before = cli.dbSnapshot();
    expectError(await cli.run(c.args), 2, c.message);
    expect(cli.dbSnapshot()).toEqual(before);
  });
});

describe('warden gc', () => {
  it('prunes finished tasks’ folders and events, dry or not, and leaves open ones', async () => {
    home = await new TestHome().init();
    await home.profile('job', fixture('short-job.sh', '0.05'));
    await home.profile('hold', fixture('sleeper.sh', '600'), ['--kill-grace', '0']);
    const done = [
      await home.task('one', ['--assignee', 'job']),
      await home.task('two', ['--assignee', 'job']),
    ];
    const running = await home.task('still going', ['--assignee', 'hold']);
    await home.serve();
    for (const id of done) await home.waitStatus(id, 'done');
    await home.waitStatus(running, 'running');
    await home.ok(['archive', String(done[1])]);
    const runOf = async (id: number): Promise<number> => (await home!.runs(id))[0]?.id ?? 0;
    const folders = {
      done: await Promise.all(done.map(runOf)),
      running: await runOf(running),
    };
    const runsDir = join(home.root, 'runs');
    const listing = (): string[] => readdirSync(runsDir).sort();
    const before = listing();

    expect((await home.ok(['gc', '--older-than', '1h'])).trim()).toMatch(
      /^gc: nothing to remove: no task done or archived before .+ has events, run folders or workspaces left$/,
    );
    const dry = await home.ok(['gc', '--older-than', '1ms', '--dry-run']);
    for (const id of folders.done)
      expect(dry).toContain(`would remove run folder ${join(runsDir, String(id))} (`);
    for (const id of done)
      expect(dry).toContain(
        `would remove workspace ${join(home.root, 'workspaces', String(id))} (`,
      );
    expect(dry).toMatch(
      /gc: would remove \d+ events \(of 2 tasks\), 2 run folders and 2 workspaces \([\d.]+ (B|KiB)\) of tasks done or archived before /,
    );
    expect(listing()).toEqual(before);

    const wet = await home.ok(['gc', '--older-than', '1ms']);
    expect(wet).toMatch(/gc: removed \d+ events \(of 2 tasks\), 2 run folders and 2 workspaces /);
    for (const id of folders.done) expect(existsSync(join(runsDir, String(id)))).toBe(false);
    for (const id of done)
      expect(existsSync(join(home.root, 'workspaces', String(id)))).toBe(false);
    expect(existsSync(join(runsDir, String(folders.running)))).toBe(true);
    expect(existsSync(join(home.root, 'workspaces', String(running)))).toBe(true);
    for (const id of done) expect(await home.events(id)).toEqual([]);
    expect((await home.events(running)).length).toBeGreaterThan(0);
    const event = await home.waitEvent('gc_done');
    expect(event.payload).toMatchObject({ run_folders: 2, workspaces: 2 });
    // The tasks themselves stay on the board.
    expect((await home.getTask(done[0] ?? 0)).status).toBe('done');
    await home.ok(['stop', String(running), '--now']);
  });

  it('serve --gc-every prunes a finished task on its own', async () => {
    home = await new TestHome().init();
    await home.profile('job', fixture('short-job.sh', '0.05'));
    const id = await home.task('one', ['--assignee', 'job']);
    await home.serve(['--gc-every', '1s', '--gc-older-than', '1ms']);
    await home.waitStatus(id, 'done');
    const event = await home.waitEvent('gc_done');
    expect(event.actor).toMatch(/^dispatcher:/);
    const runId = (await home.runs(id))[0]?.id ?? 0;
    await waitFor(
      'the run folder to go',
      () => !existsSync(join(home!.root, 'runs', String(runId))),
    );
    expect(existsSync(join(home.root, 'workspaces', String(id)))).toBe(false);
  });
});
