import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { PULL_DEFAULTS, SUPERVISOR_DEFAULTS } from '../core/defaults.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import { judgeLiveness } from '../core/liveness.js';
import { resolvePolicy } from '../core/policy.js';
import type { PolicyOverrides } from '../core/policy.js';
import { stallReason, timeoutReason } from '../core/reasons.js';
import type { Observed } from '../core/reasons.js';
import type { Run } from '../core/run.js';
import type { RunModeEndings } from '../endings/modes.js';
import { PullEndings } from '../endings/pull.js';
import { ChangeBell } from '../endings/wait.js';
import type { ChangeSignal } from '../endings/wait.js';
import type { ProgressUpdate } from '../store/run-types.js';
import type { Store } from '../store/store.js';
import { isUnreachable } from '../store/storage-errors.js';
import { Absences } from './absences.js';
import { policiesFor } from './policies.js';

/** What this host has heard from a pull run since its last batch. */
interface Heard {
  lastProgressWall: number | null;
  lastHeartbeatWall: number | null;
  progressCount: number;
  note: string | null;
  dirty: boolean;
}

/** What the pull supervisor needs from its host. */
export interface PullSupervisorOptions {
  store: Store;
  host: string;
  clock: Clock;
  config: PolicyOverrides;
  progressFlushMs?: number;
  /** How long a pull worker's lease lasts without a renewal. */
  leaseTtlMs?: number;
  /**
   * Settles at the host's next change (a stop waits on it), or after the given time. Without
   * it, a stop waits on this supervisor's own closes.
   */
  changed?: ChangeSignal;
  log?: (line: string) => void;
  onRunEnded?: () => void;
}

/**
 * Watches runs held by pull workers (SPEC §4): their leases, their progress and their
 * limits; their endings go through `PullEndings`.
 */
export class PullSupervisor implements RunModeEndings {
  readonly mode = 'pull' as const;
  readonly endings: PullEndings;
  private readonly heard = new Map<number, Heard>();
  private lastFlush: number;
  private ticking = false;
  /** This `serve`'s absences, once it watches for them (`watchAbsences`). */
  private absences: Absences | null = null;
  private beats: NodeJS.Timeout | null = null;
  /** The open leases being moved on past an absence of this `serve`; null when none are. */
  private catchingUp: Promise<void> | null = null;
  /** The store could not be reached (`storeFailed`) and has not been seen to answer since. */
  private storeAway = false;

  constructor(private readonly opts: PullSupervisorOptions) {
    this.lastFlush = opts.clock.monotonic();
    const bell = new ChangeBell();
    this.endings = new PullEndings({
      store: opts.store,
      host: opts.host,
      clock: opts.clock,
      config: opts.config,
      changed: opts.changed ?? bell.wait,
      progressOf: (run) => this.progressOf(run),
      forget: (runId) => this.heard.delete(runId),
      onRunEnded: () => {
        bell.ring();
        opts.onRunEnded?.();
      },
    });
  }

  /** How long a pull worker's lease lasts without a renewal. */
  get leaseTtlMs(): number {
    return this.opts.leaseTtlMs ?? PULL_DEFAULTS.lease_ttl_ms;
  }

  /**
   * From now on notes, a few times a second, that `serve` runs, so that a span in which it did
   * not is seen (`present`). `serve` calls it as it starts; a supervisor that never does (tests
   * that move a clock by hand) sees no absences.
   */
  watchAbsences(): void {
    if (this.absences !== null) return;
    this.absences = new Absences(this.opts.clock, PULL_DEFAULTS.absence_ms);
    this.beats = setInterval(() => void this.present(), PULL_DEFAULTS.beat_every_ms);
    this.beats.unref();
  }

