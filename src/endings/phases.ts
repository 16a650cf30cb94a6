import { ENDING_TIMINGS } from '../core/defaults.js';
import type { EndingPhases } from '../core/ending.js';
import type { ProcessLayer } from './process-layer.js';

/**
 * Where the ending of a spawned run stands (SPEC §3 "Ending a run is one function"):
 * `waiting_exit`: a worker reported its result and has a grace to exit by itself;
 * `start`: signal the group; `term`: SIGTERM sent; `kill`: SIGKILL sent;
 * `held`: the group would not die (`kill_failed`); SIGKILL is sent again at every look.
 */
export type Phase = 'waiting_exit' | 'start' | 'term' | 'kill' | 'held';

/** What one look at an ending found. */
export type Step =
  /** The group is verified empty: the run may be closed. */
  | 'gone'
  /** Still ending: look again soon. */
  | 'pending'
  /** The group survived SIGKILL just now (`kill_failed`): the task stays held. */
  | 'held'
  /** Still held: looked at again at the next tick. */
  | 'holding';

/**
 * The phase machine of one ending: SIGTERM → grace → SIGKILL → verify the group is empty →
 * `held`. It records what each phase did and when, on the monotonic clock, for the reason.
 */
export class GroupEnding {
  phase: Phase;
  private deadline: number;
  private graceMs: number;
  private readonly began: number;
  readonly record: EndingPhases;

  /**
   * @param now the monotonic time the ending began
   * @param waitExitMs a worker that reported its result gets this long to exit by itself
   */
  constructor(
    readonly pgid: number,
    graceMs: number,
    now: number,
    waitExitMs: number | null,
  ) {
    this.graceMs = graceMs;
    this.began = now;
    this.phase = waitExitMs === null ? 'start' : 'waiting_exit';
    this.deadline = waitExitMs === null ? now : now + waitExitMs;
    this.record = { pid: pgid, pgid, grace_ms: graceMs };
  }

  /** Skips what grace is left: SIGKILL at the next look (`stop --now`, a lost run). */
  hurry(): void {
    this.graceMs = 0;
    this.record.grace_ms = 0;
    if (this.phase === 'waiting_exit' || this.phase === 'term') this.phase = 'start';
  }

  /** One look at the group, sending the signal its phase calls for. */
  step(now: number, processes: ProcessLayer): Step {
    const at = Math.max(0, Math.round(now - this.began));
    if (!processes.groupAlive(this.pgid)) {
      this.record.empty_at_ms ??= at;
      return 'gone';
    }
    switch (this.phase) {
      case 'waiting_exit':
        if (now < this.deadline) return 'pending';
        this.record.waited_exit_ms = at;
        this.phase = 'start';
        return this.step(now, processes);
      case 'start':
        if (this.graceMs === 0) return this.kill(now, at, processes);
        processes.signalGroup(this.pgid, 'SIGTERM');
        this.record.term_at_ms = at;
        this.phase = 'term';
        this.deadline = now + this.graceMs;
        return 'pending';
      case 'term':
        if (now < this.deadline) return 'pending';
        this.record.term_ignored = true;
        return this.kill(now, at, processes);
      case 'kill':
        if (now < this.deadline) return 'pending';
        this.phase = 'held';
        this.record.held_at_ms = at;
        return 'held';
      case 'held':
        processes.signalGroup(this.pgid, 'SIGKILL');
        return 'holding';
    }
  }

  private kill(now: number, at: number, processes: ProcessLayer): Step {
    processes.signalGroup(this.pgid, 'SIGKILL');
    this.record.kill_at_ms = at;
    this.phase = 'kill';
    this.deadline = now + ENDING_TIMINGS.kill_verify_ms;
    return 'pending';
  }
}
