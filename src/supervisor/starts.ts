import type { EndResult, StopIntent } from '../core/ending.js';

/** A person's stop of a run whose worker is still starting. */
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

/** What a start is told while it runs. */
export interface StartControl {
  /** Aborted by `serve` stopping or by a person's stop: it kills the worktree's git. */
  signal: AbortSignal;
  /** The person's stop that came, if one did: the start ends its run for them. */
  stoppedBy(): PersonStop | null;
}

interface Entry extends StartUnderWay {
  abort: AbortController;
  stop: PersonStop | null;
  done: Promise<EndResult | void>;
}

/**
 * The starts under way on this host, so that a person's stop reaches a run whose worker is not
 * running yet: a worktree being made can take a minute, and a stop then is no less meant. The
 * start itself ends the run for the person, while its claim is still reserved (a tick meanwhile
 * would take the run for one whose serve died before starting it).
 */
export class StartsUnderWay {
  private readonly starts = new Map<number, Entry>();

  /**
   * Runs `start`, which may end its run for a person's stop (giving that ending), with a signal
   * that `outer` (serve stopping) or a person's stop aborts.
   */
  async run(
    run: StartUnderWay,
    outer: AbortSignal | undefined,
    start: (control: StartControl) => Promise<EndResult | void>,
  ): Promise<void> {
    const abort = new AbortController();
    // Passed on by a listener removed at the end, not `AbortSignal.any`, whose every call
    // leaves a reference on `outer` for the collector to clear, one per start.
    const passOn = (): void => abort.abort(outer?.reason);
    if (outer?.aborted) passOn();
    else outer?.addEventListener('abort', passOn, { once: true });
    const entry: Entry = { ...run, abort, stop: null, done: Promise.resolve() };
    entry.done = start({ signal: abort.signal, stoppedBy: () => entry.stop });
    this.starts.set(run.runId, entry);
    try {
      await entry.done;
    } finally {
      this.starts.delete(run.runId);
      outer?.removeEventListener('abort', passOn);
    }
  }

  /**
   * Stops the start of the task's run for a person and waits for it to be done. Gives the run
   * and the ending the start made for the stop (null when its worker was spawned first, or its
   * start ended otherwise), or null when none of the task's runs is starting.
   */
  async stop(
    taskId: number,
    stop: PersonStop,
  ): Promise<{ run: StartUnderWay; ended: EndResult | null } | null> {
    const entry = [...this.starts.values()].find((s) => s.taskId === taskId);
    if (entry === undefined) return null;
    entry.stop ??= stop;
    entry.abort.abort(stop);
    const ended = await entry.done.catch(() => undefined);
    return {
      run: { runId: entry.runId, taskId: entry.taskId, attempt: entry.attempt },
      ended: ended ?? null,
    };
  }
}
