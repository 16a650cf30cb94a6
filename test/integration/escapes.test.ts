import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupMembers } from '../../src/os/cgroup.js';
import { pidAlive } from '../../src/os/procfs.js';
import { readCgroupFile } from '../../src/supervisor/spawn.js';
import { cgroupsHere } from '../helpers/cgroups.js';
import { TestHome, fixture, waitFor } from '../helpers/host.js';

/**
 * Issue 11, defect 1, reproduced: a worker that starts `setsid sh -c '...' &` and a double fork
 * used to leave processes alive minutes after its task read `done`. Every process a run starts
 * ends with it (SPEC §3), and one found outside its process group is named on the run's
 * reason and in a `processes_escaped` event.
 */

const CGROUPS = cgroupsHere();

let home: TestHome;
let pidsFile: string;

/** Every process the fixture left behind, by how it left: `setsid`, `orphan`, `clean`. */
function leftBehind(): Map<string, number> | undefined {
  if (!existsSync(pidsFile)) return undefined;
  const lines = readFileSync(pidsFile, 'utf8').trim().split('\n');
  return new Map(lines.map((l) => [l.split(' ')[0] ?? '', Number(l.split(' ')[1])]));
}

afterEach(async () => {
  // Whatever happened in the test, nothing it started outlives it.
  for (const file of [pidsFile, `${pidsFile}.part`]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
      try {
        process.kill(Number(line.split(' ')[1]), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await home.cleanup();
});

for (const containment of ['auto', 'environ'] as const) {
  // Only a cgroup finds a process that cleared its environment as well.
  const byCgroup = containment === 'auto' && CGROUPS;
  const args = byCgroup ? ['clean-env'] : [];
  const escapers = byCgroup ? ['setsid', 'clean'] : ['setsid'];

  describe(`WARDEN_CONTAINMENT=${containment}${containment === 'auto' ? (CGROUPS ? ' (a cgroup per run)' : ' (no cgroup here: the environment)') : ''}`, () => {
    async function start(mode: 'complete' | 'wait'): Promise<number> {
      home = await new TestHome().init();
      pidsFile = join(home.root, 'pids');
      await home.profile('escaper', fixture('setsid-escape.sh', mode, ...args));
      return home.task('leave processes behind', ['--assignee', 'escaper']);
    }

    /** The run ended every process; the reason, the event and `warden runs` name the escaped. */
    async function checkEnded(id: number, pids: Map<string, number>): Promise<void> {
      for (const [how, pid] of pids) expect(pidAlive(pid), `${how} ${pid}`).toBe(false);
      const [run] = await home.runs(id);
      const escaped = escapers.map((how) => pids.get(how));
      // The orphan of the double fork stayed in the group, and went with it.
      expect(run?.reason?.phases?.escaped?.map((p) => p.pid).sort()).toEqual(escaped.sort());
      expect(run?.reason?.phases?.escaped?.[0]?.command).toMatch(/sleep 600/);
      const events = (await home.events(id)).filter((e) => e.kind === 'processes_escaped');
      expect(events).toHaveLength(1);
      expect((events[0]?.payload.escaped as { pid: number }[]).map((p) => p.pid).sort()).toEqual(
        escaped.sort(),
      );
      const words = await home.ok(['runs', String(id)]);
      expect(words).toMatch(
        new RegExp(
          `${escaped.length} process(es)? had left the process group .*pid \\d+ sleep 600.*; all gone at`,
        ),
      );
      // The run's cgroup, where it had one, is gone with it.
      const cgroup = readCgroupFile(join(home.root, 'runs', String(run?.id)));
      expect(cgroup !== null).toBe(byCgroup);
      if (cgroup !== null) expect(cgroupMembers(cgroup)).toBeNull();
    }

    it('a task that completes while the processes it left behind live: done only once they are gone', async () => {
      const id = await start('complete');
      await home.serve([], { PIDS_FILE: pidsFile, WARDEN_CONTAINMENT: containment });
      await home.waitStatus(id, 'done');
      // Written before the worker exited.
      const pids = await waitFor('the processes left behind', leftBehind, 0);
      expect(pids.size).toBe(escapers.length + 1);
      await checkEnded(id, pids);
      const [run] = await home.runs(id);
      expect(run).toMatchObject({ outcome: 'completed', exit_code: 0 });
    });

    it('a stopped task: its processes outside the group are verified gone too', async () => {
      const id = await start('wait');
      await home.serve([], { PIDS_FILE: pidsFile, WARDEN_CONTAINMENT: containment });
      const pids = await waitFor('the processes left behind', leftBehind);
      const stop = await home.cli(['stop', String(id), '--json']);
      expect(stop.code).toBe(0);
      expect(JSON.parse(stop.stdout)).toMatchObject({ outcome: 'stopped', verified_gone: true });
      await checkEnded(id, pids);
    });

    it('a serve that restarted finds them through the run’s folder and the store', async () => {
      const id = await start('wait');
      const env = { PIDS_FILE: pidsFile, WARDEN_CONTAINMENT: containment };
      const first = await home.serve([], env);
      const pids = await waitFor('the processes left behind', leftBehind);
      first.proc.kill('SIGKILL');
      await first.exited;
      await home.serve([], env);
      await home.waitEvent('adopted', id);
      const stop = await home.cli(['stop', String(id), '--json']);
      expect(JSON.parse(stop.stdout)).toMatchObject({ outcome: 'stopped', verified_gone: true });
      await checkEnded(id, pids);
    });
  });
}
