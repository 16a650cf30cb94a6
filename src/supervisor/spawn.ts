import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { findExecutable, notExecutableCode } from '../config/executable.js';
import type { ProcessIdentity, Run } from '../core/run.js';
import { removeCgroup } from '../os/cgroup.js';
import { bootId, commandLine, identify } from '../os/procfs.js';
import { logCapArgs } from './log-cap.js';
import { writeRunStart } from './run-start.js';
import type { RunStart } from './run-start.js';
import { sendAway } from './standby.js';
import type { Standby } from './standby.js';

/** The shim every worker runs under (a POSIX sh script shipped with warden). */
export const SHIM_PATH = fileURLToPath(new URL('../../libexec/warden-shim', import.meta.url));

/** The file of a run's folder that names its cgroup, for a `serve` that adopts the run. */
export const CGROUP_FILE = 'cgroup';

/** A worker that could not be started: the command or its folder is missing or not allowed. */
export class SpawnError extends Error {
  override readonly name = 'SpawnError';
}

/** What to start, and where its files go. */
export interface SpawnSpec {
  runDir: string;
  logPath: string;
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Several hosts: the shim's watcher reads this `live` file every `pollSeconds`. */
  watch?: { liveFile: string; pollSeconds: number };
  /**
   * The run's cgroup (`os/cgroup.ts`), made for a start with no standby: the shim joins it
   * before it starts the worker. A standby brings its own.
   */
  cgroup?: string;
  /** The most bytes the log keeps (`log_cap`): the shim keeps it (./log-cap.ts). */
  logCap?: number;
  /** When it starts on this boot's clocks, for a serve that adopts it (./run-start.ts). */
  start?: RunStart;
}

/** A started worker: its shim leads the process group, so pgid = pid. */
export interface Spawned {
  pid: number;
  identity: ProcessIdentity;
  child: ChildProcess;
  /** The run's cgroup, which the shim joins before it starts anything; null: none. */
  cgroup: string | null;
}

/**
 * Starts a worker under the shim, in a new session and process group (and in the run's cgroup
 * when it has one), with the shim's stdout and stderr appended to the log file (a file, not a
 * pipe to `serve`, so the run outlives `serve`); with `logCap` the worker's output reaches the
 * file through the shim, which keeps the cap. Checks first that the command and the cwd exist,
 * since the shim would only report them as exit 127. The shim is a `standby` made ahead
 * (./standby.ts) when one is given, in its cgroup; otherwise spawned now, in `spec.cgroup`.
 * A start that fails leaves nothing behind: its standby is sent away, or the cgroup made for
 * it removed.
 */
export function spawnWorker(spec: SpawnSpec, standby: Standby | null = null): Spawned {
  try {
    checkWorker(spec);
    mkdirSync(spec.runDir, { recursive: true, mode: 0o700 });
    const cgroup = standby !== null ? standby.cgroup : (spec.cgroup ?? null);
    // Written before the shim starts, so a serve that adopts the run knows where to look.
    if (cgroup !== null) writeFileSync(join(spec.runDir, CGROUP_FILE), `${cgroup}\n`);
    if (spec.start !== undefined) writeRunStart(spec.runDir, spec.start);
    const watch = spec.watch ? ['-w', spec.watch.liveFile, String(spec.watch.pollSeconds)] : [];
    const cap = spec.logCap !== undefined ? logCapArgs(spec.logPath, spec.logCap) : [];
    // The shim joins the cgroup itself, before it starts anything (see the shim); a standby is
    // in it already, so then that costs nothing.
    const joins = cgroup !== null ? ['-g', cgroup] : [];
    const args = [SHIM_PATH, ...joins, ...cap, ...watch, spec.runDir, ...spec.argv];
    return standby !== null ? fromStandby(spec, args, standby) : spawnShim(spec, args, cgroup);
  } catch (err) {
    if (standby !== null) sendAway(standby);
    else if (spec.cgroup !== undefined) removeCgroup(spec.cgroup);
    throw err;
  }
}

/**
 * The command must be found and the folder must be there (the shim would only say 127), and
 * no argument or variable may hold a NUL byte (no process can be given one).
 */
