import { dispatcher } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import type { Run, RunReason } from '../core/run.js';
import type { Store } from '../store/store.js';
import type { EndResult, StopIntent } from './live-run.js';
import { stopIntentExtra } from './live-run.js';

/**
 * Several hosts: stops a spawned run that another host supervises (SPEC §6, from any host's
 * API or dashboard). Its processes are on that host, so this only fences the run in the
 * store — from then on its writes are refused — with the person's intent on its reason; the
 * owning host sees the fenced run at its next look and ends it through its one ending path.
 * Waits up to `waitMs` for the run to be closed. Null when the task's run is not another
 * host's spawned run.
 */
export async function stopElsewhere(
  opts: { store: Store; host: string; clock: Clock },
  taskId: number,
  by: string,
  intent: StopIntent,
  waitMs: number,
): Promise<EndResult | null> {
  const { store, host, clock } = opts;
  const task = await store.getTask(taskId);
  if (task.current_run_id === null) return null;
  const run = await store.getRun(task.current_run_id);
  if (run.mode !== 'spawned' || run.host_id === null || run.host_id === host) return null;
  const reason: RunReason = {
    rule: 'stopped_by',
    message: intent.reason ?? `stopped by ${by}`,
    host: run.host_id,
    attempt: run.attempt,
    extra: { ...stopIntentExtra(intent), ...(intent.now ? { now: true } : {}), via: host },
  };
  await store.beginEnding(run.id, 'stopped', reason, dispatcher(host));
  const ended = await waitForRunEnd(store, clock, run.id, waitMs);
  if (ended) {
    return {
      run_id: run.id,
      outcome: ended.outcome ?? 'stopped',
      verified_gone: true,
      message: `run ${run.id} ended ${ended.outcome ?? 'stopped'} on host ${run.host_id}; its processes are gone`,
    };
  }
  return {
    run_id: run.id,
    outcome: 'stopped',
    verified_gone: false,
    message: `run ${run.id} is fenced (its writes are refused) but host ${run.host_id} has not ended it yet; it does at its next look, or other hosts end it host_lost if its lease lapses`,
  };
}

/**
 * Waits for a fenced run to be closed by whoever ends it, looking every 50 ms (after
 * `between`, if given) for up to `waitMs`; the ended run, or null when time ran out.
 */
export async function waitForRunEnd(
  store: Store,
  clock: Clock,
  runId: number,
  waitMs: number,
  between?: () => Promise<unknown>,
): Promise<Run | null> {
  const deadline = clock.monotonic() + waitMs;
  for (;;) {
    const run = await store.getRun(runId);
    if (run.state === 'ended') return run;
    if (clock.monotonic() > deadline) return null;
    await between?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}
