import type { Actor } from '../../core/actor.js';
import { conflict, illegalState, invalid } from '../../core/errors.js';
import type { EventKind, Json } from '../../core/events.js';
import type { TaskId } from '../../core/glossary.js';
import { INPUT_LIMITS } from '../../core/defaults.js';
import { BLOCK_KINDS, TaskStatus } from '../../core/status.js';
import type { Task } from '../../core/task.js';
import { resolveTransition } from '../../core/transitions.js';
import { byteLength, checkCharacters, checkMetadata } from '../../core/checks.js';
import type { TaskMove } from '../store.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';
import { getTask, parentsDone, taskRow } from './tasks.js';

const MOVE_EVENTS: Record<TaskMove['verb'], EventKind> = {
  accept: 'task_accepted',
  block: 'task_blocked',
  unblock: 'task_unblocked',
  retry: 'task_retried',
  reopen: 'task_reopened',
  done: 'task_done',
  archive: 'task_archived',
};

/** Links a parent to a child (see `Store.linkTasks`). */
export async function linkTasks(
  db: SqlDb,
  now: number,
  parentId: TaskId,
  childId: TaskId,
  actor: Actor,
): Promise<Task> {
  if (parentId === childId) throw invalid(`a task cannot be its own parent (${parentId})`);
  const parent = await taskRow(db, parentId);
  const child = await taskRow(db, childId);
  if (parent.status === TaskStatus.archived) {
    throw conflict(`task ${parentId} is archived; an archived task cannot be a parent`);
  }
  // An archived task will never run: a link would say it waits for something.
  if (child.status === TaskStatus.archived) {
    throw conflict(`task ${childId} is archived; an archived task cannot wait for another`);
  }
  if (parent.board !== child.board) {
    throw conflict(
      `tasks ${parentId} and ${childId} are on different boards ('${parent.board}', '${child.board}'); link tasks of one board only`,
    );
  }
  const exists = await db.get(
    'SELECT 1 AS x FROM task_links WHERE parent_id = ? AND child_id = ?',
    [parentId, childId],
  );
  if (exists) return getTask(db, childId);
  const cycle = await db.get(
    `WITH RECURSIVE ancestors(id) AS (
       SELECT parent_id FROM task_links WHERE child_id = ?
       UNION SELECT l.parent_id FROM task_links l JOIN ancestors a ON l.child_id = a.id
     ) SELECT 1 AS x FROM ancestors WHERE id = ? LIMIT 1`,
    [parentId, childId],
  );
  if (cycle) {
    throw conflict(
      `linking ${parentId} → ${childId} would make a cycle: ${childId} is already an ancestor of ${parentId}`,
    );
  }
  await db.run('INSERT INTO task_links (parent_id, child_id, created_at) VALUES (?, ?, ?)', [
    parentId,
    childId,
    now,
  ]);
  await appendEvent(db, now, actor, {
    kind: 'task_linked',
    board: child.board,
    task_id: childId,
    payload: { parent: parentId, child: childId },
  });
  if (child.status === TaskStatus.ready && parent.status !== TaskStatus.done) {
    await moveChild(db, now, child, 'demote', parentId, actor);
  }
  return getTask(db, childId);
}

/** Moves one child along a link: promoted when its parents are done, demoted when not. */
async function moveChild(
  db: SqlDb,
  now: number,
  child: { id: number; board: string },
  verb: 'promote' | 'demote',
  parentId: TaskId,
  actor: Actor,
): Promise<void> {
  const from = verb === 'promote' ? TaskStatus.todo : TaskStatus.ready;
  const to = resolveTransition(verb, from, actor.kind, verb === 'promote');
  await db.run('UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?', [to, now, child.id]);
  await appendEvent(db, now, actor, {
    kind: verb === 'promote' ? 'task_promoted' : 'task_demoted',
    board: child.board,
    task_id: child.id,
    payload:
      verb === 'promote'
        ? { from, to, finished_parent: parentId }
        : { from, to, waiting_for: [parentId] },
  });
}

