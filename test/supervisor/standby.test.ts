/*
 * A worker's start made ahead (src/supervisor/standby.ts): a standby process waits, in its
 * cgroup, and becomes the run's shim when given one. The worker it starts must be exactly what
 * a spawn of its own would have started: its variables, arguments, folder, input and log.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupMembers, cgroupParent, makeRunCgroup, removeCgroup } from '../../src/os/cgroup.js';
import { SHIM_PATH, SpawnError, spawnWorker } from '../../src/supervisor/spawn.js';
import type { SpawnSpec } from '../../src/supervisor/spawn.js';
import { STANDBY_PATH, Standbys, makeStandby, sendAway } from '../../src/supervisor/standby.js';
import { commandLine } from '../../src/os/procfs.js';
import { person } from '../../src/core/actor.js';
import { supervisorHome } from '../helpers/supervisor.js';
import type { SupervisorHome } from '../helpers/supervisor.js';
import type { Standby } from '../../src/supervisor/standby.js';
import { cgroupsHere } from '../helpers/cgroups.js';
import { waitFor } from '../helpers/host.js';

const CGROUPS = cgroupsHere();

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-standby-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Whether a standby's process is still there (no exit seen). */
function standing(s: Standby): boolean {
  return s.child.exitCode === null && s.child.signalCode === null;
}

/**
 * Sends a standby given no run away and waits until it has gone: it leaves its cgroup and
 * removes it itself (a kill would leave the cgroup to be removed once the kernel has reaped it).
 */
async function dismiss(s: Standby): Promise<void> {
  if (!standing(s)) return;
  const exited = once(s.child, 'exit');
  sendAway(s);
  await exited;
}

/** A standby that is ended (if still there) when the test is over. */
function standby(cgroup: string | null = null): Standby {
  const s = makeStandby(cgroup);
  cleanups.push(() => dismiss(s));
  return s;
}

/** An empty cgroup for one standby, removed after the test (with its folder, once empty). */
function freshCgroup(): string {
  const parent = cgroupParent(tempDir());
  const made = parent === null ? null : makeRunCgroup(parent);
  if (made === null) throw new Error('no cgroup could be made here');
  cleanups.push(() => {
    removeCgroup(made);
  });
  return made;
}

/** What the worker below saw of itself, written to its log as one JSON line. */
interface Seen {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: string;
  cgroup: string;
  pgid: number;
}

const REPORT = `
  const fs = require('node:fs');
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  process.stdout.write(JSON.stringify({
    argv: process.argv.slice(1),
    env: process.env,
    cwd: process.cwd(),
    stdin: fs.readFileSync(0, 'utf8'),
    cgroup: fs.readFileSync('/proc/self/cgroup', 'utf8'),
    pgid: Number(fields[2]),
  }) + '\\n');
`;

/**
 * Starts the reporting worker (from `standby`, or spawning its shim), and returns what it saw
 * once it has exited.
 */
async function report(
  dir: string,
  env: Record<string, string>,
  args: string[],
  standby: Standby | null,
): Promise<{ seen: Seen; pid: number; log: string }> {
  const runDir = join(dir, 'run');
  const logPath = join(runDir, 'output.log');
  const spawned = spawnWorker(
    { runDir, logPath, argv: [process.execPath, '-e', REPORT, ...args], env, cwd: dir },
    standby,
  );
  await once(spawned.child, 'exit');
  const log = readFileSync(logPath, 'utf8');
  const line = log.split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`the worker wrote no report: ${log}`);
  return { seen: JSON.parse(line) as Seen, pid: spawned.pid, log };
}

/** Values and names a shell would mangle if they were not passed exactly. */
const ODD_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  QUOTED: `it's "here" and 'there'`,
  LINES: 'one\ntwo\n\nthree\n',
  SHELLISH: '$HOME `id` $(id) ; | & * ? [a] \\ \\n ~',
  EMPTY: '',
  'NOT-A-SH-NAME.x': 'kept',
  UNICODE: 'ünïcødé ✓',
  // The standby's `cd` sets one of its own, which the run's must replace.
  OLDPWD: '/from/the/run',
};

/**
 * The reporting worker started the way workers were before standbys: Node spawning the shim
 * itself with the run's variables, folder and log (what a standby must reproduce).
 */
