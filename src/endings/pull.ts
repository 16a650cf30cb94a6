import { dispatcher, person } from '../core/actor.js';
import type { Actor } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import { ENDING_TIMINGS } from '../core/defaults.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import type { PolicyOverrides } from '../core/policy.js';
import { ACKNOWLEDGED, leaseLostReason, stoppedReason } from '../core/reasons.js';
import type { Run, RunReason } from '../core/run.js';
import type { Outcome } from '../core/status.js';
import type { ProgressUpdate } from '../store/run-types.js';
import type { Store } from '../store/store.js';
import { waitForRunEnd } from './wait.js';
import type { ChangeSignal } from './wait.js';

/** What the endings of pull runs need from their host. */
export interface PullEndingsOptions {
  store: Store;
  host: string;
  clock: Clock;
  config: PolicyOverrides;
  /** Settles at the host's next change, or after the given time. */
  changed: ChangeSignal;
  /** The progress this host heard from the run, written with its ending. */
  progressOf: (run: Run) => ProgressUpdate;
  /** The run is closed: forget what was heard from it. */
  forget: (runId: number) => void;
  onRunEnded?: () => void;
}

/**
 * Every ending of runs held by pull workers (SPEC §4). A pull run has no process here, so
 * ending one is: fence it, tell the worker in the answer to its next renewal, and close it
 * when the worker acknowledges (its handler has stopped), reports, or its lease lapses. A
 * lapsed lease ends its runs `lease_lost`.
 */
export class PullEndings {
  private readonly actor: Actor;

  constructor(private readonly opts: PullEndingsOptions) {
    this.actor = dispatcher(opts.host);
  }

  /** Fences a running pull run for a limit it passed (stall, runtime); its worker lets go. */
  async fence(run: Run, outcome: Outcome, reason: RunReason): Promise<void> {
    await this.opts.store.beginEnding(run.id, outcome, reason, this.actor);
  }

  /**
   * Closes a pull run, fencing it first if it is still running: one still `ending` closes
   * with what it was fenced with (a stop, a limit, the worker's report).
   */
  private async close(run: Run, outcome: Outcome, reason: RunReason): Promise<void> {
    const final =
      run.state === 'ending'
        ? { outcome: run.outcome ?? outcome, reason: run.reason ?? reason }
        : { outcome, reason };
    await this.opts.store.endRun(
      run.id,
      { ...final, progress: this.opts.progressOf(run) },
      { host: this.opts.host, config: this.opts.config },
      this.actor,
    );
    this.opts.forget(run.id);
    this.opts.onRunEnded?.();
  }

  /** The worker acknowledged cancellations: those handlers have stopped. */
  async acknowledge(leaseId: string, runIds: readonly number[]): Promise<void> {
    for (const id of runIds) {
      const run = await this.opts.store.getRun(id).catch(() => null);
      if (run?.worker_id !== leaseId || run.state !== 'ending') continue;
      await this.close(run, 'stopped', ACKNOWLEDGED);
    }
  }

  /** Ends the runs of leases that lapsed (or the one named), `lease_lost`. */
  async endLapsed(only?: { id: string; reason: string }): Promise<void> {
    for (const { lease, runs } of await this.opts.store.endLeases(only)) {
      await this.opts.store.writeEvent(this.actor, {
        kind: 'lease_ended',
        payload: { lease, reason: only?.reason ?? 'lapsed', runs },
      });
      for (const id of runs) {
        const run = await this.opts.store.getRun(id);
        if (run.state === 'ended') continue;
        await this.close(run, 'lease_lost', leaseLostReason(lease, this.opts.host, only?.reason));
      }
    }
  }

  /**
   * Stops a pull run for a person: fences it `stopped` with their intent, then waits until
   * its worker acknowledges (its handler stopped) or its lease lapses, whichever comes first.
   */
  async stop(run: Run, by: string, intent: StopIntent, leaseTtlMs: number): Promise<EndResult> {
    const { store, clock, changed } = this.opts;
    const reason = stoppedReason(by, intent, { host: this.opts.host, attempt: run.attempt });
    reason.extra = { worker: run.worker_id };
    await store.beginEnding(run.id, 'stopped', reason, person(by), intent);
    const waitMs = leaseTtlMs + ENDING_TIMINGS.pull_stop_margin_ms;
    const ended = await waitForRunEnd(store, clock, changed, run.id, waitMs);
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
