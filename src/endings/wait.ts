import type { Clock } from '../core/clock.js';
import type { Run } from '../core/run.js';
import type { Store } from '../store/store.js';

/**
 * Settles at the host's next sign that something changed (a run closed here, another process
 * committed), or after `ms` at the latest.
 */
export type ChangeSignal = (ms: number) => Promise<void>;

/**
 * Waits for a fenced run to be closed by whoever ends it (its worker letting go, its lease
 * lapsing, its host's next look), looking again at each change, for up to `waitMs`; the ended
 * run, or null when time ran out.
 */
export async function waitForRunEnd(
  store: Store,
  clock: Clock,
  changed: ChangeSignal,
  runId: number,
  waitMs: number,
): Promise<Run | null> {
  const deadline = clock.monotonic() + waitMs;
  for (;;) {
    const run = await store.getRun(runId);
    if (run.state === 'ended') return run;
    const left = deadline - clock.monotonic();
    if (left <= 0) return null;
    await changed(left);
  }
}

/**
 * A change signal of one's own: `ring` settles every waiter. For a part that closes runs
 * without a host around it (tests, a tool): its own closes are the changes it waits on.
 */
export class ChangeBell {
  private waiters: (() => void)[] = [];

  /** Settles every waiting `wait`. */
  ring(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Settles at the next `ring`, or after `ms`. */
  readonly wait: ChangeSignal = (ms) =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.waiters.push(done);
    });
}
