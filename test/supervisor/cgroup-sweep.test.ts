/*
 * Run cgroups that no run uses (src/os/cgroup.ts `sweepRunCgroups`, the supervisor's
 * `sweepCgroups`): a `serve` killed between making a run's cgroup and naming it in the run's
 * folder, or the runs another host reaped while this one was down, leave empty cgroups under the
 * home's; they are removed once old enough that no start can be joining them.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  rmdirSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { SUPERVISOR_DEFAULTS } from '../../src/core/defaults.js';
import {
  cgroupMembers,
  cgroupParent,
  killCgroup,
  makeRunCgroup,
  sweepRunCgroups,
} from '../../src/os/cgroup.js';
import { readCgroupFile } from '../../src/supervisor/spawn.js';
import { cgroupsHere } from '../helpers/cgroups.js';
import { waitFor } from '../helpers/host.js';
import { supervisorHome } from '../helpers/supervisor.js';

const CGROUPS = cgroupsHere();
const MINUTE = 60_000;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A home's cgroup folder, made, and removed after the test with whatever is left in it. */
function cgroupHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-sweep-'));
  const parent = cgroupParent(dir);
  if (parent === null) throw new Error('no cgroup parent here');
  mkdirSync(parent, { recursive: true });
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
    if (existsSync(parent)) rmdirSync(parent);
  });
  return parent;
}

/** A run cgroup under `parent`, made `ageMs` ago as far as its folder's time says. */
function runCgroup(parent: string, ageMs = 0): string {
  const made = makeRunCgroup(parent);
  if (made === null) throw new Error('no cgroup could be made');
  cleanups.push(() => {
    if (existsSync(made)) rmdirSync(made);
  });
  backdate(made, ageMs);
  return made;
}

function backdate(dir: string, ageMs: number): void {
  const at = (Date.now() - ageMs) / 1000;
  utimesSync(dir, at, at);
}

/** A `sleep` that has joined `cgroup`; killed with the cgroup's other processes after the test. */
async function sleeper(cgroup: string): Promise<ChildProcess> {
  const child = spawn('/bin/sh', ['-c', `echo $$ > '${cgroup}/cgroup.procs' && exec sleep 60`], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanups.push(async () => {
    killCgroup(cgroup);
    child.kill('SIGKILL');
    await exited;
    await waitFor('its cgroup empty', () => (cgroupMembers(cgroup)?.length ?? 0) === 0);
  });
  await waitFor('the sleep in its cgroup', () =>
    (cgroupMembers(cgroup) ?? []).includes(child.pid ?? -1),
  );
  return child;
}

describe.skipIf(!CGROUPS)('sweepRunCgroups', () => {
  it('removes empty run cgroups that are not kept and old enough, and leaves every other', async () => {
    const parent = cgroupHome();
    const stray = runCgroup(parent, 2 * MINUTE);
    const kept = runCgroup(parent, 2 * MINUTE);
    const young = runCgroup(parent, 10_000);
    const busy = runCgroup(parent, 2 * MINUTE);
    const foreign = join(parent, 'not-a-run');
    mkdirSync(foreign);
    cleanups.push(() => rmdirSync(foreign));
    backdate(foreign, 2 * MINUTE);
    const child = await sleeper(busy);
    // Joining is no new folder: its time stays what it was.
    backdate(busy, 2 * MINUTE);

    const sweep = sweepRunCgroups(parent, new Set([kept]), MINUTE);

    expect(sweep.removed).toEqual([stray]);
    expect(sweep.busy).toEqual([{ dir: busy, pids: [child.pid] }]);
    expect(existsSync(stray)).toBe(false);
    for (const left of [kept, young, busy, foreign]) expect(existsSync(left)).toBe(true);
  });

  it('finds nothing where the home has no cgroup folder yet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-sweep-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const parent = cgroupParent(dir);
    expect(parent).not.toBeNull();
    expect(sweepRunCgroups(parent ?? '', new Set(), 0)).toEqual({ removed: [], busy: [] });
  });
});

