import { existsSync, rmSync } from 'node:fs';
import type { Actor } from '../core/actor.js';
import type { WorktreeRecord } from '../core/worktree.js';
import { GitError } from '../git/git.js';
import {
  deleteBranch,
  lockOf,
  personLocked,
  pruneWorktrees,
  removeWorktree,
  rescueAtArchive,
  strayFolder,
} from '../git/worktree.js';
import type { RescueRef } from '../core/worktree.js';
import type { Store } from '../store/store.js';
import { setupFiles } from '../supervisor/worktree.js';

/**
 * Removes an archived task's worktree from disk and from its repository's list (`git worktree
 * remove --force`, then `prune`), with its setup's files; the branch stays unless
 * `deleteBranch`. What is uncommitted in it (a run's was saved at its ending; a person may have
 * edited since) is saved in a rescue ref first. Kept, and thrown, when a person locked it in
 * git; left as it is, and forgotten, when it is not a worktree any more (a folder made again
 * where it was, or one git no longer knows): a folder that git cannot save is not warden's to
 * delete. Returns what was done, in words.
 */
export async function removeTaskWorktree(
  store: Store,
  rec: WorktreeRecord,
  deleteTheBranch: boolean,
  actor: Actor,
): Promise<string> {
  const repoHere = existsSync(rec.repo);
  const lock = repoHere ? await lockOf(rec.repo, rec.path) : null;
  if (lock?.by === 'person') throw personLocked(rec.repo, rec.path, lock.reason);
  const files = setupFiles(rec.path);
  for (const f of [files.log, files.done, files.failed]) rmSync(f, { force: true });
  const kept = await saveOrLeave(rec, repoHere, lock !== null);
  let what: string;
  if ('left' in kept) {
    await pruneWorktrees(rec.repo);
    what = `left its folder ${rec.path} as it is (${kept.left}; it is not warden's to delete)`;
  } else {
    await removeWorktree(rec.repo, rec.path);
    const saved = kept.saved;
    what = `removed its worktree ${rec.path}${saved ? ` (its uncommitted changes, ${saved.files} ${saved.files === 1 ? 'file' : 'files'}, are in ${saved.ref})` : ''}`;
  }
  const branch = deleteTheBranch ? await deleteOrSay(rec) : { gone: false, note: '' };
  await store.worktreeRemoved(rec.task_id, branch.gone, actor);
  return `${what}${branch.note || `; its branch ${rec.branch} stays in ${rec.repo}`}`;
}

/**
 * Saves what is uncommitted in the worktree, or says why its folder is left: it is not a
 * worktree, git refuses it as one (its entry deleted), or its repository is gone. A half-made
 * worktree (warden's add cut short) has nothing of anyone's to save. A git that could not
 * answer now throws, and the sweep tries again.
 */
async function saveOrLeave(
  rec: WorktreeRecord,
  repoHere: boolean,
  halfMade: boolean,
): Promise<{ saved: RescueRef | null } | { left: string }> {
  if (strayFolder(rec.path)) return { left: 'it is not a git worktree' };
  if (halfMade || !existsSync(rec.path)) return { saved: null };
  if (!repoHere) return { left: `its repository ${rec.repo} is not here` };
  try {
    return { saved: await rescueAtArchive(rec.path, rec.task_id, Date.now()) };
  } catch (err) {
    if (err instanceof GitError && !err.passing && err.code !== null) {
      return { left: `git cannot read it: ${err.message}` };
    }
    throw err;
  }
}

/** `--delete-branch`: deleted, gone already, or kept with git's reason and the command. */
async function deleteOrSay(rec: WorktreeRecord): Promise<{ gone: boolean; note: string }> {
  try {
    return (await deleteBranch(rec.repo, rec.branch))
      ? { gone: true, note: ` and its branch ${rec.branch}` }
      : { gone: true, note: `; its branch ${rec.branch} was gone already` };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      gone: false,
      note: `; its branch ${rec.branch} stays in ${rec.repo}: ${why} (delete it with \`git -C ${rec.repo} branch -D ${rec.branch}\`)`,
    };
  }
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
