import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dispatcher } from '../core/actor.js';
import type { Actor } from '../core/actor.js';
import { ErrorCode, WardenError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import type { ExitStatus } from '../core/exit.js';
import { judgeLiveness } from '../core/liveness.js';
import { resolvePolicy } from '../core/policy.js';
import type { Policy, PolicyOverrides } from '../core/policy.js';
import type { Run, RunReason } from '../core/run.js';
import type { Outcome } from '../core/status.js';
import type { Claim, ProgressUpdate, RunFinal } from '../store/run-types.js';
import type { Store } from '../store/store.js';
import { policiesFor } from './policies.js';
import {
  exitMeaning,
  fileMtime,
  fileSize,
  livenessPolicy,
  readTail,
  runReason,
  statusFromShell,
  stopIntentExtra,
} from './live-run.js';
import type { EndResult, Ending, LiveRun, StopIntent } from './live-run.js';
import { bootId, groupAlive, isSameProcessAlive, signalGroup } from './procfs.js';
import { SpawnError, readExitFile, runEnv, runningShim, spawnWorker } from './spawn.js';
import {
  KILL_NOW,
  LIVE_FILE,
  LeaseGoneError,
  killStrayWatchers,
  prepareWatch,
  writeLiveFile,
} from './freeze.js';
import type { FreezeSource } from './freeze.js';

const ENDED_ELSEWHERE: RunReason = {
  rule: 'ended_elsewhere',
  message: 'the run ended elsewhere',
};

function isNotFound(err: unknown): boolean {
  return err instanceof WardenError && err.code === ErrorCode.not_found;
}

/** How long SIGKILL may take before the group is reported `kill_failed`. */
const KILL_VERIFY_MS = 2000;
/** How often an ending run is looked at between ticks, to notice a death quickly. */
const ENDING_POLL_MS = 25;
/** A wall-clock jump this much past the monotonic clock is a suspend of the machine. */
const RESUME_THRESHOLD_MS = 5000;

/** What a supervisor needs from its host. */
export interface SupervisorOptions {
  store: Store;
  host: string;
  clock: Clock;
  /** The home's `config.json` policy layer. */
  config: PolicyOverrides;
  /** Folder of per-run folders (exit status, log). */
  runsDir: string;
  /** The environment of workers before their profile's and warden's own variables. */
  baseEnv: () => NodeJS.ProcessEnv;
  /** How often progress is written to the store (SPEC §3: every 15 s and at every ending). */
  progressFlushMs?: number;
  /** Tells the host something worth logging. */
  log?: (line: string) => void;
  /** Called when a run has ended and its slot is free. */
  onRunEnded?: () => void;
  /** Called when the machine was found to have been suspended (the monotonic clock slept). */
  onResume?: () => void;
  /**
   * Several hosts: workers run under the shim's watcher, which freezes them when these
   * deadlines pass (SPEC §3); `pollSeconds` is how often it looks.
   */
  freeze?: FreezeSource;
}

/**
 * The supervisor of one host (SPEC §3): it starts workers under the shim, watches liveness
 * (is the process there?) and progress (is it doing anything?) separately, and ends runs
 * through one path: fence, SIGTERM the group, wait, SIGKILL, verify the group is gone, then
 * close the run and release the task. It never reclaims a live, progressing worker.
 */
export class Supervisor {
  private readonly live = new Map<number, LiveRun>();
  /** Runs found ended elsewhere after a lease gap: never thawed again. */
  private readonly lost = new Set<number>();
  /**
   * Runs claimed for this host whose workers are being started (not to be adopted), with the
   * lease epoch they were claimed in.
   */
  private readonly starting = new Map<number, number>();
  /** Counts runs as they are tracked (see `LiveRun.seq`). */
  private seq = 0;
  private readonly actor: Actor;
  private lastFlush: number;
  private lastWall: number;
  private lastMono: number;
  private ticking = false;

  constructor(private readonly opts: SupervisorOptions) {
    this.actor = dispatcher(opts.host);
    this.lastFlush = opts.clock.monotonic();
    this.lastWall = opts.clock.now();
    this.lastMono = opts.clock.monotonic();
  }

  /** Runs this host supervises now (running or ending). */
  get size(): number {
    return this.live.size;
  }

  /** Whether this host supervises the run. */
  has(runId: number): boolean {
    return this.live.has(runId);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  // ---- Starting ----

  /**
   * Claims about to be started: until each is started, a tick that reads them from the store
   * must not take them for runs whose `serve` died before starting them.
   */
  reserve(runIds: readonly number[], epoch = 0): void {
    for (const id of runIds) this.starting.set(id, epoch);
  }

  /** Claims that will not be started here after all. */
  unreserve(runIds: readonly number[]): void {
    for (const id of runIds) this.starting.delete(id);
  }

  /** Starts the worker of a claimed run, or ends the run `spawn_failed`. */
  async start(claim: Claim, wardenEnv: Record<string, string>): Promise<void> {
    try {
      await this.startWorker(claim, wardenEnv);
    } finally {
      this.starting.delete(claim.run.id);
    }
  }

  private async startWorker(claim: Claim, wardenEnv: Record<string, string>): Promise<void> {
    const { run, token } = claim;
    const runDir = join(this.opts.runsDir, String(run.id));
    const logPath = join(runDir, 'output.log');
    const cwd = run.cwd ?? runDir;
    const policy = resolvePolicy(this.opts.config, claim.profile.policy, claim.task.policy);
    try {
      if (claim.profile.cwd === 'workspace') mkdirSync(cwd, { recursive: true, mode: 0o700 });
      const env = { ...this.opts.baseEnv(), ...run.env, ...wardenEnv, ...runEnv(run, token, cwd) };
      const watch = this.opts.freeze
        ? prepareWatch(runDir, this.opts.freeze, this.starting.get(run.id) ?? 0)
        : undefined;
      const spawned = spawnWorker({
        runDir,
        logPath,
        argv: run.argv,
        env,
        cwd,
        ...(watch ? { watch } : {}),
      });
      const live = this.track(run, spawned.identity, runDir, logPath, policy);
      live.child = spawned.child;
      spawned.child.on('exit', (code, signal) => {
        live.childExit = { code, signal };
        this.kick(live);
      });
      spawned.child.unref();
      await this.opts.store.recordSpawn(run.id, spawned.identity, logPath);
    } catch (err) {
      if (!(err instanceof SpawnError)) throw err;
      // Not starting for want of a lease is the host's loss, not the profile's failure.
      const outcome: Outcome = err instanceof LeaseGoneError ? 'host_lost' : 'spawn_failed';
      const reason: RunReason = {
        rule: err instanceof LeaseGoneError ? 'host_lease_lapsed' : 'spawn_failed',
        message: err.message,
        host: this.opts.host,
        attempt: run.attempt,
      };
      if (await this.opts.store.beginEnding(run.id, outcome, reason, this.actor)) {
        await this.opts.store.finishRun(run.id, { outcome, reason }, this.finishCtx());
      }
    }
  }

  private track(
    run: Run,
    identity: LiveRun['identity'],
    runDir: string,
    logPath: string,
    policy: Policy,
  ): LiveRun {
    const live: LiveRun = {
      runId: run.id,
      taskId: run.task_id,
      attempt: run.attempt,
      board: run.board,
      identity,
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
      ending: null,
      queue: Promise.resolve(),
      seq: ++this.seq,
    };
    this.live.set(run.id, live);
    return live;
  }

  // ---- Restart: adopt what is still running, book what ended meanwhile ----

  /**
   * On start (SPEC §3 "Restart"): re-adopts every run this host owns whose process identity
   * still matches, books the ones that ended meanwhile by their recorded exit status, and
   * ends the rest. A restart is never counted against a task as a failure of its own.
   */
  async adoptAll(): Promise<void> {
    const runs = await this.opts.store.openRuns(this.opts.host);
    const policies = await policiesFor(this.opts.store, this.opts.config, runs);
    for (const run of runs) {
      if (!this.live.has(run.id))
        await this.adopt(run, policies.get(run.id) ?? resolvePolicy(this.opts.config));
    }
  }

  /** Adopts one run (for `warden stop` when no `serve` is running). */
  async adoptOne(runId: number): Promise<void> {
    const run = await this.opts.store.getRun(runId);
    if (run.state === 'ended' || this.live.has(run.id)) return;
    const policies = await policiesFor(this.opts.store, this.opts.config, [run]);
    await this.adopt(run, policies.get(run.id) ?? resolvePolicy(this.opts.config));
    await this.idle();
  }

  /**
   * A run claimed but with no recorded process: serve may have died between spawning its shim
   * and recording it. The shim wrote its pid first thing; if that process is this run's shim,
   * record it now, so it is adopted rather than duplicated (P3).
   */
  private async recoverSpawn(run: Run, runDir: string): Promise<Run> {
    if (run.process !== null) return run;
    const identity = runningShim(runDir);
    if (identity === null) return run;
    const logPath = join(runDir, 'output.log');
    await this.opts.store.recordSpawn(run.id, identity, logPath);
    return { ...run, process: identity, log_path: logPath };
  }

  private async adopt(found: Run, policy: Policy): Promise<void> {
    const runDir = join(this.opts.runsDir, String(found.id));
    const run = await this.recoverSpawn(found, runDir);
    const lost =
      run.process === null || run.log_path === null
        ? 'serve stopped before the worker was started'
        : run.process.boot_id !== bootId()
          ? 'the machine restarted since the worker started'
          : null;
    if (lost !== null) {
      // Nothing of it can be running: book it as lost with its host (not the task's fault),
      // and never signal a process group id that may now belong to someone else.
      const reason: RunReason = {
        rule: 'host_restarted',
        message: lost,
        host: this.opts.host,
        attempt: run.attempt,
      };
      await this.opts.store.beginEnding(run.id, 'host_lost', reason, this.actor);
      await this.opts.store.finishRun(
        run.id,
        { outcome: 'host_lost', reason, log_tail: run.log_path ? readTail(run.log_path) : null },
        this.finishCtx(),
      );
      return;
    }
    if (run.process === null || run.log_path === null) return;
    const live = this.track(run, run.process, runDir, run.log_path, policy);
    const now = this.opts.clock.now();
    const mono = this.opts.clock.monotonic();
    const toMono = (wall: number): number => mono - (now - wall);
    live.clock.started = toMono(run.started_at);
    // Progress is the later of the stored time and the log's last write (SPEC §3).
    const mtime = fileMtime(run.log_path);
    const lastProgress = Math.max(
      run.last_progress_at ?? 0,
      mtime !== null && mtime > run.started_at ? mtime : 0,
    );
    live.clock.lastProgress = lastProgress > 0 ? toMono(lastProgress) : null;
    live.clock.warned = run.stall_warned_at !== null;
    live.outputBytes = fileSize(run.log_path);
    const exited = readExitFile(runDir) !== null;
    if (!exited && isSameProcessAlive(run.process)) {
      await this.opts.store.writeEvent(this.actor, {
        kind: 'adopted',
        board: run.board,
        task_id: run.task_id,
        run_id: run.id,
        payload: { pid: run.process.pid, attempt: run.attempt, state: run.state },
      });
      this.log(`adopted run ${run.id} of task ${run.task_id} (pid ${run.process.pid})`);
    }
    if (run.state === 'ending') this.resumeEnding(live, run);
    this.kick(live);
  }

  // ---- Several hosts: freezing (SPEC §3) ----

  /** After a renewal: moves the freeze deadlines of every run still this host's forward. */
  refreshLiveness(): void {
    const freeze = this.opts.freeze;
    if (!freeze) return;
    const d = freeze.deadlines();
    for (const live of this.live.values()) {
      if (!this.lost.has(live.runId)) writeLiveFile(live.runDir, d);
    }
  }

  /**
   * After a gap in the host's lease, before anything is thawed: the runs that ended elsewhere
   * meanwhile (another host reaped them) are killed at once, frozen as they are, and so are
   * the processes of any run folder whose run is no longer this host's.
   */
  async dropLost(): Promise<void> {
    const seen = this.seq;
    const open = new Set((await this.opts.store.openRuns(this.opts.host)).map((r) => r.id));
    for (const live of this.live.values()) {
      if (open.has(live.runId) || this.lost.has(live.runId) || live.seq > seen) continue;
      this.killLost(live);
      this.log(`run ${live.runId}: ended elsewhere while this host's lease lapsed; killing it`);
      this.kick(live);
    }
    await killStrayWatchers(this.opts.runsDir, async (id) => {
      if (open.has(id) || this.live.has(id) || this.starting.has(id)) return true;
      // Read again: the folder may belong to a run claimed after the read above began.
      const run = await this.opts.store
        .getRun(id)
        .catch((err: unknown) => (isNotFound(err) ? null : undefined));
      // Unknown (the store did not answer): leave it; it is looked at after the next gap.
      if (run === undefined) return true;
      return run !== null && run.state !== 'ended' && run.host_id === this.opts.host;
    });
    await this.idle();
  }

  // ---- Signals from the worker door ----

  /** A `progress` (or `heartbeat`) call reached this host. Heartbeats prove liveness only. */
  noteCall(runId: number, kind: 'progress' | 'heartbeat', note?: string): void {
    const live = this.live.get(runId);
    if (!live) return;
    const wall = this.opts.clock.now();
    live.usedProtocol = true;
    live.lastHeartbeatWall = wall;
    if (note !== undefined) live.lastNote = note.slice(0, 500);
    if (kind === 'progress') {
      live.progressCount += 1;
      this.sawProgress(live, wall);
    }
    live.dirty = true;
  }

  /** A worker's terminal call moved its run to `ending`: let the process exit, then close. */
  noteTerminal(runId: number): void {
    const live = this.live.get(runId);
    if (live) this.kick(live);
  }

  private sawProgress(live: LiveRun, wall: number): void {
    live.clock.lastProgress = this.opts.clock.monotonic();
    live.clock.warned = false;
    live.lastProgressWall = wall;
    live.dirty = true;
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
      const policies = await policiesFor(this.opts.store, this.opts.config, runs);
      const open = new Set<number>();
      for (const run of runs) {
        open.add(run.id);
        const policy = policies.get(run.id) ?? resolvePolicy(this.opts.config);
        const live = this.live.get(run.id);
        if (!live) {
          if (this.starting.has(run.id)) continue;
          // Started by another process of this host (`dispatch --once`): adopt it.
          await this.adopt(run, policy);
          continue;
        }
        live.policy = policy;
        live.usedProtocol ||= run.used_protocol;
        if (run.state === 'ending' && live.ending === null) this.resumeEnding(live, run);
      }
      for (const live of this.live.values()) {
        // A run started after the read began may be missing from it: not ended elsewhere.
        if (!open.has(live.runId) && live.ending === null && live.seq <= seen)
          this.endedElsewhere(live);
        this.kick(live);
      }
      await Promise.all([...this.live.values()].map((l) => l.queue));
      if (this.opts.clock.monotonic() - this.lastFlush >= (this.opts.progressFlushMs ?? 15_000)) {
        await this.flush();
      }
    } finally {
      this.ticking = false;
    }
  }

  private async detectResume(): Promise<void> {
    const wall = this.opts.clock.now();
    const mono = this.opts.clock.monotonic();
    const gap = wall - this.lastWall - (mono - this.lastMono);
    this.lastWall = wall;
    this.lastMono = mono;
    if (gap > RESUME_THRESHOLD_MS) {
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

  /** Schedules a look at one run; looks at one run never overlap. */
  private kick(live: LiveRun): void {
    live.queue = live.queue
      .then(() => this.examine(live))
      .catch((err: unknown) =>
        this.log(`run ${live.runId}: ${(err as Error).stack ?? String(err)}`),
      );
  }

  private exitStatus(live: LiveRun): ExitStatus | null {
    const recorded = readExitFile(live.runDir);
    if (recorded !== null) return statusFromShell(recorded);
    if (live.childExit !== null) return live.childExit;
    if (live.child === null && !isSameProcessAlive(live.identity)) {
      return { code: null, signal: 'unknown' };
    }
    return null;
  }

  private async examine(live: LiveRun): Promise<void> {
    if (!this.live.has(live.runId)) return;
    // Output while a run is being ended is not progress: the decision is already made.
    if (live.ending !== null) return this.advanceEnding(live);
    const size = fileSize(live.logPath);
    if (size > live.outputBytes) {
      live.outputBytes = size;
      live.lastOutputWall = this.opts.clock.now();
      this.sawProgress(live, live.lastOutputWall);
    }
    const status = this.exitStatus(live);
    if (status !== null) {
      // Whether it used the worker protocol decides what exit 0 means; the store knows for sure.
      if (!live.usedProtocol)
        live.usedProtocol = (await this.opts.store.getRun(live.runId)).used_protocol;
      const meaning = exitMeaning(live, status);
      return this.beginEnding(
        live,
        meaning.outcome,
        this.reason(live, meaning.rule, meaning.message, status),
        {},
      );
    }
    const now = this.opts.clock.monotonic();
    const verdict = judgeLiveness(live.clock, livenessPolicy(live.policy), now);
    switch (verdict.action) {
      case 'none':
        return;
      case 'warn': {
        live.clock.warned = true;
        await this.opts.store.markStallWarning(live.runId, this.opts.host, {
          silent_ms: verdict.silentFor,
          stall_warn_after: live.policy.stall_warn_after,
          stall_timeout: live.policy.stall_timeout,
          pid: live.identity.pid,
          attempt: live.attempt,
        });
        this.log(
          `run ${live.runId}: silent for ${formatDuration(verdict.silentFor)}; stall warning`,
        );
        return;
      }
      case 'stall':
        return this.beginEnding(
          live,
          'stalled',
          this.reason(
            live,
            'stall_timeout',
            `alive but silent for ${formatDuration(verdict.silentFor)} (stall_timeout ${formatDuration(live.policy.stall_timeout)})`,
            null,
          ),
          {},
        );
      case 'timeout':
        return this.beginEnding(
          live,
          'timed_out',
          this.reason(
            live,
            'max_runtime',
            `ran for ${formatDuration(verdict.ranFor)} (max_runtime ${formatDuration(live.policy.max_runtime)})`,
            null,
          ),
          {},
        );
    }
  }

  private reason(
    live: LiveRun,
    rule: string,
    message: string,
    status: ExitStatus | null,
  ): RunReason {
    return runReason(live, this.opts.host, rule, message, status, this.opts.clock.monotonic());
  }

  // ---- Ending: the one path ----

  private async beginEnding(
    live: LiveRun,
    outcome: Outcome,
    reason: RunReason,
    intent: StopIntent,
  ): Promise<void> {
    const won = await this.opts.store.beginEnding(live.runId, outcome, reason, this.actor);
    if (!won) {
      // Someone else fenced first (a terminal call, a stop): follow the stored ending.
      const run = await this.opts.store.getRun(live.runId);
      if (run.state === 'ended') return this.forget(live);
      this.resumeEnding(live, run);
    } else {
      live.ending = this.newEnding(live, outcome, reason, intent, 'start');
    }
    return this.advanceEnding(live);
  }

  private newEnding(
    live: LiveRun,
    outcome: Outcome,
    reason: RunReason,
    intent: StopIntent,
    phase: Ending['phase'],
  ): Ending {
    const grace = intent.now ? 0 : live.policy.kill_grace;
    const deadline =
      phase === 'waiting_exit' ? this.opts.clock.monotonic() + live.policy.exit_after_complete : 0;
    return {
      outcome,
      reason,
      phase,
      deadline,
      graceMs: grace,
      waiters: [],
    };
  }

  /** Takes over an ending that is already in the store (a terminal call, or after a restart). */
  private resumeEnding(live: LiveRun, run: Run): void {
    const byWorker =
      ['completed', 'worker_blocked', 'review_requested'].includes(run.outcome ?? '') ||
      run.reason?.rule === 'worker_failed';
    const reason = run.reason ?? { rule: 'unknown', message: 'ending' };
    // A stop fenced through another host's API may ask for SIGKILL at once.
    const now = reason.extra?.now === true;
    live.ending = this.newEnding(
      live,
      run.outcome ?? 'crashed',
      reason,
      now ? { now: true } : {},
      byWorker ? 'waiting_exit' : 'start',
    );
  }

  private endedElsewhere(live: LiveRun): void {
    // The run ended without this host (SPEC §3): its process must not outlive it.
    if (this.opts.freeze) return this.killLost(live);
    live.ending = this.newEnding(live, 'stopped', ENDED_ELSEWHERE, {}, 'start');
  }

  /**
   * Several hosts: another host reaped the run and its task may already run there. The worker,
   * frozen or not, is killed at once (by this host and by its watcher) and never thawed.
   */
  private killLost(live: LiveRun): void {
    this.lost.add(live.runId);
    writeLiveFile(live.runDir, KILL_NOW);
    if (live.ending === null) {
      live.ending = this.newEnding(live, 'stopped', ENDED_ELSEWHERE, { now: true }, 'start');
      return;
    }
    live.ending.graceMs = 0;
    if (live.ending.phase === 'waiting_exit' || live.ending.phase === 'term')
      live.ending.phase = 'start';
  }

  private async advanceEnding(live: LiveRun): Promise<void> {
    const e = live.ending;
    if (e === null) return;
    const pgid = live.identity.pid;
    const now = this.opts.clock.monotonic();
    const alive = groupAlive(pgid);
    if (!alive) return this.finish(live, true);
    switch (e.phase) {
      case 'waiting_exit':
        if (now < e.deadline) return this.poll(live);
        e.phase = 'start';
        return this.advanceEnding(live);
      case 'start':
        if (e.graceMs === 0) {
          signalGroup(pgid, 'SIGKILL');
          e.phase = 'kill';
          e.deadline = now + KILL_VERIFY_MS;
        } else {
          signalGroup(pgid, 'SIGTERM');
          e.phase = 'term';
          e.deadline = now + e.graceMs;
        }
        return this.poll(live);
      case 'term':
        if (now >= e.deadline) {
          signalGroup(pgid, 'SIGKILL');
          e.phase = 'kill';
          e.deadline = now + KILL_VERIFY_MS;
        }
        return this.poll(live);
      case 'kill':
        if (now >= e.deadline) {
          e.phase = 'held';
          await this.opts.store.writeEvent(this.actor, {
            kind: 'kill_failed',
            board: live.board,
            task_id: live.taskId,
            run_id: live.runId,
            payload: { pgid, pid: live.identity.pid, outcome: e.outcome },
          });
          this.log(
            `run ${live.runId}: process group ${pgid} survived SIGKILL; the task stays held`,
          );
          this.settle(live, false);
        }
        return this.poll(live);
      case 'held':
        signalGroup(pgid, 'SIGKILL');
        return;
    }
  }

  /** Looks again soon: an ending should not wait for the next tick to notice a death. */
  private poll(live: LiveRun): void {
    // Not unref'd: a CLI ending a run locally (no serve) must stay up until it is verified.
    setTimeout(() => this.kick(live), ENDING_POLL_MS);
  }

  private async finish(live: LiveRun, verified: boolean): Promise<void> {
    const e = live.ending;
    if (e === null || !this.live.has(live.runId)) return;
    const status = readExitFile(live.runDir);
    const exit = status !== null ? statusFromShell(status) : live.childExit;
    const final: RunFinal = {
      outcome: e.outcome,
      reason: e.reason,
      exit_code: exit?.code ?? null,
      signal: exit?.signal ?? null,
      log_tail: readTail(live.logPath),
      progress: this.progressOf(live),
    };
    await this.opts.store.finishRun(live.runId, final, this.finishCtx());
    this.settle(live, verified);
    this.forget(live);
    this.opts.onRunEnded?.();
  }

  private settle(live: LiveRun, verified: boolean): void {
    const e = live.ending;
    if (e === null) return;
    const result: EndResult = {
      run_id: live.runId,
      outcome: e.outcome,
      verified_gone: verified,
      message: verified
        ? `run ${live.runId} ended ${e.outcome}; its processes are gone`
        : `run ${live.runId}: the process group would not die; the task stays held (kill_failed)`,
    };
    for (const w of e.waiters.splice(0)) w(result);
  }

  private forget(live: LiveRun): void {
    this.live.delete(live.runId);
    this.lost.delete(live.runId);
    // Its processes are verified gone: nothing is left to watch, nor to look up after a gap.
    if (this.opts.freeze) rmSync(join(live.runDir, LIVE_FILE), { force: true });
    live.child?.removeAllListeners('exit');
  }

  private finishCtx(): { host: string; config: PolicyOverrides } {
    return { host: this.opts.host, config: this.opts.config };
  }

  // ---- Stop ----

  /**
   * Ends a task's run `stopped` (SPEC §6) and waits until its processes are verified gone,
   * or until they are found unkillable.
   */
  async stop(taskId: number, by: string, intent: StopIntent): Promise<EndResult | null> {
    const live = [...this.live.values()].find((l) => l.taskId === taskId);
    if (!live) return null;
    const done = new Promise<EndResult>((resolve) => {
      const add = (): void => {
        if (live.ending) live.ending.waiters.push(resolve);
      };
      live.queue = live.queue.then(async () => {
        if (live.ending === null) {
          const reason = this.reason(live, 'stopped_by', intent.reason ?? `stopped by ${by}`, null);
          reason.extra = { ...reason.extra, ...stopIntentExtra(intent) };
          await this.beginEnding(live, 'stopped', reason, intent);
        } else if (intent.now) {
          live.ending.graceMs = 0;
        }
        if (this.live.has(live.runId)) add();
        else
          resolve({
            run_id: live.runId,
            outcome: 'stopped',
            verified_gone: true,
            message: `run ${live.runId} ended`,
          });
      });
    });
    return done;
  }

  // ---- Progress batches ----

  private progressOf(live: LiveRun): ProgressUpdate {
    return {
      runId: live.runId,
      last_progress_at: live.lastProgressWall,
      last_output_at: live.lastOutputWall,
      last_heartbeat_at: live.lastHeartbeatWall,
      output_bytes: live.outputBytes,
      progress_count: live.progressCount,
      last_note: live.lastNote,
    };
  }

  /** Writes every run's new progress in one batch. */
  async flush(): Promise<void> {
    this.lastFlush = this.opts.clock.monotonic();
    const batch = [...this.live.values()]
      .filter((l) => l.dirty)
      .map((l) => {
        l.dirty = false;
        return this.progressOf(l);
      });
    await this.opts.store.recordProgress(batch);
  }

  /** Waits for every queued look at a run to finish (for shutdown and tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.queue));
  }
}
