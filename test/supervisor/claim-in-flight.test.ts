/**
 * A tick that reads a run this serve has just claimed, before the claim's answer is back, must
 * not take it for a run whose `serve` died before starting it (P3). It once closed such a run
 * `host_lost` and the dispatcher started its worker anyway, for a run already ended.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import type { Claim } from '../../src/store/run-types.js';
import type { Store } from '../../src/store/store.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

let home: SupervisorHome | null = null;

afterEach(async () => {
  await home?.cleanup();
  home = null;
});

describe('a claim under way', () => {
  it('keeps the tick from closing its runs before they are reserved', async () => {
    home = await supervisorHome();
    const { store, supervisor, dir } = home;
    const ana = person('ana');
    await store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
    const task = await store.createTask({ title: 'sleep', assignee: 'sleeper' }, ana);

    // The store's answer to the claim is held after the claim has committed.
    let committed!: () => void;
    const claimCommitted = new Promise<void>((r) => (committed = r));
    let release!: () => void;
    const answer = new Promise<void>((r) => (release = r));
    const held = new Proxy(store, {
      get(target, name, receiver) {
        if (name !== 'claimRuns') return Reflect.get(target, name, receiver) as unknown;
        return async (...args: Parameters<Store['claimRuns']>): Promise<Claim[]> => {
          const claims = await target.claimRuns(...args);
          committed();
          await answer;
          return claims;
        };
      },
    });
    const dispatcher = new Dispatcher({
      store: held,
      supervisor,
      host: 'h1',
      maxWorkers: () => 4,
      workspaceRoot: join(dir, 'ws'),
      wardenEnv: () => ({}),
    });

    const pass = dispatcher.pass();
    await claimCommitted;
    const [claimed] = await store.listRuns(task.id);
    expect(claimed?.state).toBe('running');
    expect(claimed?.process).toBeNull();

    await supervisor.tick();
    const [afterTick] = await store.listRuns(task.id);
    expect(afterTick?.outcome ?? null).toBeNull();
    expect(afterTick?.state).toBe('running');

    release();
    await pass;
    const [started] = await store.listRuns(task.id);
    expect(started?.outcome ?? null).toBeNull();
    expect(started?.process?.pid).toBeGreaterThan(0);
    expect(supervisor.isRunning(started?.id ?? 0)).toBe(true);
  });
});
