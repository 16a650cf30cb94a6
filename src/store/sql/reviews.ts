import type { Actor } from '../../core/actor.js';
import { formatActor } from '../../core/actor.js';
import { BlockRule } from '../../core/accounting.js';
import { illegalState } from '../../core/errors.js';
import type { TaskId } from '../../core/glossary.js';
import { INPUT_LIMITS } from '../../core/defaults.js';
import { checkText } from '../../core/checks.js';
import { resolvePolicy } from '../../core/policy.js';
import type { PolicyOverrides } from '../../core/policy.js';
import type { Task } from '../../core/task.js';
import type { ReviewNote } from '../../core/worker-protocol.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';
import type { TaskRow } from './rows.js';
import { moveTask } from './task-moves.js';
import { taskRow } from './tasks.js';

/**
 * Reviews (issue #14): a person's verdict on a task in `review`. Approving makes it done;
 * requesting changes sends it back in line with the review, which its next attempt reads at
 * the top of its context. Past `max_review_rounds` requests for changes the task is blocked
 * `needs_input` instead: the worker and its reviewer do not agree, and a person decides.
 */

interface ReviewRow {
  id: number;
  task_id: number;
  run_id: number | null;
  verdict: string;
  body: string;
  by_actor: string;
  at: number;
}

/** A task's reviews, newest first. */
export async function taskReviews(db: SqlDb, taskId: TaskId): Promise<ReviewNote[]> {
  const rows = await db.all<ReviewRow>(
    'SELECT * FROM reviews WHERE task_id = ? ORDER BY id DESC LIMIT 20',
    [taskId],
  );
  return rows.map((r) => ({
    verdict: r.verdict as ReviewNote['verdict'],
    body: r.body,
    by: r.by_actor,
    at: r.at,
    run_id: r.run_id,
  }));
}

/** Keeps a verdict on the task's latest run. */
export async function recordReview(
  db: SqlDb,
  now: number,
  task: TaskRow,
  verdict: ReviewNote['verdict'],
  body: string,
  actor: Actor,
): Promise<void> {
  const last = await db.get<{ id: number }>(
    'SELECT id FROM runs WHERE task_id = ? ORDER BY attempt DESC LIMIT 1',
    [task.id],
  );
  await db.run(
    'INSERT INTO reviews (task_id, run_id, verdict, body, by_actor, at) VALUES (?, ?, ?, ?, ?, ?)',
    [task.id, last?.id ?? null, verdict, body, formatActor(actor), now],
  );
}

/** Sends a task in review back for more work with the review (see the file comment). */
export async function requestChanges(
  db: SqlDb,
  now: number,
  id: TaskId,
  reason: string,
  actor: Actor,
  config: PolicyOverrides,
): Promise<Task> {
  checkText(reason, 'reason', INPUT_LIMITS.summary_max_bytes, '; say what to change');
  const task = await taskRow(db, id);
  if (task.status !== 'review') {
    throw illegalState(
      `task ${id} is ${task.status}, not in review; only a task in review can have changes requested`,
    );
  }
  await recordReview(db, now, task, 'changes_requested', reason, actor);
  const rounds = await db.get<{ n: number }>(
    "SELECT COUNT(*) AS n FROM reviews WHERE task_id = ? AND verdict = 'changes_requested' AND id > ?",
    [id, task.review_rounds_from],
  );
  const n = Number(rounds?.n ?? 0);
  const profile =
    task.assignee === null
      ? undefined
      : await db.get<{ spec: string }>('SELECT spec FROM profiles WHERE name = ?', [task.assignee]);
  const policy = resolvePolicy(
    config,
    profile ? ((JSON.parse(profile.spec) as { policy?: object }).policy ?? {}) : {},
    JSON.parse(task.policy) as object,
  );
  await appendEvent(db, now, actor, {
    kind: 'task_changes_requested',
    board: task.board,
    task_id: id,
    payload: { reason, round: n, max_review_rounds: policy.max_review_rounds },
  });
  if (n >= policy.max_review_rounds) {
    const moved = await moveTask(
      db,
      now,
      id,
      {
        verb: 'block',
        reason: `review_rounds: changes requested ${n} times (max_review_rounds ${policy.max_review_rounds}); last: ${reason}`,
        kind: 'needs_input',
      },
      actor,
    );
    await db.run('UPDATE tasks SET block_rule = ? WHERE id = ?', [BlockRule.review_rounds, id]);
    return { ...moved, block_rule: BlockRule.review_rounds };
  }
  return moveTask(db, now, id, { verb: 'reopen' }, actor);
}
