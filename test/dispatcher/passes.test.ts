/**
 * Which wake-ups cost a look at the store (issue #16): a pull worker's run that ends asks for a
 * dispatcher pass, which can start nothing while no spawned profile exists; any other wake-up
 * always looks, and a tick's read of the profiles never outlives a wake-up that came during it.
 * Another process's commit (`remote`) looks only if a spawned profile exists once it is read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { Profile } from '../../src/core/profile.js';
import { join } from 'node:path';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import type { Store } from '../../src/store/store.js';
import { waitFor } from '../helpers/host.js';
import { homeDispatcher, supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

let home: SupervisorHome | null = null;

afterEach(async () => {
  await home?.cleanup();
  home = null;
});

const ana = person('ana');

/** A dispatcher over the home's real store, counting its claims; `held` delays profile reads. */
function counted(
  h: SupervisorHome,
  held?: Promise<void>,
): { dispatcher: Dispatcher; looks: () => number; reads: () => number } {
  let looks = 0;
  let reads = 0;
  const store = new Proxy(h.store, {
    get(target, name, receiver) {
      if (name === 'claimRuns')
        return (...args: Parameters<Store['claimRuns']>) => {
          looks++;
          return target.claimRuns(...args);
        };
      if (name === 'listProfiles')
        return async (): Promise<Profile[]> => {
          reads++;
          const profiles = await target.listProfiles();
          await held;
          return profiles;
        };
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
  const dispatcher = homeDispatcher(h, store);
  return { dispatcher, looks: () => looks, reads: () => reads };
}

/** A spawned profile, added as another host would, and a task of its to start. */
async function addSleeper(h: SupervisorHome): Promise<{ id: number }> {
  await h.store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
  return h.store.createTask({ title: 'sleep', assignee: 'sleeper' }, ana);
}

/** The task's run was claimed and its worker started by this host. */
async function expectStarted(h: SupervisorHome, taskId: number): Promise<void> {
  const [run] = await h.store.listRuns(taskId);
  expect(run?.state).toBe('running');
  expect(h.supervisor.isRunning(run?.id ?? 0)).toBe(true);
}

describe('dispatcher passes', () => {
  it('skips the passes pull endings ask for while no spawned profile exists', async () => {
    home = await supervisorHome();
    await home.store.addProfile('agent', { mode: 'pull' }, ana);
    await home.store.createTask({ title: 'pulled', assignee: 'agent' }, ana);
    const { dispatcher, looks } = counted(home);

    await dispatcher.pass('tick');
    await dispatcher.pass('pull-ended');
    expect(looks()).toBe(0);

    // Anything else looks, and leaves it unknown whether a spawned profile exists.
    await dispatcher.pass('change');
    expect(looks()).toBe(1);
    await dispatcher.pass('pull-ended');
    expect(looks()).toBe(2);

    // The next tick reads the profiles again.
    await dispatcher.pass('tick');
    await dispatcher.pass('pull-ended');
    expect(looks()).toBe(2);
  });

  it('looks at every pull ending once a spawned profile exists, and starts its work', async () => {
    home = await supervisorHome();
    await home.store.addProfile('agent', { mode: 'pull' }, ana);
    const { dispatcher, looks } = counted(home);
    await dispatcher.pass('tick');

    const task = await addSleeper(home);
    await dispatcher.pass('tick');
    expect(looks()).toBe(1);
    await dispatcher.pass('pull-ended');
    expect(looks()).toBe(2);
    await expectStarted(home, task.id);
  });

  it('does not trust a tick’s read of the profiles that a wake-up overtook', async () => {
    home = await supervisorHome();
    await home.store.addProfile('agent', { mode: 'pull' }, ana);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { dispatcher, looks } = counted(home, held);

    // The tick reads no spawned profile; one is added, and its wake-up comes, before it answers.
    const tick = dispatcher.pass('tick');
    await home.store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
    await dispatcher.pass('change');
    release();
    await tick;
    const seen = looks();

    await dispatcher.pass('pull-ended');
    expect(looks()).toBe(seen + 1);
  });

  it("another host's commits that change no profile cost nothing while no spawned profile exists", async () => {
    home = await supervisorHome();
    await home.store.addProfile('agent', { mode: 'pull' }, ana);
    await home.store.createTask({ title: 'pulled', assignee: 'agent' }, ana);
    const { dispatcher, looks, reads } = counted(home);

    // Not known yet: the first reads the profiles; the rest, and those after a tick, nothing.
    await dispatcher.pass('remote');
    await dispatcher.pass('remote');
    await dispatcher.pass('tick');
    await dispatcher.pass('remote');
    expect(looks()).toBe(0);
    expect(reads()).toBe(2);
  });

  it('a commit that may have changed a profile reads them, and claims once a spawned one exists', async () => {
    home = await supervisorHome();
    await home.store.addProfile('agent', { mode: 'pull' }, ana);
    const { dispatcher, looks, reads } = counted(home);
    await dispatcher.pass('remote-profiles');
    expect(looks()).toBe(0);
    expect(reads()).toBe(1);

    // Another host adds a spawned profile and its work.
    const task = await addSleeper(home);
    await dispatcher.pass('remote-profiles');
    expect(looks()).toBe(1);
    expect(reads()).toBe(2);
    await expectStarted(home, task.id);

    // Known to exist now: every later commit claims, without reading the profiles, and a
    // local change leaves that known.
    await dispatcher.pass('remote');
    await dispatcher.pass('remote-profiles');
    await dispatcher.pass('change');
    await dispatcher.pass('remote-profiles');
    expect(looks()).toBe(5);
    expect(reads()).toBe(2);
  });

  it('a local change still claims at once, without reading the profiles first', async () => {
    home = await supervisorHome();
    await home.store.addProfile('agent', { mode: 'pull' }, ana);
    const { dispatcher, looks, reads } = counted(home);
    await dispatcher.pass('change');
    expect(looks()).toBe(1);
    expect(reads()).toBe(0);
  });

  it('says once when a pass has been under way too long, and when it ends', async () => {
    home = await supervisorHome();
    await addSleeper(home);
    let release = (): void => undefined;
    const held = new Promise<void>((r) => (release = r));
    const lines: string[] = [];
    // A store whose claim does not answer until released: the pass under way cannot end.
    const store = new Proxy(home.store, {
      get(target, name, receiver) {
        if (name === 'claimRuns')
          return async (...args: Parameters<Store['claimRuns']>) => {
            await held;
            return target.claimRuns(...args);
          };
        return Reflect.get(target, name, receiver) as unknown;
      },
    });
    const dispatcher = new Dispatcher({
      store,
      supervisor: home.supervisor,
      host: 'h1',
      maxWorkers: () => 4,
      workspaceRoot: join(home.dir, 'ws'),
      wardenEnv: () => ({}),
      log: (line) => {
        if (line.startsWith('dispatch:')) lines.push(line);
      },
      slowPassMs: 200,
    });
    const first = dispatcher.pass('change');
    await waitFor('the slow pass to be said', async () => {
      await Promise.race([dispatcher.pass('change'), new Promise((r) => setTimeout(r, 50))]);
      return lines.length > 0 ? true : undefined;
    });
    // Said once, however many wake-ups find it still under way.
    for (let i = 0; i < 3; i++) void dispatcher.pass('change');
    expect(lines).toEqual([
      expect.stringMatching(
        /^dispatch: a pass has been under way for \d+ms; no run starts on this host until it ends/,
      ) as string,
    ]);
    release();
    await first;
    await dispatcher.settled();
    expect(lines[1]).toMatch(/^dispatch: the slow pass ended after /);
    expect(lines).toHaveLength(2);
  });
});
