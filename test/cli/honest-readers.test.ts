import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/task.js';
import { freshHome } from '../helpers/cli.js';
import type { Cli } from '../helpers/cli.js';

/** Makes `n` tasks on the board with `warden apply` (500 a file), as a person with a backlog. */
async function backlog(cli: Cli, n: number): Promise<void> {
  for (let from = 1; from <= n; from += 500) {
    const tasks = [];
    for (let i = from; i < Math.min(from + 500, n + 1); i++)
      tasks.push({ name: `t${i}`, title: `task ${i}` });
    const file = join(cli.home, `backlog-${from}.json`);
    writeFileSync(file, JSON.stringify({ tasks }));
    const r = await cli.run(['apply', file]);
    expect(r.code, r.stderr).toBe(0);
  }
}

interface DoctorLine {
  task_id: number;
  status: string;
  code: string;
  explanation: string;
  next_action: string | null;
  run: unknown;
}

describe('honest readers (issue #15)', () => {
  it('list says what its limit cut, on stderr, so the listing itself stays clean', async (ctx) => {
    const cli = await freshHome(ctx);
    await backlog(cli, 30);
    const cut = await cli.run(['list', '--limit', '20']);
    expect(cut.code).toBe(0);
    expect(cut.stderr).toBe('20 of 30 shown; --limit to see more\n');
    expect(cut.stdout.trim().split('\n')).toHaveLength(21);
    const json = await cli.run(['list', '--limit', '20', '--json']);
    expect(json.stderr).toBe('20 of 30 shown; --limit to see more\n');
    expect(JSON.parse(json.stdout) as Task[]).toHaveLength(20);
    // Filters count too: 30 ready, none blocked.
    expect((await cli.run(['list', '--status', 'ready', '--limit', '29'])).stderr).toBe(
      '29 of 30 shown; --limit to see more\n',
    );
    // Nothing cut, nothing said.
    expect((await cli.run(['list', '--limit', '30'])).stderr).toBe('');
    expect((await cli.run(['list'])).stderr).toBe('');
  });

  it('doctor groups identical explanations and ends each with the command that clears it', async (ctx) => {
    const cli = await freshHome(ctx);
    await backlog(cli, 2000);
    await cli.json(['profile', 'add', 'parked', '--', '/bin/true']);
    await cli.json(['profile', 'pause', 'parked', '--reason', 'key rotated']);
    const waiting = await cli.json<Task>(['create', 'for parked', '--assignee', 'parked']);
    const r = await cli.run(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'no warden serve is running for this home',
      'profile parked is paused (by person: key rotated): `warden profile resume parked`',
      '2,000 ready tasks have no assignee (#1, #2, #3, #4, #5 and 1,995 more); `warden edit ID --assignee PROFILE`',
      `task ${waiting.id} "for parked" is ready: profile parked is paused (person): key rotated; \`warden profile resume parked\``,
      '',
    ]);
  }, 60_000);

  it('doctor covers todo tasks held by a blocked ancestor, and --json gives fields', async (ctx) => {
    const cli = await freshHome(ctx);
    const root = await cli.json<Task>(['create', 'build']);
    await cli.json([
      'block',
      String(root.id),
      '--reason',
      'needs the signing key',
      '--kind',
      'needs_input',
    ]);
    const child = await cli.json<Task>(['create', 'package', '--parent', String(root.id)]);
    const grandchild = await cli.json<Task>(['create', 'release', '--parent', String(child.id)]);
    const free = await cli.json<Task>(['create', 'unrelated parent']);
    const waits = await cli.json<Task>(['create', 'waits normally', '--parent', String(free.id)]);

    const lines = await cli.json<DoctorLine[]>(['doctor']);
    const held = `held by blocked task ${root.id} "build" (needs_input: needs the signing key); clear task ${root.id}: \`warden unblock ${root.id}\` or \`warden retry ${root.id}\` when it is fixed`;
    expect(lines.filter((l) => l.status === 'todo')).toEqual([
      {
        task_id: child.id,
        status: 'todo',
        title: 'package',
        code: 'held_by_blocked',
        explanation: `task ${child.id} "package" is todo: waiting for parent ${root.id} (blocked); ${held}`,
        next_action: `clear task ${root.id}: \`warden unblock ${root.id}\` or \`warden retry ${root.id}\` when it is fixed`,
        run: null,
      },
      expect.objectContaining({
        task_id: grandchild.id,
        code: 'held_by_blocked',
        explanation: `task ${grandchild.id} "release" is todo: waiting for parent ${child.id} (todo), ${held}`,
      }) as DoctorLine,
    ]);
    // A todo task that simply waits for its parent is not a problem, so doctor leaves it out.
    expect(lines.map((l) => l.task_id)).not.toContain(waits.id);
    // Asked about it by id, doctor explains it anyway.
    const one = await cli.json<DoctorLine[]>(['doctor', String(waits.id)]);
    expect(one[0]?.explanation).toBe(
      `task ${waits.id} "waits normally" is todo: waiting for parent ${free.id} (ready)`,
    );
    const text = (await cli.run(['doctor'])).stdout;
    // Two todo tasks held the same way, but each says its own parents: not grouped.
    expect(text).toContain(`task ${child.id} "package" is todo`);
  });
});
