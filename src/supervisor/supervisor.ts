import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { dispatcher } from '../core/actor.js';
import type { Actor } from '../core/actor.js';
import { RunRule } from '../core/ending.js';
import { SUPERVISOR_DEFAULTS } from '../core/defaults.js';
import { formatDuration } from '../core/duration.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import { creditedProgress } from '../core/liveness.js';
import { resolvePolicy } from '../core/policy.js';
import type { Policy } from '../core/policy.js';
import type { Run, RunReason } from '../core/run.js';
import type { LlmState } from '../core/llm.js';
import type { Outcome } from '../core/status.js';
import { procfsLayer } from '../endings/process-layer.js';
import { cgroupParent, makeRunCgroup, removeCgroup, sweepRunCgroups } from '../os/cgroup.js';
import { atMost } from '../os/at-most.js';
import type { ProcessLayer } from '../endings/process-layer.js';
import { SpawnedEndings } from '../endings/spawned.js';
import type { EndingRun, Leftovers } from '../endings/spawned.js';
import type { Claim } from '../store/run-types.js';
import { adopt } from './adopt.js';
import { busyCgroupLine } from './busy-cgroup.js';
import { LIVE_FILE } from './freeze.js';
import { readTail } from '../os/tail.js';
import { observed } from './live-run.js';
import { statusFromShell } from '../os/exit-status.js';
import type { LiveRun } from './live-run.js';
import { examine } from './look.js';
import { dropLost, killLost, refreshLiveness } from './lost.js';
import { policiesFor } from './policies.js';
import { OwnAbsences } from './own-absences.js';
import { noteCall, noteModel, progressOf } from './progress.js';
import { readExitFile } from './spawn.js';
import { startWorker } from './starter.js';
import { PersonStop, StartsUnderWay } from './starts.js';
import { Standbys } from './standby.js';
import { worktreeEnding } from './worktree.js';
import { watchWorkspace } from './workspace-progress.js';
import type { RunContainment, Supervision, SupervisorOptions } from './supervision.js';

export type { SupervisorOptions } from './supervision.js';

/**
 * The supervisor of one host (SPEC §3): it starts workers under the shim (`starter.ts`),
 * adopts them after a restart (`adopt.ts`), watches liveness and progress separately at every
 * tick (`look.ts`), freezes them with several hosts (`lost.ts`), and hands every ending to the
 * one ending path (`src/endings`). It never reclaims a live, progressing worker.
 */
export class Supervisor implements Supervision {
  readonly live = new Map<number, LiveRun>();
  readonly lost = new Set<number>();
  /**
   * Runs closed here that a tick's read of the open runs, made before the close, may still
   * list: never adopted again from it (they were once, and closed a second time).
   */
  private readonly closedHere = new Set<number>();
  readonly starting = new Map<number, number>();
  readonly makingWorktrees = new Set<number>();
  /** The starts under way, for a person's stop of a run not running yet. */
  private readonly underWay = new StartsUnderWay();
  readonly endings: SpawnedEndings;
  readonly processes: ProcessLayer;
  readonly actor: Actor;
  private counter = 0;
  private lastFlush: number;
  private lastWall: number;
  private lastMono: number;
  private ticking = false;
  /** Claims of this process under way (see `claim`). */
  private claiming = 0;
  /** Where this home's runs get their cgroups: undefined until first asked, null for none. */
  private cgroups: string | null | undefined;
  /** When the home's unused run cgroups were last swept (monotonic), and those said busy. */
  private cgroupsSweptAt: number | null = null;
  private readonly busyCgroups = new Set<string>();
  readonly standbys = new Standbys(() => this.runCgroup());
  /** `serve`'s own absences, which no run's silence counts (`watch` as serve starts). */
  readonly absences: OwnAbsences;

  constructor(readonly opts: SupervisorOptions) {
    this.actor = dispatcher(opts.host);
    this.processes = opts.processes ?? procfsLayer;
    this.lastFlush = opts.clock.monotonic();
    this.lastWall = opts.clock.now();
    this.lastMono = opts.clock.monotonic();
    this.absences = new OwnAbsences(opts.clock, (ms) => this.creditSilence(ms));
    this.endings = new SpawnedEndings({
      store: opts.store,
      host: opts.host,
      clock: opts.clock,
      config: opts.config,
      processes: this.processes,
      log: (line) => this.log(line),
      kick: (run) => this.kick(run as LiveRun),
      leftovers: (run) => this.leftovers(run as LiveRun),
      forget: (run, freed) => this.forget(run, freed),
      workspace: worktreeEnding(opts.store, opts.host),
    });
  }

