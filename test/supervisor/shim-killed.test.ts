import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ORPHAN_EXITED_MESSAGE } from '../../src/core/reasons.js';
import { pidAlive } from '../../src/os/procfs.js';
import { waitFor } from '../helpers/host.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

/**
 * A `kill -9` of a run's shim while its worker runs on (a person's `kill` of the wrong pid, a
 * `pkill -f` of the run's folder): the worker is the run, so it is watched by itself, not
 * killed and counted a failure for its shim's loss; only its exit status is lost.
 */
describe('a run whose shim is killed while the worker runs on', () => {
  let h: SupervisorHome;
  const ana = person('ana');

  beforeEach(async () => {
    h = await supervisorHome();
  });

  afterEach(() => h.cleanup());

  /** Starts a worker that prints and waits for RUN_DIR/go, then exits 0; kills its shim. */
  async function killShim(): Promise<{ taskId: number; runId: number; worker: number }> {
    const script =
      'echo started; while [ ! -e "$WARDEN_RUN_DIR/go" ]; do sleep 0.05; done; echo done';
    await h.store.addProfile('waiter', { argv: ['sh', '-c', script] }, ana);
    const task = await h.store.createTask({ title: 'wait', assignee: 'waiter' }, ana);
    const claim = await h.claimOne();
    const runDir = join(h.dir, 'runs', String(claim.run.id));
    await h.supervisor.start(claim, {});
    const pidFile = join(runDir, 'worker.pid');
    await waitFor(
      'the worker to start',
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
    );
    const worker = Number(readFileSync(pidFile, 'utf8'));
    const shim = (await h.store.getRun(claim.run.id)).process?.pid;
    if (shim === undefined) throw new Error('no shim recorded');
    process.kill(shim, 'SIGKILL');
    return { taskId: task.id, runId: claim.run.id, worker };
  }

  it('watches the worker itself, and books its later exit as one whose status is not known', async () => {
    const { taskId, runId, worker } = await killShim();
    await waitFor(
      'serve to see the shim end',
      () => h.supervisor.live.get(runId)?.childExit != null,
    );
    await h.supervisor.tick();
    await h.supervisor.tick();
    expect(pidAlive(worker)).toBe(true);
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });
    expect(h.supervisor.live.get(runId)?.orphan?.pid).toBe(worker);

    writeFileSync(join(h.dir, 'runs', String(runId), 'go'), '');
    await waitFor('the worker to exit', () => !pidAlive(worker));
    await h.supervisor.tick();
    await waitFor('the run to end', async () => (await h.store.getRun(runId)).state === 'ended');
    const run = await h.store.getRun(runId);
    expect(run).toMatchObject({ outcome: 'crashed', exit_code: null });
    expect(run.signal).not.toBe('SIGKILL');
    expect(run.reason).toMatchObject({ rule: 'vanished', message: ORPHAN_EXITED_MESSAGE });
    expect((await h.store.getTask(taskId)).counters.failures).toBe(1);
  });

  it('is adopted by a restarted serve through its worker, and a stop then ends the worker', async () => {
    const { taskId, runId, worker } = await killShim();
    await waitFor(
      'serve to see the shim end',
      () => h.supervisor.live.get(runId)?.childExit != null,
    );
    const restarted = await h.restart();
    await restarted.adoptAll();
    await restarted.tick();
    expect(pidAlive(worker)).toBe(true);
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'running' });
    expect(restarted.live.get(runId)?.orphan?.pid).toBe(worker);
    expect(await h.store.listEvents({ task_id: taskId, kinds: ['adopted'] })).toHaveLength(1);

    const ended = await restarted.stop(taskId, 'ana', { now: true });
    expect(ended?.verified_gone).toBe(true);
    expect(pidAlive(worker)).toBe(false);
    expect(await h.store.getRun(runId)).toMatchObject({ state: 'ended', outcome: 'stopped' });
  });
});