  /**
   * As `serve` starts, before it answers: every open lease gets a TTL from now to be renewed in.
   * No worker could renew while `serve` was down, and how long that was is not known, so a
   * lease that lapsed meanwhile is not taken for a dead worker's until its worker has had that
   * time (SPEC §3: a restart is never counted against a task). A dead worker's runs end a TTL
   * after the start rather than at it.
   */
  async graceAtStart(): Promise<void> {
    try {
      const n = await this.opts.store.graceLeases(this.leaseTtlMs);
      if (n > 0)
        this.opts.log?.(
          `${n} pull lease(s) given ${formatDuration(this.leaseTtlMs)} from now to be renewed in, as none could be while serve was down`,
        );
    } catch (err) {
      // The start goes on: what fails here fails again, and is said, at its next write.
      this.opts.log?.(`giving the pull leases time at the start failed: ${String(err)}`);
    }
  }

  /**
   * The host's tick failed. If the store could not be reached (PostgreSQL down or cut off),
   * no worker can renew through any `serve` until it answers again, so then, before any lease
   * is read (`present`), every open lease gets a TTL to be renewed in, as at a start. Other
   * failures change nothing: a tick that fails for a bug must not keep every lease alive.
   */
  storeFailed(err: unknown): void {
    if (isUnreachable(err)) this.storeAway = true;
  }

  /** Stops the beats of `watchAbsences`. */
  stopWatching(): void {
    if (this.beats !== null) clearInterval(this.beats);
    this.beats = null;
  }

  /**
   * Notes that `serve` runs now (its beats, its tick, and every pull request before it reads a
   * lease: after a suspend a request can come before the beats' timer). After an absence of
   * `serve` (see `Absences`) every open lease is first moved on by it, as no worker could renew
   * through a `serve` that did not run: what this returns then settles once they have moved,
   * and whatever reads a lease's expiry waits for it. Null otherwise, so a request pays nothing.
   */
  present(): Promise<void> | null {
    const absence = this.absences?.beat() ?? null;
    if (absence !== null) {
      const seconds = (absence.ms / 1000).toFixed(1);
      const moving = (this.catchingUp ?? Promise.resolve())
        .then(() => this.opts.store.extendLeases(absence.ms))
        .then(
          (n) =>
            this.opts.log?.(
              `serve did not run for ${seconds} s (suspended, stopped, or its event loop held); ${n} pull lease(s) moved on by that, and pull runs' silences do not count it`,
            ),
          (err: unknown) =>
            this.opts.log?.(
              `serve did not run for ${seconds} s; moving the pull leases on failed: ${String(err)}`,
            ),
        )
        .finally(() => {
          if (this.catchingUp === moving) this.catchingUp = null;
        });
      this.catchingUp = moving;
    } else if (this.storeAway && this.catchingUp === null) {
      // Tried at every beat until the store answers; quiet meanwhile (the tick says it once).
      const moving = this.opts.store
        .graceLeases(this.leaseTtlMs)
        .then(
          (n) => {
            this.storeAway = false;
            this.opts.log?.(
              `the store answers again: ${n} pull lease(s) given ${formatDuration(this.leaseTtlMs)} from now to be renewed in, as none could be while it did not`,
            );
          },
          () => undefined,
        )
        .finally(() => {
          if (this.catchingUp === moving) this.catchingUp = null;
        });
      this.catchingUp = moving;
    }
    return this.catchingUp;
  }

  /** A `progress` or `heartbeat` call of a pull run reached this host. */
  noteCall(runId: number, kind: 'progress' | 'heartbeat', note?: string): void {
    const h = this.heard.get(runId) ?? {
      lastProgressWall: null,
      lastHeartbeatWall: null,
      progressCount: 0,
      note: null,
      dirty: false,
    };
    const wall = this.opts.clock.now();
    h.lastHeartbeatWall = wall;
    if (kind === 'progress') {
      h.lastProgressWall = wall;
      h.progressCount += 1;
    }
    if (note !== undefined) h.note = note.slice(0, 500);
    h.dirty = true;
    this.heard.set(runId, h);
  }

  private progressOf(run: Run): ProgressUpdate {
    const h = this.heard.get(run.id);
    return {
      runId: run.id,
      last_progress_at: h?.lastProgressWall ?? null,
      last_heartbeat_at: h?.lastHeartbeatWall ?? null,
      progress_count: run.progress_count + (h?.progressCount ?? 0),
      last_note: h?.note ?? null,
    };
  }

