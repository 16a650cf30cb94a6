import type { OwnAbsences } from './own-absences.js';
import type { Actor } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import type { Policy, PolicyOverrides } from '../core/policy.js';
import type { Run } from '../core/run.js';
import type { ProcessLayer } from '../endings/process-layer.js';
import type { SpawnedEndings } from '../endings/spawned.js';
import type { Outcome } from '../core/status.js';
import type { Store } from '../store/store.js';
import type { FreezeSource } from './freeze.js';
import type { LiveRun } from './live-run.js';
import type { Standbys } from './standby.js';

/** What a supervisor needs from its host. */
export interface SupervisorOptions {
  store: Store;
  host: string;
  clock: Clock;
  /** The home's `config.json` policy layer. */
  config: PolicyOverrides;
  /** Folder of per-run folders (exit status, log). */
  runsDir: string;
  /**
   * The environment of workers before their profile's and warden's own variables, given the
   * names the profile inherits from `serve`'s environment (src/core/worker-env.ts).
   */
  baseEnv: (inherit: readonly string[]) => NodeJS.ProcessEnv;
  /** How often progress is written to the store (default `SUPERVISOR_DEFAULTS`). */
  progressFlushMs?: number;
  /**
   * The longest a tick waits for its looks at the runs (default `SUPERVISOR_DEFAULTS`); the
   * supervisor's tests wait for them all, as they assert right after a tick.
   */
  tickWaitMs?: number;
  /** Tells the host something worth logging. */
  log?: (line: string) => void;
  /** Called when a run has ended and its slot is free. */
  onRunEnded?: () => void;
  /** Called when a run this host watched was closed (for the log and `/metrics`). */
  onClosed?: (closed: {
    runId: number;
    taskId: number;
    outcome: Outcome;
    runDir: string;
    /** The run had been closed without this host (its outcome is the stored one, not `outcome`). */
    elsewhere: boolean;
  }) => void;
  /** Called when the machine was found to have been suspended (the monotonic clock slept). */
  onResume?: () => void;
  /**
   * Books the report a run's worker kept in its folder while `serve` did not answer, if it
   * did (serve/kept-reports.ts), before the worker's exit is read. It throws to have the look
   * tried again (the store did not take it).
   */
  keptReport?: (run: {
    runId: number;
    taskId: number;
    board: string;
    runDir: string;
  }) => Promise<void>;
  /**
   * Several hosts: workers run under the shim's watcher, which freezes them when these
   * deadlines pass (SPEC §3); `pollSeconds` is how often it looks.
   */
  freeze?: FreezeSource;
  /** The operating system's processes (default: the real ones, through /proc). */
  processes?: ProcessLayer;
  /**
   * How a run's processes are kept together, beyond its process group (SPEC §3): `auto`, a
   * cgroup v2 per run where the machine allows it, else by their environment; `environ`, by
   * their environment only (`WARDEN_CONTAINMENT`). Default `auto`.
   */
  containment?: Containment;
}

/** How a run's processes are found beyond its process group (`SupervisorOptions.containment`). */
export type Containment = 'auto' | 'environ';

/** Where a tracked run's processes are beyond its process group. */
export interface RunContainment {
  cgroup: string | null;
  tokenHash: string | null;
}

/**
 * The state one host's supervision shares between its parts (starting, adopting, looking,
 * freezing): the runs it watches and the endings that close them.
 */
export interface Supervision {
  readonly opts: SupervisorOptions;
  /** Runs this host supervises now (running or ending), by id. */
  readonly live: Map<number, LiveRun>;
  /** Runs found ended elsewhere after a lease gap: never thawed again. */
  readonly lost: Set<number>;
  /**
   * Runs claimed for this host whose workers are being started (not to be adopted), with the
   * lease epoch they were claimed in.
   */
  readonly starting: Map<number, number>;
  /** Runs whose worktree is being made (their start waits on git). */
  readonly makingWorktrees: Set<number>;
  readonly endings: SpawnedEndings;
  readonly processes: ProcessLayer;
  readonly actor: Actor;
  /** How many runs have been tracked so far (see `LiveRun.seq`). */
  readonly seq: number;
  /** Starts watching a run whose worker is running. */
  track(
    run: Run,
    identity: LiveRun['identity'],
    runDir: string,
    logPath: string,
    policy: Policy,
    containment: RunContainment,
  ): LiveRun;
  /** A start's process made ahead: one waits once the starts of the moment are made (./standby.ts). */
  readonly standbys: Standbys;
  /** `serve`'s own absences, which no run's silence counts (./own-absences.ts). */
  readonly absences: OwnAbsences;
  /** Makes a cgroup for a start, when containment and the machine allow; else null. */
  runCgroup(): string | null;
  /** Schedules a look at one run; looks at one run never overlap. */
  kick(live: LiveRun): void;
  log(line: string): void;
}
