import type { Actor } from '../../core/actor.js';
import { formatActor } from '../../core/actor.js';
import { conflict, illegalState } from '../../core/errors.js';
import type { TaskId } from '../../core/glossary.js';
import { INPUT_LIMITS } from '../../core/defaults.js';
import { checkText } from '../../core/checks.js';
import { oneLine } from '../../core/gist.js';
import type { Task } from '../../core/task.js';
import type { QuestionAnswer } from '../../core/worker-protocol.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';
import { moveTask } from './task-moves.js';
import { taskRow } from './tasks.js';

/**
 * Questions and answers (issue #14): a worker's `ask` blocks its task `needs_input` with the
 * question kept here; a person's answer is kept beside it and puts the task back in line in
 * the same transaction, and every later attempt reads both at the top of its context.
 */

interface QuestionRow {
  id: number;
  task_id: number;
  run_id: number;
  question: string;
  asked_at: number;
  answer: string | null;
  answered_by: string | null;
  answered_at: number | null;
}

/** A task's questions and answers, newest first. */
export async function taskQuestions(db: SqlDb, taskId: TaskId): Promise<QuestionAnswer[]> {
  const rows = await db.all<QuestionRow>(
    'SELECT * FROM questions WHERE task_id = ? ORDER BY id DESC LIMIT 20',
    [taskId],
  );
  return rows.map((r) => ({
    question: r.question,
    asked_at: r.asked_at,
    run_id: r.run_id,
    answer: r.answer,
    answered_by: r.answered_by,
    answered_at: r.answered_at,
  }));
}

/**
 * Answers the open question of a task blocked on it, and puts the task back in line. With
 * `question` (the question the person read), refused when the task asks another one now: its
 * worker asked again after someone else's answer, and this answer was written for the first.
 */
export async function answerTask(
  db: SqlDb,
  now: number,
  id: TaskId,
  answer: string,
  actor: Actor,
  question?: string,
): Promise<Task> {
  checkText(answer, 'answer', INPUT_LIMITS.summary_max_bytes);
  const task = await taskRow(db, id);
  const open = await db.get<QuestionRow>(
    'SELECT * FROM questions WHERE task_id = ? AND answer IS NULL ORDER BY id DESC LIMIT 1',
    [id],
  );
  if (task.status !== 'blocked' || task.block_rule !== 'question' || !open) {
    throw illegalState(
      `task ${id} asked nothing to answer (it is ${task.status}${task.block_reason ? `: ${task.block_reason}` : ''}); comment on it with \`warden comment ${id} TEXT\` instead`,
    );
  }
  if (question !== undefined && question.trim() !== open.question.trim()) {
    throw conflict(
      `task ${id} asks another question now: "${oneLine(open.question, 200)}"; your answer was for "${oneLine(question, 80)}": read the new one and answer it`,
      { question: open.question },
    );
  }
  await db.run('UPDATE questions SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ?', [
    answer,
    formatActor(actor),
    now,
    open.id,
  ]);
  await appendEvent(db, now, actor, {
    kind: 'task_answered',
    board: task.board,
    task_id: id,
    payload: { question: open.question, answer, run_id: open.run_id },
  });
  return moveTask(db, now, id, { verb: 'unblock' }, actor);
}
