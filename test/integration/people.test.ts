import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../../src/os/procfs.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

async function workerPid(id: number): Promise<number> {
  const line = await waitFor(`task ${id}'s worker to start`, () =>
    home.lifeLines().find((l) => l.task === id && l.event === 'start'),
  );
  return line.pid;
}

describe('people steer running tasks through the one ending path (SPEC §3, §6)', () => {
  it('block, archive and reassign a running task end its run first', async () => {
    home = await new TestHome().init();
    await home.profile('sleepy', fixture('sleeper.sh', '60'), ['--kill-grace', '2s']);
    await home.profile('quick', fixture('short-job.sh', '0.1'));
    const a = await home.task('to block', ['--assignee', 'sleepy']);
    const b = await home.task('to archive', ['--assignee', 'sleepy']);
    const c = await home.task('to reassign', ['--assignee', 'sleepy']);
    await home.serve();
    const [pa, pb, pc] = [await workerPid(a), await workerPid(b), await workerPid(c)];

    await home.ok(['block', String(a), '--reason', 'need the spec', '--kind', 'dependency']);
    expect(await home.getTask(a)).toMatchObject({
      status: 'blocked',
      block_reason: 'need the spec',
      block_kind: 'dependency',
      current_run_id: null,
    });
    expect(pidAlive(pa)).toBe(false);

    await home.ok(['archive', String(b)]);
    expect(await home.getTask(b)).toMatchObject({ status: 'archived', current_run_id: null });
    expect(pidAlive(pb)).toBe(false);

    await home.ok(['edit', String(c), '--assignee', 'quick']);
    expect(pidAlive(pc)).toBe(false);
    const done = await home.waitStatus(c, 'done');
    expect(done.assignee).toBe('quick');
    const runs = await home.runs(c);
    expect(runs.map((r) => [r.profile, r.outcome])).toEqual([
      ['sleepy', 'stopped'],
      ['quick', 'completed'],
    ]);
    expect(done.counters.failures).toBe(0);
  });

  it('a stop naming a run the task no longer runs changes nothing (409)', async () => {
    home = await new TestHome().init();
    await home.profile('sleepy', fixture('sleeper.sh', '60'), ['--kill-grace', '2s']);
    const id = await home.task('keeps going', ['--assignee', 'sleepy']);
    const serve = await home.serve();
    const pid = await workerPid(id);
    const current = (await home.getTask(id)).current_run_id ?? 0;
    const token = readFileSync(join(home.root, 'admin.token'), 'utf8').trim();
    const stop = (runId: number): Promise<Response> =>
      fetch(`${serve.url}/api/v1/tasks/${id}/stop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ run_id: runId }),
      });
    // A stop meant for an earlier attempt, answered late: the run now in progress goes on.
    const late = await stop(current + 1);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({
      error: {
        code: 'conflict',
        message: `run ${current + 1} of task ${id} is no longer in progress (the task is running, its run now is ${current}); nothing was stopped`,
      },
    });
    expect(pidAlive(pid)).toBe(true);
    expect((await home.getTask(id)).current_run_id).toBe(current);
    expect((await stop(current)).status).toBe(200);
    expect(pidAlive(pid)).toBe(false);
  });

  it('stop works without a running serve, through the same ending code', async () => {
    home = await new TestHome().init();
    await home.profile('sleepy', fixture('sleeper.sh', '60'), ['--kill-grace', '2s']);
    const id = await home.task('orphan', ['--assignee', 'sleepy']);
    const once = await home.ok(['dispatch', '--once']);
    expect(once).toMatch(/started 1 worker/);
    const pid = await workerPid(id);
    const doctor = await home.ok(['doctor', String(id)]);
    expect(doctor).toMatch(/no warden serve is running/);
    expect(doctor).toMatch(
      new RegExp(`task ${id} "orphan": attempt 1 on .+, pid \\d+: alive, running`),
    );
    const stop = await home.cli(['stop', String(id), '--requeue', '--json']);
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ outcome: 'stopped', verified_gone: true });
    expect(pidAlive(pid)).toBe(false);
    expect((await home.getTask(id)).status).toBe('ready');
    const again = await home.cli(['stop', String(id)]);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/^warden: task \d+ has no run in progress \(it is ready\)\n$/);
  });
});
