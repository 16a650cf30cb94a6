/**
 * A supervisor on a real SQLite store and a manual clock, with real worker processes, for the
 * supervisor tests; cleaning up kills every run's process group that is still alive.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import type { EndResult } from '../../src/core/ending.js';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import type { Claim } from '../../src/store/run-types.js';
import type { Store } from '../../src/store/store.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';
import { groupAlive, signalGroup } from '../../src/os/procfs.js';
import { sendAway } from '../../src/supervisor/standby.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import type { SupervisorOptions } from '../../src/supervisor/supervisor.js';
import { endRunCgroups } from './cgroups.js';
import { waitFor } from './host.js';

export interface SupervisorHome {
  dir: string;
  store: SqliteStore;
  clock: ManualClock;
  supervisor: Supervisor;
  /** Claims the one ready task's run for host `h1` (workspaces under `ws/`). */
  claimOne(): Promise<Claim>;
  /**
   * With processes that refuse to die: starts one worker (`sleep 60`, `kill_grace` 1s), has
   * ana stop it, and moves the clock through the grace and the 2 s SIGKILL is given, so the
   * ending is held; `sent(signal)` says whether the fake processes were sent that signal.
   */
  stopUntilHeld(
    sent: (signal: 'SIGTERM' | 'SIGKILL') => boolean,
  ): Promise<{ taskId: number; claim: Claim; result: EndResult | null }>;
  /**
   * A restart of serve: a new supervisor of host `h1` over the same store, clock and runs, as
   * `serve` makes at its start (it adopts nothing until `adoptAll`). `supervisor` is then it.
   */
  restart(): Promise<Supervisor>;
  cleanup(): Promise<void>;
}

/** Closes a supervisor; its waiting standby is seen to exit, so no later test counts it. */
async function closeSupervisor(supervisor: Supervisor): Promise<void> {
  const standby = supervisor.standbys.take();
  supervisor.close();
  if (standby !== null) {
    const exited = once(standby.child, 'exit');
    sendAway(standby);
    if (standby.child.exitCode === null && standby.child.signalCode === null) await exited;
  }
}

/** A fresh folder with a store (board `default`) and a supervisor of host `h1` over it. */
export async function supervisorHome(
  options: Partial<SupervisorOptions> = {},
): Promise<SupervisorHome> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-sup-'));
  const clock = new ManualClock(Date.now());
  const store = await openSqliteStore(join(dir, 'warden.db'), clock, { create: true });
  await store.addBoard('default', person('ana'));
  const newSupervisor = (): Supervisor =>
    new Supervisor({
      store,
      host: 'h1',
      clock,
      config: {},
      runsDir: join(dir, 'runs'),
      baseEnv: () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin' }),
      // Each tick waits for all its looks: the tests assert right after one.
      tickWaitMs: Infinity,
      ...options,
    });
  const claimOne = async (): Promise<Claim> => {
    const [claim] = await store.claimRuns(
      { host: 'h1', maxWorkers: 4, limit: 4, mode: 'spawned' },
      join(dir, 'ws'),
    );
    if (!claim) throw new Error('nothing claimed');
    return claim;
  };
  const home: SupervisorHome = {
    dir,
    store,
    clock,
    supervisor: newSupervisor(),
    claimOne,
    async restart() {
      await closeSupervisor(home.supervisor);
      home.supervisor = newSupervisor();
      return home.supervisor;
    },
    async stopUntilHeld(sent) {
      const ana = person('ana');
      await store.addProfile(
        'sleeper',
        { argv: ['sleep', '60'], policy: { kill_grace: 1000 } },
        ana,
      );
      const task = await store.createTask({ title: 'sleep', assignee: 'sleeper' }, ana);
      const claim = await claimOne();
      await home.supervisor.start(claim, {});
      const stopped = home.supervisor.stop(task.id, 'ana', {});
      await waitFor('SIGTERM', () => sent('SIGTERM'));
      clock.advance(1001);
      await waitFor('SIGKILL after the grace', () => sent('SIGKILL'));
      clock.advance(2001);
      return { taskId: task.id, claim, result: await stopped };
    },
    async cleanup() {
      for (const t of await store.listTasks({ include_archived: true })) {
        for (const r of await store.listRuns(t.id))
          if (r.process && groupAlive(r.process.pid)) signalGroup(r.process.pid, 'SIGKILL');
      }
      await closeSupervisor(home.supervisor);
      await endRunCgroups(join(dir, 'runs'));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return home;
}

/** A dispatcher of host `h1` over `store` (the home's, or a wrapper of it), up to 4 workers. */
export function homeDispatcher(
  h: SupervisorHome,
  store: Store,
  roots: { worktreeRoot?: string } = {},
): Dispatcher {
  return new Dispatcher({
    store,
    supervisor: h.supervisor,
    host: 'h1',
    maxWorkers: () => 4,
    workspaceRoot: join(h.dir, 'ws'),
    ...roots,
    wardenEnv: () => ({}),
  });
}
