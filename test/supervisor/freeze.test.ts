import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { Run } from '../../src/core/run.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';
import { KILL_NOW, LEASE_KILLED, uptimeCs, writeLiveFile } from '../../src/supervisor/freeze.js';
import type { FreezeDeadlines } from '../../src/supervisor/freeze.js';
import { groupAlive } from '../../src/os/procfs.js';
import { readCgroupFile, spawnWorker } from '../../src/supervisor/spawn.js';
import type { Spawned } from '../../src/supervisor/spawn.js';
import type { Supervisor, SupervisorOptions } from '../../src/supervisor/supervisor.js';
import { cgroupsHere } from '../helpers/cgroups.js';
import { waitFor, writtenPid } from '../helpers/host.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

const CGROUPS = cgroupsHere();

/** A field of a process's /proc/PID/stat after its name (0: state), or null when it is gone. */
function statField(pid: number, field: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[field] ?? null;
  } catch {
    return null;
  }
}

/** The state letter of a process (R, S, T, Z...), or null when it is gone. */
function stateOf(pid: number): string | null {
  return statField(pid, 0);
}

/** The process group of a process, or null when it is gone. */
function groupOf(pid: number): string | null {
  return statField(pid, 2);
}

/**
 * Starts `argv` under the shim in run folder `name`, to be frozen `freezeInCs` hundredths of a
 * second from now (before, if negative) and killed ten minutes after that.
 */
function spawnWatched(
  dir: string,
  name: string,
  argv: string[],
  freezeInCs: number,
): { runDir: string; spawned: Spawned } {
  const runDir = join(dir, 'runs', name);
  mkdirSync(runDir, { recursive: true });
  const up = uptimeCs();
  writeLiveFile(runDir, { freezeAtCs: up + freezeInCs, killAtCs: up + freezeInCs + 60_000 });
  const spawned = spawnWorker({
    runDir,
    logPath: join(runDir, 'output.log'),
    argv,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: runDir,
    watch: { liveFile: join(runDir, 'live'), pollSeconds: 0.1 },
  });
  spawned.child.unref();
  return { runDir, spawned };
}

/**
 * Several hosts (SPEC §3): the shim's watcher freezes a worker when its deadlines pass,
 * thaws it when they move forward, and kills it past KILL_AT; a run killed so ends host_lost.
 */
