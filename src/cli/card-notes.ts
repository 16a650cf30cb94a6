import type { PausedProfile } from '../core/describe.js';
import type { Task } from '../core/task.js';
import type { Store } from '../store/store.js';

/** Most parents outside the listing `list` reads to say what holds a waiting task. */
const MAX_PARENT_READS = 100;

/** What the notes of listed cards read beyond the cards (`describeTaskState`). */
export interface CardLookups {
  /** A task's status: the listed ones, and the parents of listed `todo` tasks. */
  statusOf: (id: number) => string | undefined;
  /** A paused profile among the assignees of listed `ready` tasks. */
  pausedProfile: (name: string) => PausedProfile | undefined;
}

/**
 * What `list` and `board show` need to say what holds each card: the statuses of the parents
 * of the listed `todo` tasks ("held by #8 (blocked)"), from the listing itself, else read (a
 * bounded number, in one read); and the paused profiles of the listed `ready` tasks ("held:
 * profile p is paused by its breaker"; a paused profile's tasks stay ready and none starts),
 * one read, and none when no listed task is ready.
 */
export async function cardLookups(store: Store, tasks: readonly Task[]): Promise<CardLookups> {
  const statuses = new Map<number, string>(tasks.map((t) => [t.id, t.status]));
  const missing = new Set<number>();
  for (const t of tasks) {
    if (t.status !== 'todo') continue;
    for (const p of t.parents) if (!statuses.has(p)) missing.add(p);
  }
  const ids = [...missing].slice(0, MAX_PARENT_READS);
  if (ids.length > 0) {
    for (const p of await store.listTasks({ ids, include_archived: true, limit: ids.length }))
      statuses.set(p.id, p.status);
  }
  const paused = new Map<string, PausedProfile>();
  if (tasks.some((t) => t.status === 'ready' && t.assignee !== null)) {
    for (const p of await store.listProfiles()) if (p.paused) paused.set(p.name, p);
  }
  return { statusOf: (id) => statuses.get(id), pausedProfile: (name) => paused.get(name) };
}