  /**
   * A worker reported a result (complete, fail, block, review): its handler is done. There is
   * nothing left to end: a pull run's accepted report closes it in its own transaction (the
   * store's `report`, given the host's context by every route that takes one), so reading the
   * run again here, as this did at every report, only ever found it closed.
   */
  reported(_runId: number): Promise<void> {
    return Promise.resolve();
  }

  /** The worker acknowledged cancellations: those handlers have stopped. */
  acknowledge(leaseId: string, runIds: readonly number[]): Promise<void> {
    return this.endings.acknowledge(leaseId, runIds);
  }

  /** A worker closed its lease: whatever it still held is lost. */
  closeLease(id: string): Promise<void> {
    return this.endings.endLapsed({ id, reason: 'closed by the worker' });
  }

  /** Stops a pull run for a person; see `PullEndings.stop`. */
  stop(run: Run, by: string, intent: StopIntent): Promise<EndResult> {
    return this.endings.stop(run, by, intent, this.leaseTtlMs);
  }

  /** One pass: lapsed leases, silent or overlong pull runs, and the progress batch. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.present();
      await this.endings.endLapsed();
      const runs = await this.opts.store.openRuns(null);
      const policies = await policiesFor(this.opts.store, this.opts.config, runs);
      const now = this.opts.clock.now();
      for (const run of runs) {
        if (run.state !== 'running') continue;
        const policy = policies.get(run.id) ?? resolvePolicy(this.opts.config);
        const h = this.heard.get(run.id);
        const lastProgress = Math.max(run.last_progress_at ?? 0, h?.lastProgressWall ?? 0) || null;
        // Pull runs live on other machines: their times are the store's wall clock, less the
        // time this serve did not run, when nothing they sent could be heard.
        const credited = (at: number): number => at + (this.absences?.since(at) ?? 0);
        const verdict = judgeLiveness(
          {
            started: credited(run.started_at),
            lastProgress: lastProgress === null ? null : credited(lastProgress),
            warned: run.stall_warned_at !== null,
          },
          policy,
          now,
        );
        const seen = (): Observed => ({
          host: this.opts.host,
          attempt: run.attempt,
          limits: { stall_timeout: policy.stall_timeout, max_runtime: policy.max_runtime },
          last_progress_at: lastProgress,
          last_heartbeat_at:
            Math.max(run.last_heartbeat_at ?? 0, h?.lastHeartbeatWall ?? 0) || null,
          worker: run.worker_id,
        });
        if (verdict.action === 'warn') {
          await this.opts.store.markStallWarning(run.id, this.opts.host, {
            silent_ms: verdict.silentFor,
            stall_warn_after: policy.stall_warn_after,
            stall_timeout: policy.stall_timeout,
            worker: run.worker_id,
          });
        } else if (verdict.action === 'stall') {
          await this.endings.fence(run, 'stalled', stallReason(verdict.silentFor, policy, seen()));
        } else if (verdict.action === 'timeout') {
          await this.endings.fence(run, 'timed_out', timeoutReason(verdict.ranFor, policy, seen()));
        }
      }
      const flushEvery = this.opts.progressFlushMs ?? SUPERVISOR_DEFAULTS.progress_flush_ms;
      if (this.opts.clock.monotonic() - this.lastFlush >= flushEvery) await this.flush();
    } finally {
      this.ticking = false;
    }
  }

  /** Writes what this host heard from pull runs, in one batch. */
  async flush(): Promise<void> {
    this.lastFlush = this.opts.clock.monotonic();
    const batch: ProgressUpdate[] = [];
    for (const [runId, h] of this.heard) {
      if (!h.dirty) continue;
      h.dirty = false;
      batch.push({
        runId,
        last_progress_at: h.lastProgressWall,
        last_heartbeat_at: h.lastHeartbeatWall,
        last_note: h.note,
      });
    }
    await this.opts.store.recordProgress(batch);
  }
}
