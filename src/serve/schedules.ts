import { dispatcher } from '../core/actor.js';
import type { Store } from '../store/store.js';

/**
 * Fires this host's share of the due schedules (issue #14), from `serve`'s tick before the
 * dispatcher's pass, so a task a firing creates can start in the same tick. Several hosts may
 * all call it: the store makes one task per firing. It never throws: a failing firing is
 * logged and tried again at the next tick, and the rest of the tick goes on.
 */
export async function fireSchedules(
  store: Store,
  hostId: string,
  log?: (line: string) => void,
): Promise<number> {
  try {
    const fired = await store.fireDueSchedules(dispatcher(hostId));
    for (const f of fired) {
      if (f.task_id !== null) log?.(`schedule ${f.schedule}: created task ${f.task_id}`);
      if (f.missed > 0) log?.(`schedule ${f.schedule}: ${f.missed} missed firings`);
    }
    return fired.filter((f) => f.task_id !== null).length;
  } catch (err) {
    log?.(`schedules: ${(err as Error).message}`);
    return 0;
  }
}
