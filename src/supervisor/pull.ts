import type { Clock } from '../core/clock.js';
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
import { LeaseGrace } from './lease-grace.js';
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
  /** Keeps `serve`'s and the store's absences from lapsing leases or silencing runs. */
  readonly grace: LeaseGrace;

  constructor(private readonly opts: PullSupervisorOptions) {
    this.lastFlush = opts.clock.monotonic();
    this.grace = new LeaseGrace({
      store: opts.store,
      clock: opts.clock,
      ttlMs: this.leaseTtlMs,
      ...(opts.log ? { log: opts.log } : {}),
    });
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
      await this.grace.present();
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
        const verdict = judgeLiveness(
          {
            started: this.grace.credited(run.started_at),
            lastProgress: lastProgress === null ? null : this.grace.credited(lastProgress),
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
            silent_ms: Math.round(verdict.silentFor),
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