function checkWorker(spec: SpawnSpec): void {
  const command = spec.argv[0];
  if (command === undefined) throw new SpawnError('the profile has no command');
  const words = [...spec.argv, spec.cwd, ...Object.entries(spec.env).flat()];
  if (words.some((w) => w?.includes('\0') === true))
    throw new SpawnError("a worker's argument, folder or variable holds a NUL byte");
  if (findExecutable(command, spec.env.PATH ?? '') === null) {
    // The shim would only report exit 126 or 127: name the operating system's error instead.
    const code = notExecutableCode(command, spec.env.PATH ?? '');
    throw new SpawnError(
      code === 'EACCES'
        ? `spawn ${command} EACCES: the command is there but is not an executable file (permission denied)`
        : `spawn ${command} ENOENT: the command was not found${command.includes('/') ? '' : ' on the worker’s PATH'}`,
    );
  }
  let cwdOk: boolean;
  try {
    cwdOk = statSync(spec.cwd).isDirectory();
  } catch {
    cwdOk = false;
  }
  if (!cwdOk) throw new SpawnError(`cwd ${spec.cwd} does not exist or is not a folder`);
}

/** The shim spawned now, by Node, in the run's folder with its variables and log. */
function spawnShim(spec: SpawnSpec, args: readonly string[], cgroup: string | null): Spawned {
  const fd = openSync(spec.logPath, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  // Node reports some failures to start (EAGAIN, EMFILE, ENFILE, ENOENT, EACCES: a loaded
  // machine, a folder gone since the check) as an 'error' event on the next tick rather than a
  // throw: with no listener it would be uncaught and end serve. The run is failed below.
  child.on('error', () => undefined);
  const pid = child.pid;
  if (pid === undefined) throw new SpawnError(`could not start /bin/sh for ${spec.argv[0]}`);
  // Identity is read at once: the shim cannot have exited before its first wait returns.
  const identity = identify(pid) ?? { boot_id: bootId(), pid, start_time: 'unknown' };
  return { pid, identity, child, cgroup };
}

/** A standby made the shim: its script is written, and its pid and identity are the run's. */
function fromStandby(spec: SpawnSpec, args: readonly string[], standby: Standby): Spawned {
  // Made here with its mode; the standby's script appends to it.
  closeSync(openSync(spec.logPath, 'a', 0o600));
  standby.child.stdin?.end(shimScript(spec, args));
  const { pid, identity, child, cgroup } = standby;
  return { pid, identity, child, cgroup };
}

/** A word for sh: single-quoted, which keeps every character but the quote, written '\''. */
function quote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** A name sh can hold as a variable: the shim's sh keeps no other, however it is started. */
const SH_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What makes a standby the run's shim: into the run's cwd, the run's variables exported (the
 * standby has none of its own), then `exec` of the shim (one exec: `env -i` would be another),
 * with standard input from /dev/null and output appended to the log. The shim gets the
 * variables a spawn of its own would have: its sh would keep only those it can name.
 */
function shimScript(spec: SpawnSpec, args: readonly string[]): string {
  const vars = Object.entries(spec.env).flatMap(([name, value]) =>
    value === undefined || !SH_NAME.test(name) ? [] : [`export ${quote(`${name}=${value}`)}\n`],
  );
  return (
    // `cd` exports OLDPWD (the standby's `/`), which the run's variables may set again.
    `cd -- ${quote(spec.cwd)} || exit 126\nunset OLDPWD\n` +
    vars.join('') +
    `exec /bin/sh ${args.map(quote).join(' ')} </dev/null >>${quote(spec.logPath)} 2>&1\n`
  );
}

/** The status the shim recorded, if the worker has exited. */
export function readExitFile(runDir: string): number | null {
  const path = join(runDir, 'exit');
  if (!existsSync(path)) return null;
  const code = Number(readFileSync(path, 'utf8').trim());
  return Number.isInteger(code) ? code : null;
}

/** The cgroup a run's folder names (`CGROUP_FILE`), or null if it has none. */
export function readCgroupFile(runDir: string): string | null {
  try {
    return readFileSync(join(runDir, CGROUP_FILE), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * The shim of a run whose spawn was never recorded (serve died between spawning and
 * recording): it wrote its pid first thing; the process is that shim if its command line
 * names the shim and this run's folder.
 */
export function runningShim(runDir: string): ProcessIdentity | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(runDir, 'shim.pid'), 'utf8').trim());
  } catch {
    return null;
  }
  const argv = commandLine(pid);
  const identity = identify(pid);
  if (!argv || !identity || !argv.includes(SHIM_PATH) || !argv.includes(runDir)) return null;
  return identity;
}

/** The variables warden gives every spawned worker of a run (SPEC §5). */
export function runEnv(run: Run, token: string, workspace: string): Record<string, string> {
  return {
    WARDEN_BOARD: run.board,
    WARDEN_TASK_ID: String(run.task_id),
    WARDEN_RUN_ID: String(run.id),
    WARDEN_RUN_TOKEN: token,
    WARDEN_ATTEMPT: String(run.attempt),
    WARDEN_WORKSPACE: workspace,
  };
}
