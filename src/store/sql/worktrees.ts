import type { Actor } from '../../core/actor.js';
import { conflict } from '../../core/errors.js';
import type { TaskId } from '../../core/glossary.js';
import type { WorktreeRecord } from '../../core/worktree.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';

type WorktreeRow = WorktreeRecord;

/** A task's worktree record, removed or not; null when it never had one. */
export async function getWorktree(db: SqlDb, taskId: TaskId): Promise<WorktreeRecord | null> {
  return (await db.get<WorktreeRow>('SELECT * FROM worktrees WHERE task_id = ?', [taskId])) ?? null;
}

/**
 * Records a task's worktree once its host has made it; `conflict` if the task has one already
 * (two hosts never make one each: the second's record is refused, see docs/worktrees.md).
 */
export async function recordWorktree(
  db: SqlDb,
  now: number,
  rec: Omit<WorktreeRecord, 'created_at' | 'removed_at'>,
  actor: Actor,
): Promise<WorktreeRecord> {
  const existing = await getWorktree(db, rec.task_id);
  if (existing) {
    throw conflict(
      `task ${rec.task_id} already has a worktree, ${existing.path} on host ${existing.host_id}`,
    );
  }
  await db.run(
    `INSERT INTO worktrees (task_id, host_id, repo, path, branch, base_sha, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [rec.task_id, rec.host_id, rec.repo, rec.path, rec.branch, rec.base_sha, now],
  );
  const task = await db.get<{ board: string }>('SELECT board FROM tasks WHERE id = ?', [
    rec.task_id,
  ]);
  await appendEvent(db, now, actor, {
    kind: 'worktree_created',
    board: task?.board ?? null,
    task_id: rec.task_id,
    payload: { ...rec },
  });
  return { ...rec, created_at: now, removed_at: null };
}

/** Marks a task's worktree removed from disk, saying whether its branch went too. */
export async function worktreeRemoved(
  db: SqlDb,
  now: number,
  taskId: TaskId,
  branchDeleted: boolean,
  actor: Actor,
): Promise<void> {
  const rec = await getWorktree(db, taskId);
  if (!rec || rec.removed_at !== null) return;
  await db.run('UPDATE worktrees SET removed_at = ? WHERE task_id = ?', [now, taskId]);
  const task = await db.get<{ board: string }>('SELECT board FROM tasks WHERE id = ?', [taskId]);
  await appendEvent(db, now, actor, {
    kind: 'worktree_removed',
    board: task?.board ?? null,
    task_id: taskId,
    payload: { path: rec.path, branch: rec.branch, branch_deleted: branchDeleted },
  });
}

/** The worktrees still on disk of `host` whose tasks are archived: archiving removes them. */
export async function archivedWorktrees(db: SqlDb, host: string): Promise<WorktreeRecord[]> {
  return db.all<WorktreeRow>(
    `SELECT w.* FROM worktrees w JOIN tasks t ON t.id = w.task_id
     WHERE w.host_id = ? AND w.removed_at IS NULL AND t.status = 'archived' ORDER BY w.task_id`,
    [host],
  );
}
