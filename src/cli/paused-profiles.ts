import type { PausedProfile } from '../core/describe.js';
import type { Task } from '../core/task.js';
import type { Store } from '../store/store.js';

/**
 * The paused profiles among the assignees of the listed `ready` tasks, so each such card says
 * what holds it ("held: profile p is paused by its breaker"), not nothing: a paused profile's
 * tasks stay ready and none starts. One read, and none when no listed task is ready.
 */
export async function pausedProfiles(
  store: Store,
  tasks: readonly Task[],
  into: Map<string, PausedProfile>,
): Promise<void> {
  if (!tasks.some((t) => t.status === 'ready' && t.assignee !== null)) return;
  for (const p of await store.listProfiles()) if (p.paused) into.set(p.name, p);
}