describe('freezing workers through the shim’s watcher', () => {
  let h: SupervisorHome;
  let dir: string;
  let store: SqliteStore;
  let supervisor: Supervisor;
  let deadlines: FreezeDeadlines;
  const ana = person('ana');

  beforeEach(async () => {
    deadlines = { freezeAtCs: uptimeCs() + 60_000, killAtCs: uptimeCs() + 120_000 };
    h = await supervisorHome({ freeze: freezeSource() });
    ({ dir, store, supervisor } = h);
  });

  afterEach(() => h.cleanup());

  /** The host's lease as the watcher sees it: `deadlines`, moved by the tests. */
  function freezeSource(): NonNullable<SupervisorOptions['freeze']> {
    return { deadlines: () => deadlines, valid: () => true, epoch: () => 0, pollSeconds: 0.1 };
  }

  /** The run once the supervisor's ticks have ended it. */
  function ended(runId: number): Promise<Run> {
    return waitFor(
      'the run to end',
      async () => {
        await supervisor.tick();
        const r = await store.getRun(runId);
        return r.state === 'ended' ? r : undefined;
      },
      10_000,
    );
  }

  it('freezes, thaws and finally kills a worker; the run ends host_lost, not as a crash', async () => {
    await store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
    const task = await store.createTask({ title: 'sleep', assignee: 'sleeper' }, ana);
    const claim = await h.claimOne();
    await supervisor.start(claim, {});
    const runDir = join(dir, 'runs', String(claim.run.id));
    const worker = await waitFor('the worker pid', () => writtenPid(join(runDir, 'worker.pid')));
    // Running (or sleeping): not stopped.
    await waitFor('the worker to be asleep in its work', () => stateOf(worker) === 'S', 10_000);

    // The deadline passes (serve stopped renewing): frozen.
    writeLiveFile(runDir, { freezeAtCs: uptimeCs() - 1, killAtCs: uptimeCs() + 60_000 });
    await waitFor('the worker to be frozen', () => stateOf(worker) === 'T', 10_000);
    // The shim itself is not frozen: it still records the exit.
    const shim = Number(readFileSync(join(runDir, 'shim.pid'), 'utf8').trim());
    expect(stateOf(shim)).not.toBe('T');

    // Renewed while the run is still this host's: thawed.
    deadlines = { freezeAtCs: uptimeCs() + 60_000, killAtCs: uptimeCs() + 120_000 };
    supervisor.refreshLiveness();
    await waitFor('the worker to be thawed', () => stateOf(worker) === 'S', 10_000);
    // Each is a line in the run's folder, on the uptime clock.
    const freezes = readFileSync(join(runDir, 'freezes'), 'utf8').trim().split('\n');
    expect(freezes.map((l) => l.split(' ')[0])).toEqual(['frozen', 'thawed']);
    const [, frozenAt] = (freezes[0] ?? '').split(' ').map(Number);
    expect(frozenAt).toBeLessThanOrEqual(uptimeCs());

    // Frozen past KILL_AT: killed by the watcher, booked as the host's loss.
    writeLiveFile(runDir, KILL_NOW);
    await waitFor(
      'the worker to be killed',
      () => stateOf(worker) === null || stateOf(worker) === 'Z',
      10_000,
    );
    expect(existsSync(join(runDir, LEASE_KILLED))).toBe(true);
    const run = await ended(claim.run.id);
    expect(run.outcome).toBe('host_lost');
    expect(run.reason?.rule).toBe('host_lease_lapsed');
    const t = await store.getTask(task.id);
    expect(t.counters).toMatchObject({ failures: 0, host_losses: 1 });
  });

  it('checks which runs are lost after a lease gap without waiting on any run’s ending', async () => {
    await store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
    await store.createTask({ title: 'sleep', assignee: 'sleeper' }, ana);
    const claim = await h.claimOne();
    await supervisor.start(claim, {});
    const live = supervisor.live.get(claim.run.id);
    if (!live) throw new Error('the run is not watched');
    // The run's queue is held, as by an ending gathering its evidence in a slow repository.
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    live.queue = live.queue.then(() => gate);
    // The host's renewal waits on this check: it must not wait for the held queue.
    await supervisor.dropLost();
    expect(supervisor.isRunning(claim.run.id)).toBe(true);
    open();
  });

  /**
   * A worker that starts a command in a session of its own, as an agent runs its tool commands,
   * out of reach of a signal to the worker's group: the watcher freezes, thaws and kills it too.
   */
  async function freezesEscaped(inCgroup: boolean): Promise<void> {
    const escape = 'echo $$ > "$WARDEN_RUN_DIR/escaped.pid"; exec sleep 60';
    await store.addProfile(
      'agent',
      { argv: ['sh', '-c', `setsid sh -c '${escape}' & exec sleep 60`] },
      ana,
    );
    await store.createTask({ title: 'agent', assignee: 'agent' }, ana);
    const claim = await h.claimOne();
    await supervisor.start(claim, {});
    const runDir = join(dir, 'runs', String(claim.run.id));
    expect(readCgroupFile(runDir) !== null).toBe(inCgroup);
    const worker = await waitFor('the worker pid', () => writtenPid(join(runDir, 'worker.pid')));
    const escaped = await waitFor('the escaped pid', () => writtenPid(join(runDir, 'escaped.pid')));
    await waitFor('both asleep', () => stateOf(worker) === 'S' && stateOf(escaped) === 'S');
    expect(groupOf(escaped)).not.toBe(groupOf(worker));

    writeLiveFile(runDir, { freezeAtCs: uptimeCs() - 1, killAtCs: uptimeCs() + 60_000 });
    await waitFor('both frozen', () => stateOf(worker) === 'T' && stateOf(escaped) === 'T', 10_000);

    deadlines = { freezeAtCs: uptimeCs() + 60_000, killAtCs: uptimeCs() + 120_000 };
    supervisor.refreshLiveness();
    await waitFor('both thawed', () => stateOf(worker) === 'S' && stateOf(escaped) === 'S', 10_000);

    writeLiveFile(runDir, KILL_NOW);
    const gone = (pid: number): boolean => stateOf(pid) === null || stateOf(pid) === 'Z';
    await waitFor('both killed', () => gone(worker) && gone(escaped), 10_000);
    expect((await ended(claim.run.id)).outcome).toBe('host_lost');
  }

  it.skipIf(!CGROUPS)(
    'with a cgroup, freezes, thaws and kills what the worker started in a session of its own too',
    () => freezesEscaped(true),
  );

  it('without a cgroup, finds what the worker started in a session of its own by its token', async () => {
    await h.cleanup();
    h = await supervisorHome({ containment: 'environ', freeze: freezeSource() });
    ({ dir, store, supervisor } = h);
    await freezesEscaped(false);
  });

  it('starts no command past FREEZE_AT (serve stalled before the spawn): it waits, frozen, for the deadlines to move', async () => {
    // Written before a stall: the run may have been reaped and started elsewhere since.
    const argv = ['sh', '-c', 'echo > started; exec sleep 30'];
    const { runDir, spawned } = spawnWatched(dir, 'late', argv, -1);
    const worker = await waitFor('the worker pid', () => writtenPid(join(runDir, 'worker.pid')));
    // The watcher has looked: frozen, and the command never ran.
    await waitFor('the worker to be frozen', () => stateOf(worker) === 'T', 10_000);
    expect(existsSync(join(runDir, 'started'))).toBe(false);

    // Renewed while the run is still this host's: thawed, and only now started.
    writeLiveFile(runDir, { freezeAtCs: uptimeCs() + 60_000, killAtCs: uptimeCs() + 120_000 });
    await waitFor('the command to start', () => existsSync(join(runDir, 'started')), 10_000);
    writeLiveFile(runDir, KILL_NOW);
    await waitFor('the worker to be killed', () => !groupAlive(spawned.pid), 10_000);
  });

  it('keeps watching what a worker left behind in its group after it exited', async () => {
    const argv = ['sh', '-c', 'sleep 30 & echo $! > left.pid'];
    const { runDir, spawned } = spawnWatched(dir, 'left', argv, 60_000);
    await waitFor('the worker to exit', () => existsSync(join(runDir, 'exit')), 10_000);
    const left = Number(readFileSync(join(runDir, 'left.pid'), 'utf8').trim());
    // Just forked, it may still be running its exec on a loaded machine: wait for its sleep.
    await waitFor('the leftover to sleep', () => stateOf(left) === 'S', 10_000);
    expect(stateOf(left)).toBe('S');
    writeLiveFile(runDir, { freezeAtCs: uptimeCs() - 1, killAtCs: uptimeCs() + 60_000 });
    await waitFor('the leftover to be frozen', () => stateOf(left) === 'T', 10_000);
    writeLiveFile(runDir, KILL_NOW);
    await waitFor('the leftover to be killed', () => !groupAlive(spawned.pid), 10_000);
  });

  it('after a sleep past both deadlines, freezes first and kills only once frozen for their span', async () => {
    const argv = ['sh', '-c', 'exec sleep 60'];
    const { runDir, spawned } = spawnWatched(dir, 'slept', argv, 60_000);
    const worker = await waitFor('the worker pid', () => writtenPid(join(runDir, 'worker.pid')));
    await waitFor('the worker to sleep', () => stateOf(worker) === 'S', 10_000);
    const gone = (): boolean => stateOf(worker) === null || stateOf(worker) === 'Z';

    // The machine slept past both: frozen at the first look, not killed, for the 10 s span.
    let up = uptimeCs();
    writeLiveFile(runDir, { freezeAtCs: up - 2000, killAtCs: up - 1000 });
    await waitFor('the worker to be frozen', () => stateOf(worker) === 'T', 10_000);
    expect(existsSync(join(runDir, LEASE_KILLED))).toBe(false);
    // serve, awake again, renews while the run is still its own: thawed.
    writeLiveFile(runDir, { freezeAtCs: uptimeCs() + 60_000, killAtCs: uptimeCs() + 120_000 });
    await waitFor('the worker to be thawed', () => stateOf(worker) === 'S', 10_000);
    expect(existsSync(join(runDir, LEASE_KILLED))).toBe(false);

    // No renewal this time: killed once frozen for the 1 s span.
    up = uptimeCs();
    writeLiveFile(runDir, { freezeAtCs: up - 300, killAtCs: up - 200 });
    await waitFor('the worker to be killed', gone, 10_000);
    const frozen = readFileSync(join(runDir, 'freezes'), 'utf8').trim().split('\n').at(-1) ?? '';
    const killedAt = Number(readFileSync(join(runDir, LEASE_KILLED), 'utf8').trim());
    expect(frozen.split(' ')[0]).toBe('frozen');
    expect(killedAt - Number(frozen.split(' ')[1])).toBeGreaterThanOrEqual(100);
    await waitFor('the shim to exit', () => !groupAlive(spawned.pid), 10_000);
  });
});
