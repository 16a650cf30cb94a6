import type { Escapee } from '../core/ending.js';
import type { ProcessIdentity } from '../core/run.js';
import { cgroupMembers, killCgroup } from '../os/cgroup.js';
import {
  commandLine,
  environment,
  groupAlive,
  isSameProcessAlive,
  liveGroup,
  liveProcesses,
  signalGroup,
  signalProcess,
} from '../os/procfs.js';
import { hashToken } from '../os/token.js';

/**
 * Where a run's processes are (SPEC §3: every process a run starts ends with it): its process
 * group, which the shim leads; its cgroup, which no process can leave; and, on a machine
 * where no cgroup could be made, the run's id and token in a process's environment.
 */
export interface RunProcesses {
  /** The process group, led by the shim: its pid. */
  pgid: number;
  runId: number;
  /** The run's cgroup v2 folder, when one was made (`os/cgroup.ts`). */
  cgroup: string | null;
  /**
   * The SHA-256 of the run's token: without a cgroup, a process whose environment carries
   * `WARDEN_RUN_ID` of this run and a `WARDEN_RUN_TOKEN` of this hash is one of the run's.
   */
  tokenHash: string | null;
}

/**
 * What ending a spawned run needs from the operating system, injected so the last guard of
 * "never two workers" (processes that survive SIGKILL) can be tested with processes that refuse
 * to die.
 */
export interface ProcessLayer {
  /** Whether any live process is left in the group. */
  groupAlive(pgid: number): boolean;
  /** Signals every process of the group; false if it is already gone. */
  signalGroup(pgid: number, signal: 'SIGTERM' | 'SIGKILL'): boolean;
  /**
   * The run's live processes outside its process group (a `setsid`, a daemon): the members of
   * its cgroup, or without one those that carry the run's id and token in their environment.
   */
  escaped(run: RunProcesses): Escapee[];
  /**
   * Signals the run's processes outside its group; SIGKILL kills its whole cgroup at once
   * (`cgroup.kill`), so a process forked since `escaped` looked dies too.
   */
  signalEscaped(run: RunProcesses, pids: readonly number[], signal: 'SIGTERM' | 'SIGKILL'): void;
  /** Whether the process this identity names is still there. */
  isSameProcessAlive(identity: ProcessIdentity): boolean;
}

/** The longest command line an escape is reported with. */
const COMMAND_MAX = 200;

/** Whether a process's environment names this run, with a token of the run's hash. */
function carriesRun(pid: number, run: RunProcesses): boolean {
  const env = environment(pid);
  if (env === null || !env.includes(`WARDEN_RUN_ID=${run.runId}`)) return false;
  const token = env.find((v) => v.startsWith('WARDEN_RUN_TOKEN='));
  return (
    token !== undefined && hashToken(token.slice('WARDEN_RUN_TOKEN='.length)) === run.tokenHash
  );
}

/**
 * How long one walk through every process's environment is reused by the same ending: an
 * ending looks every 25 ms, and a walk costs milliseconds. Those it found are still checked
 * at every look, so only a process that appeared since waits this long to be seen.
 */
const ENVIRON_WALK_MS = 200;
const walks = new WeakMap<RunProcesses, { at: number; pids: number[] }>();

/** The run's processes outside its group, by their environment. */
function byEnvironment(run: RunProcesses): number[] {
  const last = walks.get(run);
  const now = performance.now();
  if (last !== undefined && now - last.at < ENVIRON_WALK_MS) {
    return last.pids.filter((pid) => liveGroup(pid) !== null);
  }
  const pids = liveProcesses()
    .filter((p) => p.pgid !== run.pgid && p.pid !== process.pid && carriesRun(p.pid, run))
    .map((p) => p.pid);
  walks.set(run, { at: now, pids });
  return pids;
}

/** The pids of the run's live processes outside its group. */
function outsideGroup(run: RunProcesses): number[] {
  // A cgroup that is gone was never joined (the wrapper removes it then): the fallback applies.
  const members = run.cgroup === null ? null : cgroupMembers(run.cgroup);
  if (members !== null) {
    return members.filter((pid) => {
      const pgid = liveGroup(pid);
      return pgid !== null && pgid !== run.pgid;
    });
  }
  return run.tokenHash === null ? [] : byEnvironment(run);
}

/** The real processes, read from Linux `/proc` and the cgroup's files, signalled with kill(2). */
export const procfsLayer: ProcessLayer = {
  groupAlive,
  signalGroup,
  isSameProcessAlive,
  escaped: (run) =>
    outsideGroup(run).map((pid) => ({
      pid,
      command: (commandLine(pid)?.join(' ') ?? '').slice(0, COMMAND_MAX),
    })),
  signalEscaped: (run, pids, signal) => {
    if (signal === 'SIGKILL' && run.cgroup !== null && killCgroup(run.cgroup)) return;
    for (const pid of pids) {
      try {
        signalProcess(pid, signal);
      } catch {
        // Not ours to signal (EPERM): it stays alive, and the ending holds the run for it.
      }
    }
  },
};
