import { existsSync, rmSync } from 'node:fs';
import type { Actor } from '../core/actor.js';
import type { WorktreeRecord } from '../core/worktree.js';
import { deleteBranch, removeWorktree, rescueAtArchive, strayFolder } from '../git/worktree.js';
import type { Store } from '../store/store.js';
import { setupFiles } from '../supervisor/worktree.js';

/**
 * Removes an archived task's worktree from disk and from its repository's list (`git worktree
 * remove --force`, then `prune`), with its setup's files; the branch stays unless
 * `deleteBranch`. What is uncommitted in it (a run's was saved at its ending; a person may have
 * edited since) is saved in a rescue ref first, and a worktree whose changes cannot be saved
 * is not removed. Returns what was done, in words.
 */
export async function removeTaskWorktree(
  store: Store,
  rec: WorktreeRecord,
  deleteTheBranch: boolean,
  actor: Actor,
): Promise<string> {
  const saved =
    existsSync(rec.path) && !strayFolder(rec.path)
      ? await rescueAtArchive(rec.path, rec.task_id, Date.now())
      : null;
  await removeWorktree(rec.repo, rec.path);
  const files = setupFiles(rec.path);
  for (const f of [files.log, files.done, files.failed]) rmSync(f, { force: true });
  let kept: string | null = null;
  if (deleteTheBranch) {
    try {
      if (!(await deleteBranch(rec.repo, rec.branch))) kept = 'git would not delete it';
    } catch (err) {
      kept = err instanceof Error ? err.message : String(err);
    }
  }
  const deleted = deleteTheBranch && kept === null;
  await store.worktreeRemoved(rec.task_id, deleted, actor);
  const what = `removed its worktree ${rec.path}${saved ? ` (its uncommitted changes, ${saved.files} ${saved.files === 1 ? 'file' : 'files'}, are in ${saved.ref})` : ''}`;
  if (deleted) return `${what} and its branch ${rec.branch}`;
  if (kept !== null) {
    return `${what}; its branch ${rec.branch} stays in ${rec.repo}: ${kept} (delete it with \`git -C ${rec.repo} branch -D ${rec.branch}\`)`;
  }
  return `${what}; its branch ${rec.branch} stays in ${rec.repo}`;
}

/** Whether a task's worktree is on this machine, where this process may touch it. */
export function worktreeIsHere(rec: WorktreeRecord, hostId: string): boolean {
  return rec.host_id === hostId || existsSync(rec.path);
}

/**
 * `serve`'s sweep: the worktrees of this host's archived tasks (archived from the dashboard,
 * the API or another host) are removed; their branches stay. One failure does not stop the rest,
 * and is tried again at each sweep but said once (`said`: what was last said of each task).
 */
export async function sweepArchivedWorktrees(
  store: Store,
  hostId: string,
  actor: Actor,
  log: (line: string) => void,
  said: Map<number, string> = new Map(),
): Promise<void> {
  for (const rec of await store.archivedWorktrees(hostId)) {
    try {
      log(`task ${rec.task_id} is archived: ${await removeTaskWorktree(store, rec, false, actor)}`);
      said.delete(rec.task_id);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (said.get(rec.task_id) === why) continue;
      said.set(rec.task_id, why);
      log(`task ${rec.task_id}: its worktree ${rec.path} was not removed: ${why}`);
    }
  }
}