/**
 * After a parent changed status: makes `ready` every `todo` child whose parents are now all
 * done (`promote`), or sends `ready` children back to `todo` (`demote`, the parent is being
 * done again). In the same transaction as the parent's change.
 */
async function moveChildren(
  db: SqlDb,
  now: number,
  parentId: TaskId,
  verb: 'promote' | 'demote',
  actor: Actor,
): Promise<void> {
  const children = await db.all<{ id: number; board: string }>(
    'SELECT t.id, t.board FROM task_links l JOIN tasks t ON t.id = l.child_id WHERE l.parent_id = ? AND t.status = ? ORDER BY t.id',
    [parentId, verb === 'promote' ? TaskStatus.todo : TaskStatus.ready],
  );
  for (const child of children) {
    if (verb === 'promote' && !(await parentsDone(db, child.id))) continue;
    await moveChild(db, now, child, verb, parentId, actor);
  }
}

/** Promotes the children of a parent that was just done. */
export function promoteChildren(
  db: SqlDb,
  now: number,
  parentId: TaskId,
  actor: Actor,
): Promise<void> {
  return moveChildren(db, now, parentId, 'promote', actor);
}

/**
 * A parent was archived unfinished: its waiting children are blocked `dependency` with the
 * reason (issue #14), so a person decides whether they go on without it. Waiting means `todo`,
 * `triage` (an accept would start it with no word of the parent), and blocked `transient`
 * (the dispatcher clears that one by itself). Other blocks wait for a person already.
 */
export async function holdOrphans(
  db: SqlDb,
  now: number,
  parentId: TaskId,
  actor: Actor,
): Promise<void> {
  const children = await db.all<{ id: number; board: string; status: string }>(
    `SELECT t.id, t.board, t.status FROM task_links l JOIN tasks t ON t.id = l.child_id
     WHERE l.parent_id = ? AND (t.status IN ('todo', 'triage')
       OR (t.status = 'blocked' AND t.block_kind = 'transient'))`,
    [parentId],
  );
  for (const child of children) {
    const reason = `dependency: parent #${parentId} was archived unfinished; unblock the task to go on without it (link another parent first to wait for that one), or archive it too`;
    await db.run(
      `UPDATE tasks SET status = 'blocked', block_kind = 'dependency', block_rule = 'dependency',
         block_reason = ?, updated_at = ? WHERE id = ? AND status = ?`,
      [reason, now, child.id, child.status],
    );
    await appendEvent(db, now, actor, {
      kind: 'task_blocked',
      board: child.board,
      task_id: child.id,
      payload: { from: child.status, to: 'blocked', reason, kind: 'dependency', parent: parentId },
    });
  }
}

function checkMove(move: TaskMove): void {
  if (move.verb === 'block') {
    if (!(BLOCK_KINDS as readonly string[]).includes(move.kind)) {
      throw invalid(`kind: unknown kind '${move.kind}'; use one of ${BLOCK_KINDS.join(', ')}`);
    }
    if (move.reason.trim().length === 0) throw invalid('reason: must not be empty');
    if (move.reason.length > INPUT_LIMITS.block_reason_max_chars) {
      throw invalid(`reason: must be at most ${INPUT_LIMITS.block_reason_max_chars} characters`);
    }
    checkCharacters(move.reason, 'reason', true);
  }
  if (move.verb === 'done') {
    if (move.summary !== undefined && byteLength(move.summary) > INPUT_LIMITS.summary_max_bytes) {
      throw invalid(`summary: must be at most ${INPUT_LIMITS.summary_max_bytes} bytes`);
    }
    if (move.summary !== undefined) checkCharacters(move.summary, 'summary', true);
    if (move.metadata !== undefined) checkMetadata(move.metadata);
  }
}

