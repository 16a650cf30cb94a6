/**
 * A claim whose git worktree is being made starts aside from the dispatcher's pass (a real
 * repository whose checkout a smudge filter holds, as Git LFS can): the pass starts the other
 * claims, and stopping the dispatcher kills that git and waits for its run to end, even when a
 * pass under way fails meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { pidAlive } from '../../src/os/procfs.js';
import type { Store } from '../../src/store/store.js';
import { slowCheckoutRepo } from '../helpers/git.js';
import { waitFor, writtenPid } from '../helpers/host.js';
import { homeDispatcher, supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

let home: SupervisorHome | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await home?.cleanup();
  home = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ana = person('ana');

it('starts the other claims while a worktree is made, and a stop waits for its run to end though a pass fails', async () => {
  home = await supervisorHome();
  const h = home;
  const files = mkdtempSync(join(tmpdir(), 'warden-aside-'));
  dirs.push(files);
  const slow = slowCheckoutRepo(files);
  dirs.push(slow.repo);
  await h.store.addProfile(
    'coder',
    { argv: ['sleep', '60'], worktree: { repo: slow.repo, base: null } },
    ana,
  );
  await h.store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
  const coding = await h.store.createTask({ title: 'check out', assignee: 'coder' }, ana);
  const sleeping = await h.store.createTask({ title: 'sleep', assignee: 'sleeper' }, ana);

  // The second claim is held until the test lets it fail.
  let claims = 0;
  let failSecond: (err: Error) => void = () => undefined;
  const store = new Proxy(h.store, {
    get(target, name, receiver) {
      if (name === 'claimRuns')
        return (...args: Parameters<Store['claimRuns']>) =>
          ++claims === 1
            ? target.claimRuns(...args)
            : new Promise((_, reject) => (failSecond = reject));
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
  const dispatcher = homeDispatcher(h, store, { worktreeRoot: join(h.dir, 'worktrees') });

  // The pass is done with the worktree's checkout still held: the other task's worker runs.
  await dispatcher.pass();
  const filter = await waitFor('the checkout to reach the filter', () => writtenPid(slow.started));
  const [sleepRun] = await h.store.listRuns(sleeping.id);
  expect(h.supervisor.isRunning(sleepRun?.id ?? 0)).toBe(true);
  const [codeRun] = await h.store.listRuns(coding.id);
  expect(codeRun?.state).toBe('running');
  expect(h.supervisor.isRunning(codeRun?.id ?? 0)).toBe(false);

  // A pass under way when the stop comes fails; the stop still waits for the worktree's run.
  const failing = dispatcher.pass().catch((err: unknown) => err);
  await waitFor('the second claim', () => claims === 2);
  const stopped = dispatcher.stop();
  failSecond(new Error('the store went away'));
  expect(await failing).toMatchObject({ message: 'the store went away' });
  await stopped;
  expect(pidAlive(filter)).toBe(false);
  const [ended] = await h.store.listRuns(coding.id);
  expect(ended).toMatchObject({ state: 'ended', outcome: 'host_lost' });
  expect(ended?.reason?.message).toBe('serve stopped before the worker was started');
  // No pass starts anything once stopped.
  await dispatcher.pass();
  expect(claims).toBe(2);
}, 60_000);
