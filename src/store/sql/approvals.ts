import type { Actor } from '../../core/actor.js';
import { formatActor } from '../../core/actor.js';
import { illegalState } from '../../core/errors.js';
import type { TaskId } from '../../core/glossary.js';
import type { Task } from '../../core/task.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';
import { moveTask } from './task-moves.js';
import { getTask, taskRow } from './tasks.js';
import { recordReview } from './reviews.js';

/**
 * `warden approve` (issue #14): a person's yes. A task behind an approval gate (`create
 * --needs-approval`, a profile's `--require-approval`) may then be dispatched, with who and
 * when kept on it; a task in review is approved done.
 */
export async function approveTask(db: SqlDb, now: number, id: TaskId, actor: Actor): Promise<Task> {
  const task = await taskRow(db, id);
  if (task.needs_approval !== 0 && task.approved_at === null && task.status !== 'archived') {
    await db.run('UPDATE tasks SET approved_by = ?, approved_at = ?, updated_at = ? WHERE id = ?', [
      formatActor(actor),
      now,
      now,
      id,
    ]);
    await appendEvent(db, now, actor, {
      kind: 'task_approved',
      board: task.board,
      task_id: id,
      payload: { status: task.status },
    });
    return getTask(db, id);
  }
  if (task.status === 'review') {
    await recordReview(db, now, task, 'approved', 'approved', actor);
    return moveTask(db, now, id, { verb: 'done' }, actor);
  }
  throw illegalState(
    `task ${id} is ${task.status} and waits for no approval; approve a task in review or one created with --needs-approval`,
  );
}
