import type { Clock } from '../core/clock.js';
import type { LlmState } from '../core/llm.js';
import type { ProgressUpdate } from '../store/run-types.js';
import type { LiveRun } from './live-run.js';

/** A sign of progress: re-arms the stall warning and is written with the next batch. */
export function sawProgress(clock: Clock, live: LiveRun, wall: number): void {
  live.clock.lastProgress = clock.monotonic();
  live.clock.warned = false;
  live.lastProgressWall = wall;
  live.dirty = true;
}

/** A `progress` (or `heartbeat`) call of the worker. Heartbeats prove liveness only. */
export function noteCall(
  clock: Clock,
  live: LiveRun,
  kind: 'progress' | 'heartbeat',
  note?: string,
): void {
  const wall = clock.now();
  live.usedProtocol = true;
  live.lastHeartbeatWall = wall;
  if (note !== undefined) live.lastNote = note.slice(0, 500);
  if (kind === 'progress') {
    live.progressCount += 1;
    live.lastCallWall = wall;
    sawProgress(clock, live, wall);
  }
  live.dirty = true;
}

/**
 * Model traffic of the run through the proxy (issue #13): every request and streamed chunk is
 * progress, and so is time spent waiting for the model or queued for the upstream; `state`
 * (when given) is what the traffic does now, for the card and `doctor`.
 */
export function noteModel(clock: Clock, live: LiveRun, state?: LlmState | null): void {
  const wall = clock.now();
  sawProgress(clock, live, wall);
  if (state === undefined || state === (live.llm?.state ?? null)) return;
  live.llm = { state, since: state === null ? null : wall, changed: true };
}

/** The progress figures of a run, for the batch or its ending. */
export function progressOf(live: LiveRun): ProgressUpdate {
  const llm = live.llm?.changed ? live.llm : null;
  if (llm) llm.changed = false;
  return {
    ...(llm ? { llm_state: llm.state, llm_state_since: llm.since } : {}),
    runId: live.runId,
    last_progress_at: live.lastProgressWall,
    last_output_at: live.lastOutputWall,
    last_heartbeat_at: live.lastHeartbeatWall,
    ...(live.lastCallWall !== undefined ? { last_call_at: live.lastCallWall } : {}),
    output_bytes: live.outputBytes,
    progress_count: live.progressCount,
    last_note: live.lastNote,
  };
}