describe.skipIf(!CGROUPS)('a supervisor', () => {
  const ana = person('ana');

  it('sweeps its home once a minute from its tick, keeping its runs and its standby, saying a busy stray once', async () => {
    const lines: string[] = [];
    const h = await supervisorHome({ log: (line) => lines.push(line) });
    cleanups.push(() => h.cleanup());
    await h.store.addProfile('sleeper', { argv: ['sleep', '60'] }, ana);
    await h.store.createTask({ title: 'sleep', assignee: 'sleeper' }, ana);
    const claim = await h.claimOne();
    await h.supervisor.start(claim, {});
    const parent = cgroupParent(join(h.dir, 'runs'));
    if (parent === null) throw new Error('no cgroup parent');
    const ownRun = readCgroupFile(join(h.dir, 'runs', String(claim.run.id))) ?? '';
    expect(ownRun.startsWith(`${parent}/run-`)).toBe(true);
    // After the start, a standby waits for the next, in a cgroup of its own.
    const standby = h.supervisor.standbys.cgroupWaiting();
    expect(standby).not.toBeNull();
    await waitFor(
      'the standby in its cgroup',
      () => (cgroupMembers(standby ?? '')?.length ?? 0) > 0,
    );
    for (const dir of [ownRun, standby ?? '']) backdate(dir, 2 * MINUTE);
    const stray = runCgroup(parent, 2 * MINUTE);
    const busy = runCgroup(parent, 2 * MINUTE);
    const child = await sleeper(busy);
    backdate(busy, 2 * MINUTE);
    // One of a run this host no longer watches, whose shim holds a lease (several hosts).
    const leased = runCgroup(parent, 2 * MINUTE);
    const leasedChild = await sleeper(leased);
    backdate(leased, 2 * MINUTE);
    const reaped = join(h.dir, 'runs', '99');
    mkdirSync(reaped, { recursive: true });
    writeFileSync(join(reaped, 'cgroup'), `${leased}\n`);
    writeFileSync(join(reaped, 'live'), '999999999 999999999\n');
    // And one whose run was ended elsewhere: its shim was told to kill at once (`0 0`).
    const ended = runCgroup(parent, 2 * MINUTE);
    const endedChild = await sleeper(ended);
    backdate(ended, 2 * MINUTE);
    const endedDir = join(h.dir, 'runs', '98');
    mkdirSync(endedDir, { recursive: true });
    writeFileSync(join(endedDir, 'cgroup'), `${ended}\n`);
    writeFileSync(join(endedDir, 'live'), '0 0\n');

    // The first tick sweeps.
    await h.supervisor.tick();
    expect(existsSync(stray)).toBe(false);
    for (const left of [ownRun, standby ?? '', busy, leased, ended])
      expect(existsSync(left)).toBe(true);
    const busyLines = (): string[] => lines.filter((l) => l.includes(' holds processes of '));
    expect(busyLines().sort()).toEqual(
      [
        `cgroup ${busy} holds processes of no run this host watches (pids ${child.pid}); not killed here: if they are a worker's leftovers, echo 1 > ${busy}/cgroup.kill`,
        `cgroup ${leased} holds processes of run 99, which this host does not watch (pids ${leasedChild.pid}); not killed here: the run's shim kills them once its lease runs out, as it is not renewed`,
        `cgroup ${ended} holds processes of run 98, which this host does not watch (pids ${endedChild.pid}); the run's shim is killing them now, as the run was ended elsewhere`,
      ].sort(),
    );
    expect(lines.filter((l) => l.startsWith('removed 1 empty run cgroup'))).toHaveLength(1);

    // Not again within the minute; then again, the busy one not said twice.
    const later = runCgroup(parent, 2 * MINUTE);
    await h.supervisor.tick();
    expect(existsSync(later)).toBe(true);
    h.clock.advance(SUPERVISOR_DEFAULTS.cgroup_sweep_ms);
    await h.supervisor.tick();
    expect(existsSync(later)).toBe(false);
    expect(busyLines()).toHaveLength(3);
  });

  it('sweeps at its start, once it has adopted its runs', async () => {
    const h = await supervisorHome();
    cleanups.push(() => h.cleanup());
    const parent = cgroupParent(join(h.dir, 'runs'));
    if (parent === null) throw new Error('no cgroup parent');
    mkdirSync(parent, { recursive: true });
    const left = runCgroup(parent, 2 * MINUTE);
    await h.supervisor.adoptAll();
    expect(existsSync(left)).toBe(false);
    // Nothing else was in the home's folder: it goes too, as when a run's cgroup is removed.
    expect(existsSync(parent)).toBe(false);
  });
});
