import { person } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import { ENDING_TIMINGS } from '../core/defaults.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import { stoppedReason } from '../core/reasons.js';
import type { Run } from '../core/run.js';
import type { Store } from '../store/store.js';
import { waitForRunEnd } from './wait.js';
import type { ChangeSignal } from './wait.js';

/**
 * Several hosts: stops a spawned run that another host supervises (SPEC §6, from any host's
 * API or dashboard). Its processes are on that host, so this only fences the run in the
 * store, with the person's intent, and from then on its writes are refused; the owning host
 * sees the fenced run at its next look and ends it through its one ending path (honouring
 * `now`). Waits for the run to be closed.
 */
export async function stopElsewhere(
  deps: { store: Store; host: string; clock: Clock; changed: ChangeSignal },
  run: Run,
  by: string,
  intent: StopIntent,
): Promise<EndResult> {
  const { store, host, clock, changed } = deps;
  const owner = run.host_id ?? '?';
  const reason = stoppedReason(by, intent, { host: owner, attempt: run.attempt });
  reason.extra = { via: host };
  await store.beginEnding(run.id, 'stopped', reason, person(by), intent);
  const ended = await waitForRunEnd(store, clock, changed, run.id, ENDING_TIMINGS.stop_wait_ms);
  if (ended) {
    return {
      run_id: run.id,
      outcome: ended.outcome ?? 'stopped',
      verified_gone: true,
      message: `run ${run.id} ended ${ended.outcome ?? 'stopped'} on host ${owner}; its processes are gone`,
    };
  }
  return {
    run_id: run.id,
    outcome: 'stopped',
    verified_gone: false,
    message: `run ${run.id} is fenced (its writes are refused) but host ${owner} has not ended it yet; it does at its next look, or other hosts end it host_lost if its lease lapses`,
  };
}
