import { dispatcher } from '../core/actor.js';
import type { Actor } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { judgeLiveness } from '../core/liveness.js';
import { resolvePolicy } from '../core/policy.js';
import type { PolicyOverrides } from '../core/policy.js';
import type { Run, RunReason } from '../core/run.js';
import type { ProgressUpdate } from '../store/run-types.js';
import type { Store } from '../store/store.js';
import { policiesFor } from './policies.js';
import type { EndResult, StopIntent } from './live-run.js';
import { stopIntentExtra } from './live-run.js';
import { waitForRunEnd } from './remote-stop.js';

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
  log?: (line: string) => void;
  onRunEnded?: () => void;
}

/**
 * Watches runs held by pull workers (SPEC §4): their leases, their progress and their
 * endings. A pull run has no process here, so ending one is: fence it, tell the worker in the
 * answer to its next renewal, and close it when the worker acknowledges (its handler has
 * stopped) or when its lease lapses. A lapsed lease ends its runs `lease_lost`.
 */
export class PullSupervisor {
  private readonly heard = new Map<number, Heard>();
  private readonly actor: Actor;
  private lastFlush: number;
  private ticking = false;

  constructor(private readonly opts: PullSupervisorOptions) {
    this.actor = dispatcher(opts.host);
    this.lastFlush = opts.clock.monotonic();
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

  /** Closes an `ending` pull run; its worker has let go (or can no longer act). */
  async close(run: Run, fallback: { outcome: Run['outcome']; reason: RunReason }): Promise<void> {
    const outcome = run.outcome ?? fallback.outcome ?? 'stopped';
    await this.opts.store.finishRun(
      run.id,
      { outcome, reason: run.reason ?? fallback.reason, progress: this.progressOf(run) },
      { host: this.opts.host, config: this.opts.config },
    );
    this.heard.delete(run.id);
    this.opts.onRunEnded?.();
  }

  /** A worker reported a result (complete, fail, block, review): its handler is done. */
  async reported(runId: number): Promise<void> {
    const run = await this.opts.store.getRun(runId);
    if (run.mode !== 'pull' || run.state !== 'ending') return;
    await this.close(run, {
      outcome: run.outcome,
      reason: run.reason ?? { rule: 'worker', message: '' },
    });
  }

  /** The worker acknowledged cancellations: those handlers have stopped. */
  async acknowledge(leaseId: string, runIds: readonly number[]): Promise<void> {
    for (const id of runIds) {
      const run = await this.opts.store.getRun(id).catch(() => null);
      if (run?.worker_id !== leaseId || run.state !== 'ending') continue;
      await this.close(run, {
        outcome: 'stopped',
        reason: { rule: 'acknowledged', message: 'cancelled' },
      });
    }
  }

  /** Ends the runs of leases that lapsed, `lease_lost`, through the same fence and accounting. */
  private async endLapsed(only?: { id: string; reason: string }): Promise<void> {
    for (const { lease, runs } of await this.opts.store.endLeases(only)) {
      await this.opts.store.writeEvent(this.actor, {
        kind: 'lease_ended',
        payload: { lease, reason: only?.reason ?? 'lapsed', runs },
      });
      for (const id of runs) {
        const reason: RunReason = {
          rule: 'lease_lost',
          message: `the worker's lease ${lease} ${only ? `was closed (${only.reason})` : 'lapsed without a renewal'}`,
          host: this.opts.host,
        };
        await this.opts.store.beginEnding(id, 'lease_lost', reason, this.actor);
        const run = await this.opts.store.getRun(id);
        if (run.state === 'ending') await this.close(run, { outcome: 'lease_lost', reason });
      }
    }
  }

  /** A worker closed its lease: whatever it still held is lost. */
  closeLease(id: string): Promise<void> {
    return this.endLapsed({ id, reason: 'closed by the worker' });
  }

  /** One pass: lapsed leases, silent or overlong pull runs, and the progress batch. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.endLapsed();
      const runs = await this.opts.store.openRuns(null);
      const policies = await policiesFor(this.opts.store, this.opts.config, runs);
      const now = this.opts.clock.now();
      for (const run of runs) {
        if (run.state !== 'running') continue;
        const policy = policies.get(run.id) ?? resolvePolicy(this.opts.config);
        const h = this.heard.get(run.id);
        const lastProgress = Math.max(run.last_progress_at ?? 0, h?.lastProgressWall ?? 0) || null;
        // Pull runs live on other machines: their times are the store's wall clock.
        const verdict = judgeLiveness(
          { started: run.started_at, lastProgress, warned: run.stall_warned_at !== null },
          policy,
          now,
        );
        if (verdict.action === 'warn') {
          await this.opts.store.markStallWarning(run.id, this.opts.host, {
            silent_ms: verdict.silentFor,
            stall_warn_after: policy.stall_warn_after,
            stall_timeout: policy.stall_timeout,
            worker: run.worker_id,
          });
        } else if (verdict.action === 'stall' || verdict.action === 'timeout') {
          const reason: RunReason = {
            rule: verdict.action === 'stall' ? 'stall_timeout' : 'max_runtime',
            message:
              verdict.action === 'stall'
                ? `silent for ${formatDuration(verdict.silentFor)} (stall_timeout ${formatDuration(policy.stall_timeout)})`
                : `ran for ${formatDuration(verdict.ranFor)} (max_runtime ${formatDuration(policy.max_runtime)})`,
            limits: { stall_timeout: policy.stall_timeout, max_runtime: policy.max_runtime },
            last_progress_at: lastProgress,
            last_heartbeat_at:
              Math.max(run.last_heartbeat_at ?? 0, h?.lastHeartbeatWall ?? 0) || null,
            host: this.opts.host,
            attempt: run.attempt,
            extra: { worker: run.worker_id },
          };
          await this.opts.store.beginEnding(
            run.id,
            verdict.action === 'stall' ? 'stalled' : 'timed_out',
            reason,
            this.actor,
          );
        }
      }
      if (this.opts.clock.monotonic() - this.lastFlush >= (this.opts.progressFlushMs ?? 15_000))
        await this.flush();
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

  /**
   * Stops a pull run: fences it `stopped` with the person's intent, then waits until its
   * worker acknowledges (its handler stopped) or its lease lapses, whichever comes first.
   */
  async stop(
    taskId: number,
    by: string,
    intent: StopIntent,
    waitMs: number,
  ): Promise<EndResult | null> {
    const task = await this.opts.store.getTask(taskId);
    if (task.current_run_id === null) return null;
    const run = await this.opts.store.getRun(task.current_run_id);
    if (run.mode !== 'pull') return null;
    const reason: RunReason = {
      rule: 'stopped_by',
      message: intent.reason ?? `stopped by ${by}`,
      host: this.opts.host,
      attempt: run.attempt,
      extra: { worker: run.worker_id, ...stopIntentExtra(intent) },
    };
    await this.opts.store.beginEnding(run.id, 'stopped', reason, this.actor);
    const ended = await waitForRunEnd(this.opts.store, this.opts.clock, run.id, waitMs, () =>
      this.endLapsed(),
    );
    if (ended) {
      return {
        run_id: run.id,
        outcome: ended.outcome ?? 'stopped',
        verified_gone: true,
        message: `run ${run.id} ended ${ended.outcome ?? 'stopped'}; its worker let go`,
      };
    }
    return {
      run_id: run.id,
      outcome: 'stopped',
      verified_gone: false,
      message: `run ${run.id} is fenced (its writes are refused) but its worker has not acknowledged yet; it ends when the worker renews or its lease lapses`,
    };
  }
}
