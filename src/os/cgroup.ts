import { createHash, randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A cgroup v2 per run, where the machine allows it (SPEC §3: every process a run starts ends
 * with it). The kernel keeps a process in its cgroup whatever it does (setsid, a double fork,
 * daemonising), and its children are born in it; so a run's cgroup holds every process the
 * run started, and `cgroup.kill` ends them all at once. Nothing here throws: a machine without
 * cgroup v2, or where it is not writable, gets null, and the caller falls back.
 */

/** Unescapes a path field of /proc/self/mountinfo (`\040` for a space, and so on). */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Where the cgroup v2 hierarchy is mounted, and which of its folders the mount shows as its
 * root (`/`, unless a part of it was bind-mounted). Hybrid machines mount it beside cgroup v1,
 * often at `/sys/fs/cgroup/unified`.
 */
function cgroup2Mount(): { root: string; point: string } | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] !== 'cgroup2' || left === undefined) continue;
    const fields = left.split(' ');
    const root = fields[3];
    const point = fields[4];
    if (root !== undefined && point !== undefined) {
      return { root: unescapeMount(root), point: unescapeMount(point) };
    }
  }
  return null;
}

/** This process's own cgroup v2 path: the `0::/path` line of /proc/self/cgroup. */
function ownCgroup(): string | null {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    return line === undefined ? null : line.slice(3);
  } catch {
    return null;
  }
}

/**
 * The folder under which this home's runs get their cgroups: `warden-<id>` in the caller's own
 * cgroup (so a service manager's limits still apply), `<id>` naming the home, since several
 * homes share a machine and their run ids repeat. Null without cgroup v2. Nothing is made yet.
 */
export function cgroupParent(home: string): string | null {
  const mount = cgroup2Mount();
  const own = ownCgroup();
  if (mount === null || own === null || !own.startsWith('/')) return null;
  // Outside what the mount shows (another cgroup namespace): nothing here to write to.
  const root = mount.root === '/' ? '' : mount.root;
  if (root !== '' && own !== root && !own.startsWith(`${root}/`)) return null;
  const id = createHash('sha256').update(home).digest('hex').slice(0, 12);
  return join(mount.point, own.slice(root.length), `warden-${id}`);
}

/**
 * Makes a cgroup for a run under `parent`, or null when the machine does not allow it (no
 * cgroup v2, a read-only mount, not ours to write, too deep). A standby's is made before its
 * run is known (../supervisor/standby.ts), so each is named by a random id, never one in use
 * (a run's folder names its cgroup). A process joins it by writing its pid to `cgroup.procs`, which
 * needs write access there and in the cgroup it leaves from, the caller's own: both are
 * checked, so a worker is not started to fail joining.
 */
export function makeRunCgroup(parent: string): string | null {
  const dir = join(parent, `run-${randomBytes(6).toString('hex')}`);
  try {
    mkdirSync(parent, { recursive: true });
    mkdirSync(dir);
  } catch {
    return null;
  }
  try {
    accessSync(join(dir, 'cgroup.procs'), constants.W_OK);
    accessSync(join(dirname(parent), 'cgroup.procs'), constants.W_OK);
    return dir;
  } catch {
    removeCgroup(dir);
    return null;
  }
}

/** The pids in a cgroup, or null if it is not there (never made, or removed). */
export function cgroupMembers(dir: string): number[] | null {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return null;
  }
}

/** SIGKILLs every process of a cgroup in one write (`cgroup.kill`, Linux 5.14); false if it cannot. */
export function killCgroup(dir: string): boolean {
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes a run's cgroup, and its home's folder when no other run's is left in it; says whether
 * the run's went. A cgroup that still holds a process cannot be removed (EBUSY): it stays, and
 * nothing is said, since the run's ending already verified its processes gone.
 */
export function removeCgroup(dir: string): boolean {
  try {
    rmdirSync(dir);
  } catch {
    return false;
  }
  try {
    rmdirSync(dirname(dir));
  } catch {
    // Another run's cgroup (or a standby's) is still in it.
  }
  return true;
}

/** What a sweep of a home's run cgroups found (`sweepRunCgroups`). */
export interface CgroupSweep {
  /** Empty cgroups of no run, removed. */
  removed: string[];
  /** Cgroups of no run that still hold processes, left as they are. */
  busy: { dir: string; pids: number[] }[];
}

/**
 * Removes the run cgroups under `parent` that no run or standby of this host uses (`keep`) and
 * that hold no process: those a `serve` killed at the wrong moment left behind (made, not yet
 * named in its run's folder), and those of runs another host reaped while this one was down. A
 * cgroup made less than `minAgeMs` ago is left alone, since a start may be about to join it
 * (`dispatch --once` makes its own beside `serve`). Its age is read from the kernel's time of
 * making the folder, so it is measured on the wall clock, not an injected one. One that holds
 * processes is reported, not killed: only its run's ending may decide that.
 */
export function sweepRunCgroups(
  parent: string,
  keep: ReadonlySet<string>,
  minAgeMs: number,
): CgroupSweep {
  const sweep: CgroupSweep = { removed: [], busy: [] };
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return sweep;
  }
  const now = Date.now();
  for (const name of names) {
    const dir = join(parent, name);
    if (!name.startsWith('run-') || keep.has(dir)) continue;
    let madeAt: number;
    try {
      madeAt = statSync(dir).mtimeMs;
    } catch {
      continue;
    }
    if (now - madeAt < minAgeMs) continue;
    const pids = cgroupMembers(dir);
    if (pids === null) continue;
    if (pids.length > 0) sweep.busy.push({ dir, pids });
    // As a run's: the home's folder goes too once nothing is left in it.
    else if (removeCgroup(dir)) sweep.removed.push(dir);
  }
  return sweep;
}
