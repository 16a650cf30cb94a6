import { existsSync, rmSync } from 'node:fs';
import type { Actor } from '../core/actor.js';
import type { WorktreeRecord } from '../core/worktree.js';
import { deleteBranch, removeWorktree } from '../git/worktree.js';
import type { Store } from '../store/store.js';
import { setupFiles } from '../supervisor/worktree.js';

/**
 * Removes an archived task's worktree from disk and from its repository's list (`git worktree
 * remove --force`, then `prune`), with its setup's files; the branch stays unless
 * `deleteBranch`. Its uncommitted changes were saved in a rescue ref at the run's ending.
 * Returns what was done, in words.
 */
export async function removeTaskWorktree(
  store: Store,
  rec: WorktreeRecord,
  deleteTheBranch: boolean,
  actor: Actor,
): Promise<string> {
  await removeWorktree(rec.repo, rec.path);
  const files = setupFiles(rec.path);
  for (const f of [files.log, files.done, files.failed]) rmSync(f, { force: true });
  const deleted = deleteTheBranch ? await deleteBranch(rec.repo, rec.branch) : false;
  await store.worktreeRemoved(rec.task_id, deleted, actor);
  return deleted
    ? `removed its worktree ${rec.path} and its branch ${rec.branch}`
    : `removed its worktree ${rec.path}; its branch ${rec.branch} stays in ${rec.repo}`;
}

/** Whether a task's worktree is on this machine, where this process may touch it. */
export function worktreeIsHere(rec: WorktreeRecord, hostId: string): boolean {
  return rec.host_id === hostId || existsSync(rec.path);
}

/**
 * `serve`'s sweep: the worktrees of this host's archived tasks (archived from the dashboard,
 * the API or another host) are removed; their branches stay. One failure does not stop the rest.
 */
export async function sweepArchivedWorktrees(
  store: Store,
  hostId: string,
  actor: Actor,
  log: (line: string) => void,
): Promise<void> {
  for (const rec of await store.archivedWorktrees(hostId)) {
    try {
      log(`task ${rec.task_id} is archived: ${await removeTaskWorktree(store, rec, false, actor)}`);
    } catch (err) {
      log(`task ${rec.task_id}: its worktree ${rec.path} was not removed: ${String(err)}`);
    }
  }
}