/** Moves a task through the transition table (see `Store.moveTask`). */
export async function moveTask(
  db: SqlDb,
  now: number,
  id: TaskId,
  move: TaskMove,
  actor: Actor,
): Promise<Task> {
  checkMove(move);
  const task = await taskRow(db, id);
  const from = task.status as TaskStatus;
  if (task.current_run_id !== null) {
    throw illegalState(
      `task ${id} has a run in progress; end it with \`warden stop ${id}\` first`,
      { run_id: task.current_run_id },
    );
  }
  const to = resolveTransition(move.verb, from, actor.kind, await parentsDone(db, id));
  if (from === TaskStatus.done && task.idempotency_key !== null) {
    // Reopening brings its idempotency key back into the open set, where keys are unique.
    const holder = await db.get<{ id: number }>(
      "SELECT id FROM tasks WHERE board = ? AND idempotency_key = ? AND id <> ? AND status NOT IN ('done', 'archived')",
      [task.board, task.idempotency_key, id],
    );
    if (holder) {
      throw conflict(
        `idempotency key '${task.idempotency_key}' is now held by open task ${holder.id}; finish or archive it first`,
      );
    }
  }
  const payload: Record<string, Json> = { from, to };
  const sets: string[] = ['status = ?', 'updated_at = ?'];
  const params: (string | number | null)[] = [to, now];
  switch (move.verb) {
    case 'block':
      sets.push('block_reason = ?', 'block_kind = ?', "block_rule = 'person'");
      params.push(move.reason, move.kind);
      payload.reason = move.reason;
      payload.kind = move.kind;
      break;
    case 'unblock':
    case 'retry':
      // Only a person resets the failure accounting (SPEC §3); retry also clears delays.
      sets.push(
        'block_reason = NULL',
        'block_kind = NULL',
        'block_rule = NULL',
        'failures = 0',
        'stall_streak = 0',
        'rate_limited_streak = 0',
        'spawn_failures = 0',
        'host_losses = 0',
        // ... and the review rounds: the next request for changes is round 1 again.
        'review_rounds_from = (SELECT COALESCE(MAX(r.id), 0) FROM reviews r WHERE r.task_id = tasks.id)',
      );
      if (move.verb === 'retry')
        sets.push('not_before = NULL', 'result_summary = NULL', 'result_metadata = NULL');
      break;
    case 'done':
      sets.push('block_reason = NULL', 'block_kind = NULL', 'block_rule = NULL');
      if (move.summary === undefined && move.metadata === undefined && from === 'review') {
        // Approving a review (`done` with nothing given) keeps the result its worker reported;
        // from anywhere else a result left (one a person reopened) is not this task's.
        sets.push("result_summary = COALESCE(result_summary, '')");
      } else {
        sets.push('result_summary = ?', 'result_metadata = ?');
        params.push(
          move.summary ?? (from === 'review' ? task.result_summary : null) ?? '',
          JSON.stringify(move.metadata ?? null),
        );
      }
      if (move.summary !== undefined) payload.summary = move.summary;
      break;
    case 'accept':
    case 'reopen':
    case 'archive':
      break;
  }
  params.push(id);
  await db.run(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ?`, params);
  await appendEvent(db, now, actor, {
    kind: MOVE_EVENTS[move.verb],
    board: task.board,
    task_id: id,
    payload,
  });
  if (to === TaskStatus.done) await promoteChildren(db, now, id, actor);
  // A parent archived unfinished leaves its waiting children to a person; a done one, archived,
  // still counts as done for them (`holdsChildren`). Only a done parent being done again
  // (retry) sends its ready children back to wait.
  if (to === TaskStatus.archived && from !== TaskStatus.done) {
    await holdOrphans(db, now, id, actor);
  }
  if (from === TaskStatus.done && to !== TaskStatus.archived) {
    await moveChildren(db, now, id, 'demote', actor);
  }
  return getTask(db, id);
}
