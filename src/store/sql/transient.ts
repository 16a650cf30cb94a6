import { dispatcher } from '../../core/actor.js';
import { BlockRule } from '../../core/accounting.js';
import { resolvePolicy } from '../../core/policy.js';
import { resolveTransition } from '../../core/transitions.js';
import type { PolicyContext } from '../run-types.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';
import type { TaskRow } from './rows.js';
import { parentsDone } from './tasks.js';

const DUE = `status = 'blocked' AND block_kind = 'transient' AND not_before IS NOT NULL
  AND not_before <= ?`;

/** Whether any transient block's cooldown has passed (a read, asked every tick). */
export async function anyTransientDue(db: SqlDb, now: number): Promise<boolean> {
  return (await db.get(`SELECT id FROM tasks WHERE ${DUE} LIMIT 1`, [now])) !== undefined;
}

/**
 * `transient` blocks clear themselves (issue #14): once a task's `transient_cooldown` has
 * passed it goes back in line, and each such clear counts as a failure, so a worker that keeps
 * saying "try again later" stops at `max_failures`, blocked `failed` with the count. Returns
 * how many tasks moved.
 */
export async function releaseTransientBlocks(
  db: SqlDb,
  now: number,
  ctx: PolicyContext & { host: string },
): Promise<number> {
  const due = await db.all<TaskRow>(`SELECT * FROM tasks WHERE ${DUE} ORDER BY id LIMIT 100`, [
    now,
  ]);
  const actor = dispatcher(ctx.host);
  for (const task of due) {
    const profile =
      task.assignee === null
        ? undefined
        : await db.get<{ spec: string }>('SELECT spec FROM profiles WHERE name = ?', [
            task.assignee,
          ]);
    const policy = resolvePolicy(
      ctx.config,
      profile ? ((JSON.parse(profile.spec) as { policy?: object }).policy ?? {}) : {},
      JSON.parse(task.policy) as object,
    );
    const failures = task.failures + 1;
    if (failures >= policy.max_failures) {
      const reason = `gave_up: blocked transient ${failures} times (max_failures ${policy.max_failures}); last: ${task.block_reason ?? ''}`;
      await db.run(
        `UPDATE tasks SET failures = ?, not_before = NULL, block_kind = 'failed', block_rule = ?,
           block_reason = ?, updated_at = ? WHERE id = ? AND status = 'blocked'`,
        [failures, BlockRule.gave_up, reason, now, task.id],
      );
      await appendEvent(db, now, actor, {
        kind: 'task_blocked',
        board: task.board,
        task_id: task.id,
        payload: { reason, kind: 'failed', rule: BlockRule.gave_up, failures },
      });
      continue;
    }
    const to = resolveTransition(
      'unblock',
      'blocked',
      'dispatcher',
      await parentsDone(db, task.id),
    );
    await db.run(
      `UPDATE tasks SET status = ?, failures = ?, not_before = NULL, block_kind = NULL,
         block_rule = NULL, block_reason = NULL, updated_at = ? WHERE id = ? AND status = 'blocked'`,
      [to, failures, now, task.id],
    );
    await appendEvent(db, now, actor, {
      kind: 'task_unblocked',
      board: task.board,
      task_id: task.id,
      payload: { to, automatic: true, failures, cooldown_ms: policy.transient_cooldown },
    });
  }
  return due.length;
}
