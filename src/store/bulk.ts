import type { Actor } from '../core/actor.js';
import { bulkMatches, predictMove } from '../core/bulk.js';
import type { BulkFilter, BulkItem, BulkResult, BulkVerb } from '../core/bulk.js';
import { INPUT_LIMITS } from '../core/defaults.js';
import { WardenError, invalid } from '../core/errors.js';
import { holdsChildren } from '../core/status.js';
import type { Task } from '../core/task.js';
import type { Store } from './store.js';

/** Refusals of one task that leave the others to go on; anything else stops the action. */
const PER_TASK = new Set(['illegal_state', 'conflict', 'not_found']);

async function parentsDone(store: Store, task: Task): Promise<boolean> {
  if (task.parents.length === 0) return true;
  const parents = await store.listTasks({ ids: task.parents, include_archived: true });
  return parents.every((p) => !holdsChildren(p.status));
}

/** The tasks a filter takes, refusing more than one listing holds. */
async function matching(store: Store, filter: BulkFilter): Promise<Task[]> {
  await store.getBoard(filter.board);
  const found = await store.listTasks({
    board: filter.board,
    statuses: filter.statuses,
    ...(filter.assignee !== undefined ? { assignee: filter.assignee } : {}),
    limit: INPUT_LIMITS.list_max,
  });
  if (found.length >= INPUT_LIMITS.list_max) {
    throw invalid(
      `the filter matches ${INPUT_LIMITS.list_max} tasks or more; narrow it (--status, --assignee, --kind)`,
    );
  }
  // No task of a profile that does not exist is most likely a typo, said as `list` says it;
  // a removed profile's done and archived tasks still match it.
  if (found.length === 0 && filter.assignee !== undefined) await store.getProfile(filter.assignee);
  return found.filter((t) => bulkMatches(t, filter));
}

/**
 * One verb on every task a filter matches (issue #14), each through `store.moveTask`, the same
 * move as the verb on one task, in a transaction of its own: a refused task (the transition
 * table, a run in progress) is reported and the others go on. A dry run changes nothing and
 * says what each would do. A bulk `archive` never ends a run: a running task is refused.
 */
export async function bulkMove(
  store: Store,
  verb: BulkVerb,
  filter: BulkFilter,
  options: { dryRun: boolean },
  actor: Actor,
): Promise<BulkResult> {
  const tasks: BulkItem[] = [];
  for (const task of await matching(store, filter)) {
    const before = {
      id: task.id,
      title: task.title,
      status: task.status,
      block_kind: task.block_kind,
      assignee: task.assignee,
    };
    if (options.dryRun) {
      const { to, reason } = predictMove(verb, task, actor.kind, await parentsDone(store, task));
      tasks.push({ ...before, result: reason === null ? 'would_change' : 'refused', to, reason });
      continue;
    }
    try {
      const moved = await store.moveTask(task.id, { verb }, actor);
      tasks.push({ ...before, result: 'changed', to: moved.status, reason: null });
    } catch (err) {
      if (!(err instanceof WardenError) || !PER_TASK.has(err.code)) throw err;
      tasks.push({ ...before, result: 'refused', to: null, reason: err.message });
    }
  }
  return {
    verb,
    board: filter.board,
    dry_run: options.dryRun,
    matched: tasks.length,
    changed: tasks.filter((t) => t.result === 'changed').length,
    refused: tasks.filter((t) => t.result === 'refused').length,
    tasks,
  };
}