  /** Runs this host supervises now (running or ending). */
  get size(): number {
    return this.live.size;
  }

  get seq(): number {
    return this.counter;
  }

  /** Whether this host supervises the run. */
  has(runId: number): boolean {
    return this.live.has(runId);
  }

  log(line: string): void {
    this.opts.log?.(line);
  }

  // ---- Starting and adopting ----

  /**
   * Makes claims and reserves their runs as one step (with the lease epoch they were claimed
   * in): until each is started, a tick that reads them from the store must not take them for
   * runs whose `serve` died before starting them. While a claim is under way its runs may
   * already be in the store and not yet reserved; the tick leaves unstarted runs alone then.
   */
  async claim(make: () => Promise<Claim[]>, epoch = 0): Promise<Claim[]> {
    this.claiming++;
    try {
      const claims = await make();
      for (const c of claims) this.starting.set(c.run.id, epoch);
      return claims;
    } finally {
      this.claiming--;
    }
  }

  /** Claims that will not be started here after all. */
  unreserve(runIds: readonly number[]): void {
    for (const id of runIds) this.starting.delete(id);
  }

  /**
   * Starts the worker of a claimed run, or ends the run `spawn_failed`. Once the runs claimed
   * have all been started, a standby is made for the next start. `signal` stops the making of
   * its worktree (`serve` stopping).
   */
  async start(
    claim: Claim,
    wardenEnv: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<void> {
    const run = { runId: claim.run.id, taskId: claim.task.id, attempt: claim.run.attempt };
    try {
      await this.underWay.run(run, signal, (control) =>
        startWorker(this, claim, wardenEnv, control),
      );
    } finally {
      this.starting.delete(claim.run.id);
      // Starts making a worktree take a standby when they spawn; they do not wait for one.
      if (this.starting.size <= this.makingWorktrees.size) this.standbys.refill();
    }
  }

  /**
   * Ends the standby waiting for the next start, and makes no more: starts after this spawn
   * their shims themselves.
   */
  close(): void {
    this.absences.stop();
    this.standbys.close();
  }

  /** An empty cgroup for a start, when containment and the machine allow; else null. */
  runCgroup(): string | null {
    const parent = this.cgroupHome();
    return parent === null ? null : makeRunCgroup(parent);
  }

  /** Where this home's runs get their cgroups, or null when they get none. */
  private cgroupHome(): string | null {
    if (this.opts.containment === 'environ') return null;
    this.cgroups ??= cgroupParent(this.opts.runsDir);
    return this.cgroups;
  }

  /**
   * Removes the home's run cgroups that no run of this host and no standby uses, once they are
   * empty (`sweepRunCgroups`): at start, after adopting, and then once a minute from the tick.
   * One that holds processes is said once in the log and left.
   */
  sweepCgroups(): void {
    const parent = this.cgroupHome();
    this.cgroupsSweptAt = this.opts.clock.monotonic();
    if (parent === null) return;
    const keep = new Set<string>();
    for (const live of this.live.values()) if (live.cgroup !== null) keep.add(live.cgroup);
    const waiting = this.standbys.cgroupWaiting();
    if (waiting !== null) keep.add(waiting);
    const { removed, busy } = sweepRunCgroups(
      parent,
      keep,
      SUPERVISOR_DEFAULTS.cgroup_sweep_min_age_ms,
    );
    if (removed.length > 0)
      this.log(`removed ${removed.length} empty run cgroup(s) no run uses under ${parent}`);
    for (const { dir, pids } of busy) {
      if (this.busyCgroups.has(dir)) continue;
      this.busyCgroups.add(dir);
      this.log(busyCgroupLine(this.opts.runsDir, dir, pids));
    }
  }

  track(
    run: Run,
    identity: LiveRun['identity'],
    runDir: string,
    logPath: string,
    policy: Policy,
    containment: RunContainment,
  ): LiveRun {
    const live: LiveRun = {
      runId: run.id,
      taskId: run.task_id,
      attempt: run.attempt,
      board: run.board,
      identity,
      ...containment,
      runDir,
      logPath,
      child: null,
      childExit: null,
      clock: { started: this.opts.clock.monotonic(), lastProgress: null, warned: false },
      policy,
      usedProtocol: run.used_protocol,
      outputBytes: 0,
      progressCount: run.progress_count,
      lastProgressWall: run.last_progress_at,
      lastOutputWall: run.last_output_at,
      lastHeartbeatWall: run.last_heartbeat_at,
      lastNote: run.last_note,
      dirty: false,
      workspace: null,
      ending: null,
      closed: false,
      queue: Promise.resolve(),
      seq: ++this.counter,
      decided: null,
    };
    this.live.set(run.id, live);
    return live;
  }

  /** On start (SPEC §3 "Restart"): adopts every run this host owns. */
  async adoptAll(): Promise<void> {
    const runs = await this.opts.store.openRuns(this.opts.host);
    const policies = await policiesFor(this.opts.store, this.opts.config, runs);
    for (const run of runs) {
      if (!this.live.has(run.id))
        await adopt(this, run, policies.get(run.id) ?? resolvePolicy(this.opts.config));
    }
    // What the workers printed while no serve looked goes to the store now, not at the next
    // batch: `doctor` and the board read it (a healthy worker read "stalls now" for 15 s).
    if ([...this.live.values()].some((l) => l.dirty)) await this.flush();
    this.sweepCgroups();
  }

  /** Adopts one run (for `warden stop` when no `serve` is running). */
  async adoptOne(runId: number): Promise<void> {
    const run = await this.opts.store.getRun(runId);
    if (run.state === 'ended' || this.live.has(run.id)) return;
    const policies = await policiesFor(this.opts.store, this.opts.config, [run]);
    await adopt(this, run, policies.get(run.id) ?? resolvePolicy(this.opts.config));
    await this.idle();
  }

  // ---- Several hosts: freezing (SPEC §3) ----

  /** After a renewal: moves the freeze deadlines of every run still this host's forward. */
  refreshLiveness(): void {
    refreshLiveness(this);
  }

  /**
   * After a gap in the host's lease: kills the workers of runs that ended elsewhere. It returns
   * once they are marked lost and told to die (`KILL_NOW`), not once their endings have closed:
   * the host's renewals wait on it, and a closing ending's evidence (git, up to 30 s) must not
   * hold them back while the other workers stay frozen.
   */
  async dropLost(): Promise<void> {
    await dropLost(this);
  }

  // ---- Signals from the worker door ----

  /** A `progress` (or `heartbeat`) call reached this host. Heartbeats prove liveness only. */
  noteCall(runId: number, kind: 'progress' | 'heartbeat', note?: string): void {
    const live = this.live.get(runId);
    if (live) noteCall(this.opts.clock, live, kind, note);
  }

  /** Whether this supervisor watches the run (running or ending). */
  holds(runId: number): boolean {
    return this.live.has(runId);
  }

  /** Whether this host watches the run and it is neither being ended nor lost. */
  isRunning(runId: number): boolean {
    const live = this.live.get(runId);
    return live !== undefined && live.ending === null && !this.lost.has(runId);
  }

  /** Model traffic of a run through the proxy: progress, and what it is doing now. */
  noteModel(runId: number, state?: LlmState | null): void {
    const live = this.live.get(runId);
    if (live && live.ending === null) noteModel(this.opts.clock, live, state);
  }

  /**
   * Ends a run this host watches for a rule found outside its process (the model proxy: a
   * spent budget, upstream rate limits), through the same phases as every ending.
   */
  endFor(runId: number, outcome: Outcome, reason: RunReason): void {
    const live = this.live.get(runId);
    if (!live || live.ending !== null) return;
    // The first decision stands; the next look begins it (./look.ts).
    live.decided ??= { outcome, reason };
    this.kick(live);
  }

  /** A worker's report moved its run to `ending`: let the process exit, then close. */
  noteTerminal(runId: number): void {
    const live = this.live.get(runId);
    if (live) this.kick(live);
  }

  // ---- The tick ----

  /**
   * One pass over every run: re-reads limits, notices output, exits and silence, drives
   * endings, and writes progress in a batch when due.
   */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.detectResume();
      const seen = this.seq;
      const runs = await this.opts.store.openRuns(this.opts.host);
      const watched = new Map<number, boolean>();
      const policies = await policiesFor(this.opts.store, this.opts.config, runs, watched);
      const open = new Set<number>();
      for (const run of runs) {
        open.add(run.id);
        const policy = policies.get(run.id) ?? resolvePolicy(this.opts.config);
        const live = this.live.get(run.id);
        if (!live) {
          if (this.starting.has(run.id) || this.closedHere.has(run.id)) continue;
          // Possibly just claimed here, its claim not yet back: the next tick looks again.
          if (run.process === null && this.claiming > 0) continue;
          // Started by another process of this host (`dispatch --once`): adopt it.
          await adopt(this, run, policy);
          continue;
        }
        live.policy = policy;
        live.usedProtocol ||= run.used_protocol;
        // Re-read like the limits: an edit of the profile turns it on or off for its runs.
        if (watched.get(run.id) !== true || run.cwd === null) live.workspace = null;
        else if (live.workspace?.path !== run.cwd) live.workspace = watchWorkspace(run.cwd);
        if (run.state === 'ending' && live.ending === null) this.endings.resume(live, run);
      }
      // A read that no longer lists a run closed here was made after its close.
      for (const id of this.closedHere) if (!open.has(id)) this.closedHere.delete(id);
      // The looks this tick waits for: not those of a run whose earlier look is still under
      // way (or queued behind one), which would make every tick wait out the bound meanwhile.
      const looks: Promise<void>[] = [];
      for (const live of this.live.values()) {
        // A run started after the read began may be missing from it: not ended elsewhere.
        if (!open.has(live.runId) && live.ending === null && live.seq <= seen) {
          // Its process must not outlive it (SPEC §3); with several hosts, its task may
          // already run elsewhere.
          if (this.opts.freeze) killLost(this, live);
          else this.endings.endedElsewhere(live, false);
        }
        const slow = live.lookBusy === true || live.lookQueued === true;
        this.kick(live);
        if (!slow) looks.push(live.queue);
      }
      // Bounded: one slow look must not hold up every other run's (nor the host's tick). With
      // no bound (the supervisor's tests), every look is waited for, those under way included.
      const waitMs = this.opts.tickWaitMs ?? SUPERVISOR_DEFAULTS.tick_wait_ms;
      if (waitMs === Infinity) await this.idle();
      else await atMost(Promise.all(looks), waitMs);
      const swept = this.cgroupsSweptAt;
      if (
        swept === null ||
        this.opts.clock.monotonic() - swept >= SUPERVISOR_DEFAULTS.cgroup_sweep_ms
      )
        this.sweepCgroups();
      const flushEvery = this.opts.progressFlushMs ?? SUPERVISOR_DEFAULTS.progress_flush_ms;
      if (this.opts.clock.monotonic() - this.lastFlush >= flushEvery) await this.flush();
    } finally {
      this.ticking = false;
    }
  }

  /** `serve` did not run for `ms` with the machine awake: no live run's silence counts it. */
  private creditSilence(ms: number): void {
    if (this.live.size === 0) return;
    const now = this.opts.clock.monotonic();
    for (const live of this.live.values())
      live.clock.lastProgress = creditedProgress(live.clock, ms, now);
    this.log(
      `serve did not run for ${(ms / 1000).toFixed(1)} s (stopped, or its event loop held); the silences of ${this.live.size} run(s) leave it out`,
    );
  }

  private async detectResume(): Promise<void> {
    const wall = this.opts.clock.now();
    const mono = this.opts.clock.monotonic();
    const gap = wall - this.lastWall - (mono - this.lastMono);
    this.lastWall = wall;
    this.lastMono = mono;
    if (gap > SUPERVISOR_DEFAULTS.resume_threshold_ms) {
      this.opts.onResume?.();
      // Deadlines run on the monotonic clock, which does not count a suspend: nothing that
      // slept with the machine is judged silent for it.
      await this.opts.store.writeEvent(this.actor, {
        kind: 'host_resumed',
        payload: { host: this.opts.host, gap_ms: gap, runs: this.live.size },
      });
      this.log(`host resumed after a suspend of ${formatDuration(gap)}`);
    }
  }

  /**
   * Queues a look at the run behind whatever is under way on it. A kick while a look is queued
   * and not begun joins that look, which reads the run as it is when it begins: a run whose look
   * takes long (an ending's evidence) does not pile up a look per tick meanwhile.
   */
  kick(live: LiveRun): void {
    if (live.lookQueued === true) return;
    live.lookQueued = true;
    const look = async (): Promise<void> => {
      live.lookQueued = false;
      live.lookBusy = true;
      try {
        await examine(this, live);
        if (live.lookError !== undefined) this.log(`run ${live.runId}: looked at again`);
        live.lookError = undefined;
      } finally {
        live.lookBusy = false;
      }
    };
    // After a failed link too: the flag must not stay set, or the run is never looked at again.
    // A failure is said once, not at each of the looks it fails (one a second per run).
    live.queue = live.queue.then(look, look).catch((err: unknown) => {
      const what = String(err);
      if (live.lookError === what) return;
      live.lookError = what;
      this.log(`run ${live.runId}: ${(err as Error).stack ?? what}`);
    });
  }

  // ---- Endings ----

  private leftovers(live: LiveRun): Leftovers {
    const status = readExitFile(live.runDir);
    return {
      // A worker that outlived its killed shim left no status: the shim's is not its own.
      exit: status !== null ? statusFromShell(status) : live.orphan ? null : live.childExit,
      log_tail: readTail(live.logPath),
      progress: progressOf(live),
    };
  }

  private forget(run: EndingRun, freed: boolean): void {
    const live = this.live.get(run.runId);
    if (!live) return;
    this.live.delete(live.runId);
    this.lost.delete(live.runId);
    this.closedHere.add(live.runId);
    // Its processes are verified gone: nothing is left to watch, nor to look up after a gap.
    if (this.opts.freeze) rmSync(join(live.runDir, LIVE_FILE), { force: true });
    if (live.cgroup !== null) removeCgroup(live.cgroup);
    live.child?.removeAllListeners('exit');
    if (freed && run.ending)
      this.opts.onClosed?.({
        runId: live.runId,
        taskId: live.taskId,
        outcome: run.ending.outcome,
        runDir: live.runDir,
        elsewhere: run.ending.reason.rule === RunRule.ended_elsewhere,
      });
    if (freed) this.opts.onRunEnded?.();
  }

  /**
   * Ends a task's run `stopped` for a person (SPEC §6) and waits until its processes are
   * verified gone, or until they are found unkillable. Null if this host does not watch it.
   */
  async stop(taskId: number, by: string, intent: StopIntent): Promise<EndResult | null> {
    let live = this.liveOf(taskId);
    if (!live) {
      // Its worker may be starting still (its worktree being made): that start is stopped.
      const start = await this.underWay.stop(taskId, new PersonStop(by, intent));
      if (start === null) return null;
      // Ended for the stop by its start, or its worker spawned first and is stopped as any.
      if (start.ended !== null) return start.ended;
      live = this.liveOf(taskId);
      // Its start ended it otherwise (its worktree refused): that ending is the answer.
      if (!live) return this.endings.stoppedUnstarted(start.run, by, intent, this.opts.host);
    }
    return this.endings.stop(live, by, intent, () =>
      observed(live, this.opts.host, this.opts.clock.monotonic()),
    );
  }

  private liveOf(taskId: number): LiveRun | undefined {
    return [...this.live.values()].find((l) => l.taskId === taskId);
  }

  // ---- Progress batches ----

  /** Writes every run's new progress in one batch. */
  async flush(): Promise<void> {
    this.lastFlush = this.opts.clock.monotonic();
    const batch = [...this.live.values()]
      .filter((l) => l.dirty)
      .map((l) => {
        l.dirty = false;
        return progressOf(l);
      });
    await this.opts.store.recordProgress(batch);
  }

  /** Waits for every queued look at a run to finish (for shutdown and tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.queue));
  }
}
