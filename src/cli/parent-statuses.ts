import type { Task } from '../core/task.js';
import type { Store } from '../store/store.js';

/** Most parents outside the listing `list` reads to say what holds a waiting task. */
const MAX_PARENT_READS = 100;

/**
 * The statuses of the parents of the listed `todo` tasks, so each card says what holds it
 * ("held by #8 (blocked)"): from the listing itself, else read (a bounded number).
 */
export async function parentStatuses(
  store: Store,
  tasks: readonly Task[],
  into: Map<number, string>,
): Promise<void> {
  for (const t of tasks) into.set(t.id, t.status);
  const missing = new Set<number>();
  for (const t of tasks) {
    if (t.status !== 'todo') continue;
    for (const p of t.parents) if (!into.has(p)) missing.add(p);
  }
  const ids = [...missing].slice(0, MAX_PARENT_READS);
  if (ids.length === 0) return;
  // One read for all of them, not one per parent.
  for (const p of await store.listTasks({ ids, include_archived: true, limit: ids.length })) {
    into.set(p.id, p.status);
  }
}
