import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { person } from '../../src/core/actor.js';
import { RunRule } from '../../src/core/ending.js';
import type { ManualClock } from '../../src/core/clock.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';
import { spawnWorker } from '../../src/supervisor/spawn.js';
import type { Supervisor } from '../../src/supervisor/supervisor.js';
import { waitFor } from '../helpers/host.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

/**
 * The supervisor on an injected clock: real processes and a real store, but time moves only
 * when the test moves it, so the rules are checked without sleeping through them.
 */
describe('Supervisor on a manual clock', () => {
  let h: SupervisorHome;
  let dir: string;
  let store: SqliteStore;
  let clock: ManualClock;
  let supervisor: Supervisor;
  const ana = person('ana');

  beforeEach(async () => {
    h = await supervisorHome({ progressFlushMs: 1000 });
    ({ dir, store, clock, supervisor } = h);
  });

  afterEach(() => h.cleanup());

  async function startSleeper(
    policy: Record<string, number>,
  ): Promise<{ taskId: number; runId: number }> {
    await store.addProfile('sleeper', { argv: ['sleep', '60'], policy }, ana);
    const task = await store.createTask({ title: 'sleep', assignee: 'sleeper' }, ana);
    const claim = await h.claimOne();
    await supervisor.start(claim, {});
    return { taskId: task.id, runId: claim.run.id };
  }

  /**
   * Starts a sleeper and waits for its worker to run: an ending's TERM sent while the shim is
   * still starting may be lost, and the run wait out a kill_grace this manual clock never
   * reaches (docs/architecture.md, Known gaps). Without the wait the stall case failed about
   * one run in three.
   */
  async function runningSleeper(
    policy: Record<string, number>,
  ): Promise<{ taskId: number; runId: number }> {
    const started = await startSleeper(policy);
    await waitFor('the worker to start', () =>
      existsSync(join(dir, 'runs', String(started.runId), 'worker.pid')),
    );
    return started;
  }

  /**
   * Claims the one ready task and starts its worker as a serve that died right after the spawn
   * would have: the shim runs, but the run never learns its pid until a supervisor adopts it.
   */
  async function spawnUnrecorded(
    argv: string[],
  ): Promise<{ runId: number; runDir: string; pid: number }> {
    const claim = await h.claimOne();
    const runDir = join(dir, 'runs', String(claim.run.id));
    const spawned = spawnWorker({
      runDir,
      logPath: join(runDir, 'output.log'),
      argv,
      env: process.env,
      cwd: dir,
    });
    spawned.child.unref();
    // Written, not only created: the shell makes the file empty before its printf writes the
    // pid and newline in one write, and a loaded machine can pause it in between.
    const pidFile = join(runDir, 'shim.pid');
    await waitFor(
      'the shim to write its pid',
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'),
    );
    return { runId: claim.run.id, runDir, pid: spawned.pid };
  }

  it('warns once at stall_warn_after, re-arms on progress, and ends at stall_timeout', async () => {
    const { taskId, runId } = await runningSleeper({
      stall_warn_after: 60_000,
      stall_timeout: 600_000,
      kill_grace: 1000,
    });
    await supervisor.tick();
    clock.advance(59_000);
    await supervisor.tick();
    expect(await store.listEvents({ task_id: taskId, kinds: ['stall_warning'] })).toHaveLength(0);
    clock.advance(2000);
    await supervisor.tick();
    await supervisor.tick();
    expect(await store.listEvents({ task_id: taskId, kinds: ['stall_warning'] })).toHaveLength(1);
    supervisor.noteCall(runId, 'progress', 'working');
    clock.advance(61_000);
    await supervisor.tick();
    expect(await store.listEvents({ task_id: taskId, kinds: ['stall_warning'] })).toHaveLength(2);
    // A heartbeat proves liveness only: silence keeps counting.
    supervisor.noteCall(runId, 'heartbeat');
    clock.advance(600_000);
    await supervisor.tick();
    await waitFor('the run to end', async () => (await store.getRun(runId)).state === 'ended');
    const run = await store.getRun(runId);
    expect(run).toMatchObject({ outcome: 'stalled', progress_count: 1 });
    expect(run.reason?.rule).toBe('stall_timeout');
  });

  it('looks at every other run while one run’s look takes long, and queues one look behind it', async () => {
    const policy = { stall_warn_after: 60_000, stall_timeout: 600_000, kill_grace: 1000 };
    const a = await runningSleeper(policy);
    const other = await store.createTask({ title: 'sleep too', assignee: 'sleeper' }, ana);
    const claim = await h.claimOne();
    await supervisor.start(claim, {});
    await waitFor('the other worker to start', () =>
      existsSync(join(dir, 'runs', String(claim.run.id), 'worker.pid')),
    );
    await supervisor.tick();
    // From here a tick waits for its looks for 200 ms at most, as serve's do for 2 s.
    supervisor.opts.tickWaitMs = 200;
    // Run a's look is held, as by an ending gathering its evidence in a slow repository.
    const held = supervisor.live.get(a.runId);
    if (!held) throw new Error('run a is not watched');
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    held.queue = held.queue.then(() => gate);

    clock.advance(61_000);
    // Each tick returns, and the other run is looked at and warned; a's looks wait, joined
    // into one.
    await supervisor.tick();
    await supervisor.tick();
    const warned = (taskId: number) =>
      store.listEvents({ task_id: taskId, kinds: ['stall_warning'] });
    expect(await warned(other.id)).toHaveLength(1);
    expect(await warned(a.taskId)).toHaveLength(0);
    // The second tick's kick joined the look the first queued behind the held one.
    expect(held.lookQueued).toBe(true);
    open();
    await supervisor.idle();
    expect(held.lookQueued).toBe(false);
    expect(await warned(a.taskId)).toHaveLength(1);
  });

  it('fails a person’s stop whose first write the store refuses, and goes on looking at the run', async () => {
    const { taskId, runId } = await runningSleeper({ kill_grace: 1000 });
    // The store does not answer the stop's first write, as PostgreSQL away would not.
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    vi.spyOn(store, 'beginEnding').mockRejectedValueOnce(refused);
    await expect(supervisor.stop(taskId, 'ana', {})).rejects.toThrow(/ECONNREFUSED/);
    // The run's looks go on (before, its queue was left failed: an unhandled rejection that
    // ended serve, and with looks joined, none again): a second stop ends it.
    const live = supervisor.live.get(runId);
    await supervisor.tick();
    expect(live?.lookQueued).toBe(false);
    const stopped = await supervisor.stop(taskId, 'ana', { now: true });
    expect(stopped).toMatchObject({ outcome: 'stopped', verified_gone: true });
  });

  it('does not count a suspend of the machine as silence, and says it resumed', async () => {
    const { taskId, runId } = await startSleeper({
      stall_warn_after: 60_000,
      stall_timeout: 120_000,
    });
    await supervisor.tick();
    clock.jumpWall(3_600_000);
    await supervisor.tick();
    const resumed = await store.listEvents({ kinds: ['host_resumed'] });
    expect(resumed).toHaveLength(1);
    expect(resumed[0]?.payload.gap_ms).toBeGreaterThanOrEqual(3_600_000);
    expect(await store.listEvents({ task_id: taskId, kinds: ['stall_warning'] })).toHaveLength(0);
    expect((await store.getRun(runId)).state).toBe('running');
    await supervisor.stop(taskId, 'ana', { now: true });
    expect((await store.getRun(runId)).outcome).toBe('stopped');
  });

  it('adopts a run across a restart without counting the machine’s sleep as its runtime or silence', async () => {
    const { taskId, runId } = await runningSleeper({
      stall_warn_after: 600_000,
      stall_timeout: 1_200_000,
      max_runtime: 3_600_000,
      kill_grace: 1000,
    });
    clock.advance(300_000);
    await supervisor.tick();
    // serve stops; the machine sleeps 15 hours; serve starts again and adopts the run.
    clock.jumpWall(15 * 3_600_000);
    clock.advance(60_000);
    const restarted = await h.restart();
    await restarted.adoptAll();
    await restarted.tick();
    expect(await store.getRun(runId)).toMatchObject({ state: 'running', stall_warned_at: null });
    // 6 min of its life were awake, all silent: it is warned at 10 and stalls at 20.
    clock.advance(300_000);
    await restarted.tick();
    expect(await store.listEvents({ task_id: taskId, kinds: ['stall_warning'] })).toHaveLength(1);
    clock.advance(600_000);
    await restarted.tick();
    await waitFor('the run to end', async () => (await store.getRun(runId)).state === 'ended');
    expect((await store.getRun(runId)).outcome).toBe('stalled');
  });

  it('does not count a stop of serve itself as silence: nothing could be heard meanwhile', async () => {
    const { taskId, runId } = await runningSleeper({
      stall_warn_after: 10_000,
      stall_timeout: 20_000,
      kill_grace: 1000,
    });
    supervisor.absences.watch();
    /** serve runs for `ms`: the clock moves a beat at a time. */
    const ranFor = (ms: number): void => {
      for (let left = ms; left > 0; left -= 250) {
        clock.advance(Math.min(250, left));
        supervisor.absences.beat();
      }
    };
    ranFor(5000);
    clock.advance(60_000); // serve stopped for a minute (SIGSTOP): both clocks move
    await supervisor.tick();
    expect(await store.getRun(runId)).toMatchObject({ state: 'running', stall_warned_at: null });
    // 5 s silent before the stop and 7 s after it: warned at 10, not stalled.
    ranFor(7000);
    await supervisor.tick();
    expect(await store.listEvents({ task_id: taskId, kinds: ['stall_warning'] })).toHaveLength(1);
    expect((await store.getRun(runId)).state).toBe('running');
    ranFor(9000);
    await supervisor.tick();
    await waitFor('the run to end', async () => (await store.getRun(runId)).state === 'ended');
    expect((await store.getRun(runId)).outcome).toBe('stalled');
  });

  it('ends a run past max_runtime as timed_out even while it makes progress, and blocks the task', async () => {
    const { taskId, runId } = await runningSleeper({ max_runtime: 3_600_000, kill_grace: 1000 });
    for (let i = 0; i < 6; i++) {
      clock.advance(600_000);
      supervisor.noteCall(runId, 'progress');
      await supervisor.tick();
    }
    await waitFor('the run to end', async () => (await store.getRun(runId)).state === 'ended');
    expect((await store.getRun(runId)).outcome).toBe('timed_out');
    expect(await store.getTask(taskId)).toMatchObject({
      status: 'blocked',
      block_rule: 'timed_out',
    });
  });

  it('books a run from before a reboot as host_lost, without signalling anything', async () => {
    await store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
    const task = await store.createTask({ title: 'old', assignee: 'sleeper' }, ana);
    const claim = await h.claimOne();
    // Its identity names another boot: a pid that may now be anyone's.
    // Its log in this home's runs/ (a log elsewhere is another home's run).
    const runDir = join(dir, 'runs', String(claim.run.id));
    mkdirSync(runDir, { recursive: true });
    await store.recordSpawn(
      claim.run.id,
      { boot_id: 'a-previous-boot', pid: process.pid, start_time: '1' },
      join(runDir, 'output.log'),
    );
    await supervisor.adoptAll();
    const run = await store.getRun(claim.run.id);
    expect(run).toMatchObject({ state: 'ended', outcome: 'host_lost' });
    expect(run.reason?.message).toBe('the machine restarted since the worker started');
    expect((await store.getTask(task.id)).counters).toMatchObject({ failures: 0, host_losses: 1 });
  });

  it('books a run of another home as other_home, even one from another machine (another boot)', async () => {
    await store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
    const task = await store.createTask({ title: 'copied', assignee: 'sleeper' }, ana);
    const claim = await h.claimOne();
    // A database restored on another machine: another boot, its log under the first home.
    const elsewhere = join(dir, 'first-home', 'runs', String(claim.run.id));
    mkdirSync(elsewhere, { recursive: true });
    await store.recordSpawn(
      claim.run.id,
      { boot_id: 'a-previous-boot', pid: process.pid, start_time: '1' },
      join(elsewhere, 'output.log'),
    );
    await supervisor.adoptAll();
    const run = await store.getRun(claim.run.id);
    expect(run).toMatchObject({ state: 'ended', outcome: 'host_lost' });
    expect(run.reason?.message).toMatch(/^the worker was started from another home/);
    expect((await store.getTask(task.id)).counters.failures).toBe(0);
  });

  it('adopts a worker whose spawn serve died before recording, instead of starting a second one', async () => {
    await store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
    const task = await store.createTask({ title: 'orphan', assignee: 'sleeper' }, ana);
    // The shim starts, but the run never learns its pid (serve "died" right after the spawn).
    const { runId, pid } = await spawnUnrecorded(['sleep', '60']);
    await supervisor.adoptAll();
    const run = await store.getRun(runId);
    expect(run).toMatchObject({ state: 'running', process: { pid } });
    expect((await store.listEvents({ task_id: task.id, kinds: ['adopted'] })).length).toBe(1);
    const ended = await supervisor.stop(task.id, 'ana', { now: true });
    expect(ended?.verified_gone).toBe(true);
  });

  it('ends a run as the model proxy decided when its worker exits on the answer before that ending began', async () => {
    const go = join(dir, 'go');
    const quitter = ['sh', '-c', `while [ ! -e ${go} ]; do sleep 0.05; done; exit 1`];
    await store.addProfile('quitter', { argv: quitter }, ana);
    const task = await store.createTask({ title: 'spend', assignee: 'quitter' }, ana);
    // Adopted, so no exit event of its own looks at it: the test orders the looks.
    const { runId, runDir } = await spawnUnrecorded(quitter);
    await supervisor.adoptAll();
    await supervisor.idle();
    // The worker reads the proxy's refusal and exits 1 ...
    writeFileSync(go, '');
    await waitFor('the worker to exit', () => existsSync(join(runDir, 'exit')));
    const live = supervisor.live.get(runId);
    if (!live) throw new Error('not adopted');
    // ... while a look that will see the exit is already queued ahead of the proxy's ending.
    supervisor.kick(live);
    supervisor.endFor(runId, 'budget_exhausted', {
      rule: RunRule.llm_budget,
      message: '1.02M tokens of 1M for this task (max_tokens_per_task)',
    });
    const run = await waitFor('the run to end', async () => {
      await supervisor.idle();
      await supervisor.tick();
      const r = await store.getRun(runId);
      return r.state === 'ended' ? r : undefined;
    });
    expect(run).toMatchObject({ outcome: 'budget_exhausted' });
    expect(run.reason?.rule).toBe(RunRule.llm_budget);
    expect((await store.getTask(task.id)).status).toBe('blocked');
  });

  it('writes progress in batches, not per call', async () => {
    const { runId } = await startSleeper({});
    for (let i = 0; i < 50; i++) supervisor.noteCall(runId, 'progress');
    expect((await store.getRun(runId)).progress_count).toBe(0);
    clock.advance(1000);
    await supervisor.tick();
    expect((await store.getRun(runId)).progress_count).toBe(50);
    await supervisor.stop((await store.getRun(runId)).task_id, 'ana', { now: true });
  });
});
