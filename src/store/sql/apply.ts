import type { Actor } from '../../core/actor.js';
import type { AppliedTask, ApplyResult, GraphTask, TaskGraph } from '../../core/apply.js';
import { WardenError, invalid } from '../../core/errors.js';
import type { TaskId } from '../../core/glossary.js';
import type { TaskStatus } from '../../core/status.js';
import { getBoard } from './boards.js';
import type { SqlDb } from './driver.js';
import { createTask } from './tasks.js';

/** Thrown to roll a dry run back once it has done everything a real one does. */
export class DryRunRollback extends Error {
  constructor(readonly result: ApplyResult) {
    super('dry run: rolled back');
  }
}

/** Runs `fn`, naming the task in any refusal: `task 'build': title: must not be empty`. */
async function forTask<T>(task: GraphTask, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WardenError) {
      throw new WardenError(err.code, `task '${task.name}': ${err.message}`, {
        ...err.details,
        task: task.name,
      });
    }
    throw err;
  }
}

/**
 * The task that already holds a key on the board: an open one, else the newest done one, so
 * re-applying a graph whose tasks finished runs nothing again. Archived tasks never count.
 */
async function holderOf(
  db: SqlDb,
  board: string,
  key: string,
): Promise<{ id: number; status: TaskStatus } | undefined> {
  return db.get<{ id: number; status: TaskStatus }>(
    `SELECT id, status FROM tasks WHERE board = ? AND idempotency_key = ? AND status <> 'archived'
     ORDER BY CASE WHEN status = 'done' THEN 1 ELSE 0 END, id DESC LIMIT 1`,
    [board, key],
  );
}

/**
 * Creates a task graph in the caller's transaction (see `Store.applyGraph`): first the board
 * and every assignee are checked, then each task, in dependency order, is found by its key or
 * created through `createTask` with its parents. Any refusal throws, so the transaction writes
 * nothing. With `dryRun` it throws `DryRunRollback` with the answer once everything is done.
 */
export async function applyGraph(
  db: SqlDb,
  now: number,
  graph: TaskGraph,
  actor: Actor,
  dryRun: boolean,
): Promise<ApplyResult> {
  await getBoard(db, graph.board);
  for (const task of graph.tasks) {
    if (task.assignee === undefined || task.assignee === null) continue;
    const row = await db.get('SELECT name FROM profiles WHERE name = ?', [task.assignee]);
    // A fault of the file, like a misspelt dependency: `invalid` (exit 2, HTTP 400).
    if (!row) {
      throw invalid(
        `task '${task.name}': profile '${task.assignee}' does not exist; see \`warden profile list\``,
        { task: task.name, profile: task.assignee },
      );
    }
  }
  const ids = new Map<string, TaskId>();
  const tasks: AppliedTask[] = [];
  for (const task of graph.tasks) {
    const holder = await holderOf(db, graph.board, task.key);
    const common = { name: task.name, title: task.title, key: task.key };
    if (holder) {
      ids.set(task.name, holder.id);
      tasks.push({ ...common, id: holder.id, result: 'exists', status: holder.status });
      continue;
    }
    const parents = [...task.parents, ...task.after.map((n) => ids.get(n) as TaskId)];
    const created = await forTask(task, () =>
      createTask(
        db,
        now,
        {
          board: graph.board,
          title: task.title,
          parents,
          idempotency_key: task.key,
          ...(task.body !== undefined ? { body: task.body } : {}),
          ...(task.assignee !== undefined ? { assignee: task.assignee } : {}),
          ...(task.priority !== undefined ? { priority: task.priority } : {}),
          ...(task.policy !== undefined ? { policy: task.policy } : {}),
          ...(task.triage !== undefined ? { triage: task.triage } : {}),
        },
        actor,
      ),
    );
    ids.set(task.name, created.id);
    tasks.push({
      ...common,
      id: dryRun ? null : created.id,
      result: 'created',
      status: created.status,
    });
  }
  const result: ApplyResult = {
    board: graph.board,
    graph: graph.name,
    dry_run: dryRun,
    created: tasks.filter((t) => t.result === 'created').length,
    existing: tasks.filter((t) => t.result === 'exists').length,
    tasks,
  };
  if (dryRun) throw new DryRunRollback(result);
  return result;
}
