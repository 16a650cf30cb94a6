/**
 * Cleaning up what a test's runs left in cgroups: a run the test ended by hand (a held run, a
 * killed serve) keeps its cgroup, and any process still in it (an escaped one) dies with it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupMembers,
  cgroupParent,
  killCgroup,
  makeRunCgroup,
  removeCgroup,
  sweepRunCgroups,
} from '../../src/os/cgroup.js';
import { readCgroupFile } from '../../src/supervisor/spawn.js';

/**
 * Kills every process in the cgroups of a home's runs, then removes the cgroups, and any empty
 * one left under the home's (a `serve` killed between making a run's cgroup and naming it);
 * returns the pids that were still there.
 */
export async function endRunCgroups(runsDir: string): Promise<number[]> {
  const found: number[] = [];
  if (!existsSync(runsDir)) return found;
  for (const id of readdirSync(runsDir)) {
    const cgroup = readCgroupFile(join(runsDir, id));
    const members = cgroup === null ? null : cgroupMembers(cgroup);
    if (cgroup === null || members === null) continue;
    found.push(...members);
    killCgroup(cgroup);
    const deadline = Date.now() + 5000;
    while ((cgroupMembers(cgroup)?.length ?? 0) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    removeCgroup(cgroup);
  }
  const parent = cgroupParent(runsDir);
  if (parent !== null) sweepRunCgroups(parent, new Set(), 0);
  return found;
}

/** Whether this machine lets a serve make a cgroup per run (cgroup v2, writable). */
export function cgroupsHere(): boolean {
  const parent = cgroupParent(`cgroups-test-${process.pid}`);
  const made = parent === null ? null : makeRunCgroup(parent);
  if (made !== null) removeCgroup(made);
  return made !== null;
}
