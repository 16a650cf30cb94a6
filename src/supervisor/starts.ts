import type { StopIntent } from '../core/ending.js';

/** Why a start was stopped by a person: the reason its signal was aborted with. */
export class PersonStop {
  constructor(
    readonly by: string,
    readonly intent: StopIntent,
  ) {}
}

/** A run whose worker is being started (its worktree made, its shim spawned). */
export interface StartUnderWay {
  runId: number;
  taskId: number;
  attempt: number;
}

interface Entry extends StartUnderWay {
  abort: AbortController;
  done: Promise<void>;
}

/**
 * The starts under way on this host, so that a person's stop reaches a run whose worker is not
 * running yet: a worktree being made can take a minute, and a stop then is no less meant.
 */
export class StartsUnderWay {
  private readonly starts = new Map<number, Entry>();

  /** Runs `start` with a signal that `outer` (serve stopping) or a person's stop aborts. */
  run(
    run: StartUnderWay,
    outer: AbortSignal | undefined,
    start: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const abort = new AbortController();
    const signal = outer ? AbortSignal.any([outer, abort.signal]) : abort.signal;
    const done = start(signal).finally(() => this.starts.delete(run.runId));
    this.starts.set(run.runId, { ...run, abort, done });
    return done;
  }

  /**
   * Stops the start of the task's run for a person and waits for it to be done (its git killed,
   * or its worker spawned already). The run it was, or null when none of the task's is starting.
   */
  async stop(taskId: number, stop: PersonStop): Promise<StartUnderWay | null> {
    const entry = [...this.starts.values()].find((s) => s.taskId === taskId);
    if (entry === undefined) return null;
    entry.abort.abort(stop);
    await entry.done.catch(() => undefined);
    return { runId: entry.runId, taskId: entry.taskId, attempt: entry.attempt };
  }
}
