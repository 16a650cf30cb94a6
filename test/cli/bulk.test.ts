import { describe, expect, it } from 'vitest';
import type { BulkResult } from '../../src/core/bulk.js';
import type { Task } from '../../src/core/task.js';
import { expectError, freshHome } from '../helpers/cli.js';
import type { Cli } from '../helpers/cli.js';

/** A board with blocked tasks of two kinds and two profiles, and tasks in other statuses. */
async function board(cli: Cli): Promise<Record<string, number>> {
  for (const p of ['p', 'q']) {
    const r = await cli.run(['profile', 'add', p, '--', 'true']);
    expect(r.code, r.stderr).toBe(0);
  }
  const ids: Record<string, number> = {};
  const make = async (name: string, assignee: string, kind?: string): Promise<void> => {
    const t = await cli.json<Task>(['create', name, '--assignee', assignee]);
    ids[name] = t.id;
    if (kind !== undefined) {
      await cli.json(['block', String(t.id), '--reason', `${name} waits`, '--kind', kind]);
    }
  };
  await make('dep-p', 'p', 'dependency');
  await make('dep-q', 'q', 'dependency');
  await make('ask-p', 'p', 'needs_input');
  await make('transient-p', 'p', 'transient');
  await make('ready-p', 'p');
  const done = await cli.json<Task>(['create', 'done-p', '--assignee', 'p']);
  await cli.json(['done', String(done.id)]);
  ids['done-p'] = done.id;
  return ids;
}

describe.concurrent('bulk retry, unblock and archive', () => {
  it('is a dry run by default: it lists what it would change and changes nothing', async (ctx) => {
    const cli = await freshHome(ctx);
    const ids = await board(cli);
    const before = cli.dbSnapshot();
    const r = await cli.run(['unblock', '--kind', 'dependency,transient', '--assignee', 'p']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^dry run: would unblock 2 tasks of 2 matching on board default; nothing changed, add --yes to unblock them\n/,
    );
    expect(r.stdout).toMatch(
      new RegExp(`${ids['dep-p']} +blocked +dependency +p +dep-p +would unblock → ready`),
    );
    const json = await cli.json<BulkResult>(['retry', '--status', 'blocked,done']);
    expect(json).toMatchObject({
      verb: 'retry',
      dry_run: true,
      matched: 5,
      changed: 0,
      refused: 0,
    });
    expect(json.tasks.map((t) => t.id).sort((a, b) => a - b)).toEqual(
      [ids['dep-p'], ids['dep-q'], ids['ask-p'], ids['transient-p'], ids['done-p']].sort(
        (a, b) => (a ?? 0) - (b ?? 0),
      ),
    );
    expect(cli.dbSnapshot()).toEqual(before);
  });

  it('with --yes changes exactly the tasks the filter matches, each through the same move', async (ctx) => {
    const cli = await freshHome(ctx);
    const ids = await board(cli);
    const result = await cli.json<BulkResult>([
      'unblock',
      '--kind',
      'dependency',
      '--assignee',
      'p',
      '--yes',
    ]);
    expect(result).toMatchObject({ dry_run: false, matched: 1, changed: 1, refused: 0 });
    expect(result.tasks).toEqual([
      expect.objectContaining({ id: ids['dep-p'], result: 'changed', to: 'ready' }),
    ]);
    const after = await cli.json<Task[]>(['list']);
    const status = Object.fromEntries(after.map((t) => [t.title, [t.status, t.block_kind]]));
    expect(status).toEqual({
      'dep-p': ['ready', null],
      'dep-q': ['blocked', 'dependency'],
      'ask-p': ['blocked', 'needs_input'],
      'transient-p': ['blocked', 'transient'],
      'ready-p': ['ready', null],
      'done-p': ['done', null],
    });
    const events = await cli.json<{ kind: string; task_id: number }[]>(['events']);
    expect(events.filter((e) => e.kind === 'task_unblocked').map((e) => e.task_id)).toEqual([
      ids['dep-p'],
    ]);
  });

  it('reports each refused task, changes the others, and exits 4 with one line', async (ctx) => {
    const cli = await freshHome(ctx);
    const ids = await board(cli);
    // retry applies to blocked and done tasks; ready-p is refused by the transition table.
    const r = await cli.run(['retry', '--assignee', 'p', '--yes']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /^warden: 1 of 5 tasks were refused \(see the list\); the others were retried\n$/,
    );
    expect(r.stdout).toMatch(/^retried 4 tasks of 5 matching on board default; 1 refused\n/);
    expect(r.stdout).toMatch(
      new RegExp(
        `${ids['ready-p']} +ready +- +p +ready-p +refused: cannot retry a task that is ready`,
      ),
    );
    const after = await cli.json<Task[]>(['list']);
    expect(
      after
        .filter((t) => t.assignee === 'p')
        .map((t) => t.status)
        .sort(),
    ).toEqual(['ready', 'ready', 'ready', 'ready', 'ready']);
    expect(after.find((t) => t.title === 'dep-q')?.status).toBe('blocked');
  });

  it('archives the matching tasks, and says so when nothing matches', async (ctx) => {
    const cli = await freshHome(ctx);
    await board(cli);
    const r = await cli.json<BulkResult>(['archive', '--status', 'done', '--yes']);
    expect(r).toMatchObject({ matched: 1, changed: 1 });
    expect(r.tasks[0]).toMatchObject({ status: 'done', to: 'archived' });
    const none = await cli.run(['archive', '--status', 'done']);
    expect(none).toEqual({
      code: 0,
      stdout: 'no task on board default matches; nothing to archive\n',
      stderr: '',
    });
  });

  it('refuses a bad filter with one line and changes nothing', async (ctx) => {
    const cli = await freshHome(ctx);
    await board(cli);
    const before = cli.dbSnapshot();
    expectError(
      await cli.run(['retry']),
      2,
      /^warden: give a task id, or a filter \(--status, --assignee, --kind\) to retry many\n$/,
    );
    expectError(await cli.run(['retry', '--yes']), 2, /to retry many/);
    expectError(
      await cli.run(['retry', '1', '--status', 'blocked']),
      2,
      /give a task id or a filter .*not both/,
    );
    expectError(
      await cli.run(['unblock', '--kind', 'stuck', '--yes']),
      2,
      /^warden: --kind: unknown kind 'stuck'; use one of needs_input, .*transient\n$/,
    );
    expectError(
      await cli.run(['archive', '--status', 'gone', '--yes']),
      2,
      /^warden: --status: unknown status 'gone'; use one of triage, todo, ready/,
    );
    expectError(
      await cli.run(['archive', '--status', 'done', '--delete-branch']),
      2,
      /--delete-branch goes with one task id/,
    );
    expectError(
      await cli.run(['retry', '--status', 'blocked', '--board', 'nope', '--yes']),
      3,
      /board 'nope' does not exist/,
    );
    expect(cli.dbSnapshot()).toEqual(before);
  });
});
