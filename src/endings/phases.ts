import { ENDING_TIMINGS } from '../core/defaults.js';
import { ESCAPED_LISTED } from '../core/ending.js';
import type { EndingPhases, Escapee } from '../core/ending.js';
import type { ProcessLayer, RunProcesses } from './process-layer.js';

/**
 * Where the ending of a spawned run stands (SPEC §3 "Ending a run is one function"):
 * `waiting_exit`: a worker reported its result and has a grace to exit by itself;
 * `start`: signal the run's processes; `term`: SIGTERM sent; `kill`: SIGKILL sent;
 * `held`: they would not die (`kill_failed`); SIGKILL is sent again at every look.
 */
export type Phase = 'waiting_exit' | 'start' | 'term' | 'kill' | 'held';

/** What one look at an ending found. */
export type Step =
  /** No process of the run is left: the run may be closed. */
  | 'gone'
  /** Still ending: look again soon. */
  | 'pending'
  /** A process of the run survived SIGKILL just now (`kill_failed`): the task stays held. */
  | 'held'
  /** Still held: looked at again at the next tick. */
  | 'holding';

/**
 * The phase machine of one ending: SIGTERM → grace → SIGKILL → verify no process of the run is
 * left → `held`. The run's processes are its group and those found outside it (its cgroup, or
 * its environment: `process-layer.ts`), which are listed as escaped. It records what each
 * phase did and when, on the monotonic clock, for the reason.
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
    readonly target: RunProcesses,
    graceMs: number,
    now: number,
    waitExitMs: number | null,
  ) {
    this.graceMs = graceMs;
    this.began = now;
    this.phase = waitExitMs === null ? 'start' : 'waiting_exit';
    this.deadline = waitExitMs === null ? now : now + waitExitMs;
    this.record = { pid: target.pgid, pgid: target.pgid, grace_ms: graceMs };
  }

  get pgid(): number {
    return this.target.pgid;
  }

  /** Skips what grace is left: SIGKILL at the next look (`stop --now`, a lost run). */
  hurry(): void {
    this.graceMs = 0;
    this.record.grace_ms = 0;
    if (this.phase === 'waiting_exit' || this.phase === 'term') this.phase = 'start';
  }

  /** One look at the run's processes, sending the signal its phase calls for. */
  step(now: number, processes: ProcessLayer): Step {
    const at = Math.max(0, Math.round(now - this.began));
    // Looked for only when it decides something (whether any is left, whom to signal): without
    // a cgroup it is a walk through every process's environment.
    const seen: { outside?: Escapee[] } = {};
    const escaped = (): Escapee[] => (seen.outside ??= this.note(processes.escaped(this.target)));
    if (!processes.groupAlive(this.pgid) && escaped().length === 0) {
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
        if (this.graceMs === 0) return this.kill(now, at, processes, escaped());
        this.signal(processes, 'SIGTERM', escaped());
        this.record.term_at_ms = at;
        this.phase = 'term';
        this.deadline = now + this.graceMs;
        return 'pending';
      case 'term':
        if (now < this.deadline) return 'pending';
        this.record.term_ignored = true;
        return this.kill(now, at, processes, escaped());
      case 'kill':
        // One still alive outside the group (forked since SIGKILL was sent, say) gets it again.
        if (seen.outside?.length) this.signal(processes, 'SIGKILL', seen.outside);
        if (now < this.deadline) return 'pending';
        this.phase = 'held';
        this.record.held_at_ms = at;
        return 'held';
      case 'held':
        this.signal(processes, 'SIGKILL', escaped());
        return 'holding';
    }
  }

  /** Escaped processes not seen before, added to the record (the first `ESCAPED_LISTED`). */
  private note(found: Escapee[]): Escapee[] {
    const known = this.record.escaped ?? [];
    for (const p of found) {
      if (known.length >= ESCAPED_LISTED) break;
      if (!known.some((k) => k.pid === p.pid)) known.push(p);
    }
    if (known.length > 0) this.record.escaped = known;
    return found;
  }

  private signal(processes: ProcessLayer, signal: 'SIGTERM' | 'SIGKILL', out: Escapee[]): void {
    processes.signalGroup(this.pgid, signal);
    processes.signalEscaped(
      this.target,
      out.map((p) => p.pid),
      signal,
    );
  }

  private kill(now: number, at: number, processes: ProcessLayer, out: Escapee[]): Step {
    this.signal(processes, 'SIGKILL', out);
    this.record.kill_at_ms = at;
    this.phase = 'kill';
    this.deadline = now + ENDING_TIMINGS.kill_verify_ms;
    return 'pending';
  }
}
