import type { EndResult, StopIntent } from '../core/ending.js';
import type { Run, RunMode } from '../core/run.js';

/**
 * How a host ends and hears the runs of one mode (SPEC §4): spawned runs (a process group on
 * some host) and pull runs (a lease held by an external worker) implement it, and `serve`
 * routes each stop and each worker signal by the run's mode.
 */
export interface RunModeEndings {
  readonly mode: RunMode;
  /**
   * Ends a task's run `stopped` for a person and waits until it is verified over: its
   * processes gone, or its worker let go; or says why it is not yet. Null when this host
   * cannot end it (a spawned run it does not watch yet).
   */
  stop(run: Run, by: string, intent: StopIntent): Promise<EndResult | null>;
  /** A worker's `progress` or `heartbeat` call reached this host. */
  noteCall(runId: number, kind: 'progress' | 'heartbeat', note?: string): void;
  /** A worker's report (complete, fail, block, review) was accepted: its run is ending. */
  reported(runId: number): Promise<void>;
}