async function direct(dir: string, env: Record<string, string>, args: string[]): Promise<Seen> {
  const runDir = join(dir, 'direct');
  mkdirSync(runDir);
  const logPath = join(runDir, 'output.log');
  const fd = openSync(logPath, 'a', 0o600);
  const child = spawn('/bin/sh', [SHIM_PATH, runDir, process.execPath, '-e', REPORT, ...args], {
    cwd: dir,
    env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  await once(child, 'exit');
  return JSON.parse(readFileSync(logPath, 'utf8')) as Seen;
}

describe('a worker started from a standby', () => {
  it('gets the variables, arguments, folder and input a spawn of the shim gives it', async () => {
    const dir = tempDir();
    const s = standby();
    const args = ["it's", 'two words', '', '$HOME', 'a\nb', '-'];
    const { seen, pid, log } = await report(dir, ODD_ENV, args, s);
    const before = await direct(dir, ODD_ENV, args);
    expect(pid).toBe(s.pid);
    expect(seen.argv).toEqual(args);
    // The shim's sh keeps only the variables it can name (and adds PWD), however it is started.
    const { WARDEN_RUN_DIR, ...env } = seen.env;
    const { WARDEN_RUN_DIR: beforeRunDir, ...beforeEnv } = before.env;
    expect(WARDEN_RUN_DIR).toBe(join(dir, 'run'));
    expect(beforeRunDir).toBe(join(dir, 'direct'));
    expect(env).toEqual(beforeEnv);
    for (const name of [
      'PATH',
      'QUOTED',
      'LINES',
      'SHELLISH',
      'EMPTY',
      'UNICODE',
      'OLDPWD',
    ] as const)
      expect(env[name]).toBe(ODD_ENV[name]);
    expect(seen.cwd).toBe(dir);
    expect(before.cwd).toBe(dir);
    expect(seen.stdin).toBe('');
    // The shim leads the worker's process group, under the standby's pid.
    expect(seen.pgid).toBe(s.pid);
    expect(log.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(statSync(join(dir, 'run', 'output.log')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'run', 'exit'), 'utf8').trim()).toBe('0');
  });

  it('is what warden gives a worker whose shim it spawns itself (no standby waiting)', async () => {
    const dir = tempDir();
    const { seen } = await report(dir, ODD_ENV, ['x'], null);
    const before = await direct(dir, ODD_ENV, ['x']);
    // Apart from the run's folder, which differs.
    const apart = (env: Record<string, string>): [string, string][] =>
      Object.entries(env).filter(([name]) => name !== 'WARDEN_RUN_DIR');
    expect(apart(seen.env)).toEqual(apart(before.env));
    expect(seen.argv).toEqual(['x']);
  });

  it.skipIf(!CGROUPS)(
    'runs in the cgroup its standby joined before the run was known',
    async () => {
      const dir = tempDir();
      const cgroup = freshCgroup();
      const s = standby(cgroup);
      await waitFor(
        'the standby in its cgroup',
        () => cgroupMembers(cgroup)?.includes(s.pid) ?? false,
      );
      const { seen } = await report(dir, { PATH: ODD_ENV.PATH }, [], s);
      expect(seen.cgroup.trim().endsWith(cgroup.slice(cgroup.lastIndexOf('/')))).toBe(true);
      expect(readFileSync(join(dir, 'run', 'cgroup'), 'utf8').trim()).toBe(cgroup);
    },
  );

  it('refuses a NUL byte with a SpawnError, with or without a standby, which then leaves', async () => {
    const dir = tempDir();
    const s = standby();
    const spec = (argv: string[], env: Record<string, string>): SpawnSpec => ({
      runDir: join(dir, 'run'),
      logPath: join(dir, 'run', 'log'),
      argv,
      env: { PATH: ODD_ENV.PATH, ...env },
      cwd: dir,
    });
    expect(() => spawnWorker(spec(['true', 'a\0b'], {}), s)).toThrow(SpawnError);
    await once(s.child, 'exit');
    expect(s.child.exitCode).toBe(0);
    expect(() => spawnWorker(spec(['true'], { NUL: 'a\0b' }))).toThrow(/NUL byte/);
    expect(() => spawnWorker(spec(['true', 'a\0b'], {}))).toThrow(/NUL byte/);
  });

  it('refuses a missing command with a SpawnError, and the standby given leaves', async () => {
    const dir = tempDir();
    const s = standby();
    expect(() =>
      spawnWorker(
        {
          runDir: join(dir, 'run'),
          logPath: join(dir, 'run', 'log'),
          argv: ['no-such-command-here'],
          env: { PATH: '/usr/bin' },
          cwd: dir,
        },
        s,
      ),
    ).toThrow(/ENOENT/);
    await once(s.child, 'exit');
    expect(s.child.exitCode).toBe(0);
  });
});

describe('Standbys', () => {
  it('gives the waiting standby to the next start, and makes one only when none waits', () => {
    let made = 0;
    const standbys = new Standbys(() => {
      made++;
      return null;
    });
    cleanups.push(() => standbys.close());
    // None waits until one is made: the start spawns its shim itself.
    expect(standbys.take()).toBeNull();
    standbys.refill();
    standbys.refill();
    expect(made).toBe(1);
    const first = standbys.take();
    if (first === null) throw new Error('no standby waited');
    cleanups.push(() => dismiss(first));
    expect(standing(first)).toBe(true);
    expect(standbys.take()).toBeNull();
    standbys.refill();
    const second = standbys.take();
    if (second === null) throw new Error('no standby waited');
    cleanups.push(() => dismiss(second));
    expect(made).toBe(2);
    expect(second.pid).not.toBe(first.pid);
  });

  it.skipIf(!CGROUPS)(
    'ends a waiting standby on close: it leaves its cgroup and removes it',
    async () => {
      const cgroup = freshCgroup();
      const standbys = new Standbys(() => cgroup);
      standbys.refill();
      await waitFor('the standby in its cgroup', () => (cgroupMembers(cgroup)?.length ?? 0) > 0);
      const [pid] = cgroupMembers(cgroup) ?? [];
      standbys.close();
      await waitFor('its cgroup removed', () => cgroupMembers(cgroup) === null);
      await waitFor('the standby gone', () => {
        try {
          process.kill(pid ?? 0, 0);
          return false;
        } catch {
          return true;
        }
      });
      // Closed: no more standbys are made.
      standbys.refill();
      expect(cgroupMembers(cgroup)).toBeNull();
    },
  );

  it.skipIf(!CGROUPS)(
    'drops a standby killed while it waited, and removes its cgroup',
    async () => {
      const cgroups = [freshCgroup(), freshCgroup()];
      let next = 0;
      const standbys = new Standbys(() => cgroups[next++] ?? null);
      cleanups.push(() => standbys.close());
      standbys.refill();
      const first = cgroups[0] ?? '';
      await waitFor('the standby in its cgroup', () => (cgroupMembers(first)?.length ?? 0) > 0);
      const [pid] = cgroupMembers(first) ?? [];
      process.kill(pid ?? 0, 'SIGKILL');
      await waitFor('its cgroup removed', () => cgroupMembers(first) === null);
      expect(standbys.take()).toBeNull();
      // The next one is made as usual.
      standbys.refill();
      const taken = standbys.take();
      if (taken !== null) cleanups.push(() => dismiss(taken));
      expect(taken?.cgroup).toBe(cgroups[1]);
    },
  );
});

/** Whether a process is still a standby (no run given yet): a child of this process running the script. */
function isStandby(pid: number): boolean {
  try {
    const ppid = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1];
    return ppid === String(process.pid) && commandLine(pid)?.includes(STANDBY_PATH) === true;
  } catch {
    return false; // gone
  }
}

/** The standbys waiting now. */
function waiting(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter(isStandby);
}

describe('a supervisor', () => {
  const ana = person('ana');

  async function home(): Promise<SupervisorHome> {
    const h = await supervisorHome();
    cleanups.push(() => h.cleanup());
    await h.store.addProfile('quick', { argv: ['true'] }, ana);
    return h;
  }

  /** The run's process, once it is past being a standby (its script is read a moment after). */
  async function processOf(h: SupervisorHome, runId: number): Promise<number> {
    const pid = (await h.store.getRun(runId)).process?.pid ?? 0;
    await waitFor('the run past its standby', () => !isStandby(pid));
    return pid;
  }

  it('starts a run from the standby it made once the start before was made', async () => {
    const h = await home();
    const pids: number[] = [];
    const waitingBefore: number[][] = [];
    for (const title of ['one', 'two']) {
      await h.store.createTask({ title, assignee: 'quick' }, ana);
      waitingBefore.push(waiting());
      const claim = await h.claimOne();
      await h.supervisor.start(claim, {});
      pids.push(await processOf(h, claim.run.id));
    }
    // None waited for the first start; after it, one did, and the second run is that process.
    expect(waitingBefore[0]).toEqual([]);
    expect(waitingBefore[1]).toEqual([pids[1]]);
    expect(pids[1]).not.toBe(pids[0]);
    // And another waits for the next.
    expect(waiting()).toHaveLength(1);
  });

  it('spawns the shims of a burst itself after the first, and makes one standby after them', async () => {
    const h = await home();
    await h.store.createTask({ title: 'first', assignee: 'quick' }, ana);
    await h.supervisor.start(await h.claimOne(), {});
    const [standbyPid] = waiting();
    for (const title of ['a', 'b', 'c'])
      await h.store.createTask({ title, assignee: 'quick' }, ana);
    // Claimed together, as a dispatcher's pass claims them: reserved until each is started.
    const claims = await h.supervisor.claim(() =>
      h.store.claimRuns({ host: 'h1', maxWorkers: 4, limit: 3, mode: 'spawned' }, h.dir),
    );
    expect(claims).toHaveLength(3);
    const pids: number[] = [];
    for (const claim of claims) {
      await h.supervisor.start(claim, {});
      pids.push(await processOf(h, claim.run.id));
      // No standby is made while runs of the burst wait to be started.
      if (pids.length < 3) expect(waiting()).toEqual([]);
    }
    expect(pids[0]).toBe(standbyPid);
    expect(pids.slice(1)).not.toContain(standbyPid);
    const [next] = waiting();
    expect(next).toBeDefined();
    expect(pids).not.toContain(next);
  });
});
