import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { waitFor } from '../helpers/host.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

let h: SupervisorHome;
let links: string;
afterEach(async () => {
  await h.cleanup();
  rmSync(links, { recursive: true, force: true });
});

/**
 * A run is another home's only when its log is in another folder, not when this home is
 * reached by another path (a symlink, a bind mount): serve restarted with WARDEN_HOME spelt
 * otherwise adopts its runs as before.
 */
it('adopts a run whose log path names this home by another path', async () => {
  h = await supervisorHome();
  await h.store.addProfile('sleeper', { argv: ['sleep', '60'] }, person('ana'));
  const task = await h.store.createTask({ title: 'sleep', assignee: 'sleeper' }, person('ana'));
  const claim = await h.claimOne();
  await h.supervisor.start(claim, {});
  await waitFor('the worker to start', () =>
    existsSync(join(h.dir, 'runs', String(claim.run.id), 'worker.pid')),
  );
  const before = await h.restart();
  before.close();
  links = mkdtempSync(join(tmpdir(), 'warden-link-'));
  symlinkSync(h.dir, join(links, 'home'));
  const other = new Supervisor({
    store: h.store,
    host: 'h1',
    clock: h.clock,
    config: {},
    runsDir: join(links, 'home', 'runs'),
    baseEnv: () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin' }),
    tickWaitMs: Infinity,
  });
  try {
    await other.adoptAll();
    expect(await h.store.getRun(claim.run.id)).toMatchObject({ state: 'running' });
    expect(await h.store.listEvents({ task_id: task.id, kinds: ['adopted'] })).toHaveLength(1);
    const ended = await other.stop(task.id, 'ana', { now: true });
    expect(ended?.verified_gone).toBe(true);
  } finally {
    other.close();
  }
});
