/**
 * A tick reads the open runs, then works through them: a run this host closes meanwhile (its
 * worker exited and its ending finished between the read and the loop) is in that stale list.
 * It was taken for a run another process of this host had started and adopted again, then
 * closed a second time: under load a trial's serve logged "run 99 ... ended completed" twice,
 * and `/metrics` counted the detection twice (4 crashed detections for 3 crashed runs).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { Run } from '../../src/core/run.js';
import { hashToken } from '../../src/os/token.js';
import { waitFor } from '../helpers/host.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';

let home: SupervisorHome | null = null;

afterEach(async () => {
  await home?.cleanup();
  home = null;
});

describe('a run closed while a tick holds a stale list of open runs', () => {
  it('is closed once: not adopted again from that list', async () => {
    const closed: number[] = [];
    home = await supervisorHome({ onClosed: (c) => closed.push(c.runId) });
    const { store, supervisor } = home;
    const ana = person('ana');
    await store.addProfile('quick', { argv: ['sh', '-c', 'sleep 0.3'] }, ana);
    await store.createTask({ title: 'quick', assignee: 'quick' }, ana);
    const claim = await home.claimOne();
    await supervisor.start(claim, {});
    // Its worker reports: the run is `ending` until its process exits and is closed.
    await store.workerTerminal(
      hashToken(claim.token),
      { op: 'complete', summary: 'done' },
      { host: 'h1', config: {} },
    );

    // The tick's read of the open runs answers what it read only after the run has closed.
    const read = store.openRuns.bind(store);
    let stale: Run[] | null = null;
    store.openRuns = async (host) => {
      const runs = await read(host);
      if (stale === null) {
        stale = runs;
        await waitFor('the run to close while the tick waits', () => closed.length > 0, 20_000);
      }
      return runs;
    };
    await supervisor.tick();
    // Assigned in the stand-in read above, which TypeScript's narrowing does not follow.
    const read1 = stale as Run[] | null;
    expect(read1?.map((r) => r.id)).toEqual([claim.run.id]);
    await supervisor.tick();
    await supervisor.tick();
    expect(closed).toEqual([claim.run.id]);
    expect(supervisor.size).toBe(0);
    expect((await store.getRun(claim.run.id)).outcome).toBe('completed');
  });
});
