import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispatcher } from '../core/actor.js';
import { WardenError } from '../core/errors.js';
import { setupFailedReason } from '../core/reasons.js';
import type { Outcome } from '../core/status.js';
import { worktreeBranch } from '../core/worktree.js';
import type { WorktreeRecord } from '../core/worktree.js';
import type { WorkspaceEnding } from '../endings/spawned.js';
import {
  addWorktree,
  checkRepository,
  deleteBranch,
  gatherEvidence,
  isUnfinished,
  removeWorktree,
  strayFolder,
} from '../git/worktree.js';
import { GitError } from '../git/git.js';
import type { Claim } from '../store/run-types.js';
import type { Store } from '../store/store.js';
import { readTail } from '../os/tail.js';

/** The wrapper that runs a worktree's setup once, then execs the worker. */
export const SETUP_PATH = fileURLToPath(new URL('../../libexec/warden-setup', import.meta.url));

/** The files of a worktree's setup, beside its folder (not in it: `git status` stays clean). */
export function setupFiles(path: string): { log: string; done: string; failed: string } {
  return { log: `${path}.setup.log`, done: `${path}.setup-done`, failed: `${path}.setup-failed` };
}

/** A worktree that cannot be made or used here; the run ends `config_error` with the message. */
export class WorktreeRefused extends Error {}

/** A worktree whose making was stopped because `serve` is stopping: no fault of the task's. */
export class WorktreeStopped extends Error {}

/**
 * A worktree not made for a reason of the moment (git timed out or could not start, another
 * git's lock outlasted the retries, the store did not answer): the run ends `spawn_failed`, and
 * the task is tried again after its backoff, not blocked as a configuration error.
 */
export class WorktreeUnavailable extends Error {}

/** Whether making a worktree failed for a reason that may pass by itself. */
function passing(err: unknown): boolean {
  if (err instanceof GitError) return err.passing;
  return err instanceof WardenError && (err.code === 'unavailable' || err.code === 'storage');
}

/**
 * Before a worktree run's worker starts: the task's worktree, made here on its first claim
 * (branch `warden/<task>` from BASE, or REPO's HEAD then, recorded) and reused by every later
 * attempt. Returns the argv to start: the run's own, behind `warden-setup` when the profile
 * has a setup. Throws `WorktreeRefused` when the worktree is another host's, or cannot be made,
 * `WorktreeUnavailable` when it could not be made for now, and `WorktreeStopped` when `signal`
 * stopped its git.
 */
export async function prepareWorktree(
  store: Store,
  host: string,
  claim: Claim,
  signal?: AbortSignal,
): Promise<string[]> {
  const { run, task, profile } = claim;
  const spec = profile.worktree;
  const path = run.cwd;
  if (spec === null || path === null) return run.argv;
  let rec = await store.getWorktree(task.id);
  if (rec !== null && rec.host_id !== host) {
    throw new WorktreeRefused(
      `task ${task.id}'s worktree is ${rec.path} on host ${rec.host_id}, and a worktree belongs to the host that made it: run the task on that host, or archive it and create it again`,
    );
  }
  if (rec !== null && rec.removed_at !== null) {
    throw new WorktreeRefused(
      `task ${task.id}'s worktree ${rec.path} was removed when it was archived`,
    );
  }
  try {
    if (rec === null) rec = await makeWorktree(store, host, task.id, spec, path, signal);
    else if (
      !existsSync(rec.path) ||
      strayFolder(rec.path) ||
      (await isUnfinished(rec.repo, rec.path, signal))
    ) {
      // Deleted by hand (a folder made there since is refused, for a person to move), or its
      // making again was cut short: made again from the task's own branch, which holds its
      // commits. A new checkout has none of what its setup made: the setup runs again.
      const files = setupFiles(rec.path);
      for (const f of [files.done, files.failed]) rmSync(f, { force: true });
      await addWorktree(rec.repo, rec.path, rec.branch, rec.base_sha, true, signal);
    }
  } catch (err) {
    // A stop that came during a wait for another git's lock ends it with that lock's error.
    if (signal?.aborted === true || (err instanceof GitError && err.aborted)) {
      throw new WorktreeStopped((err as Error).message);
    }
    if (passing(err)) throw new WorktreeUnavailable((err as Error).message);
    throw new WorktreeRefused(err instanceof Error ? err.message : String(err));
  }
  if (profile.setup === null) return run.argv;
  return ['/bin/sh', SETUP_PATH, rec.path, profile.setup, ...run.argv];
}

async function makeWorktree(
  store: Store,
  host: string,
  taskId: number,
  spec: { repo: string; base: string | null },
  path: string,
  signal: AbortSignal | undefined,
): Promise<WorktreeRecord> {
  const baseSha = await checkRepository(spec.repo, spec.base);
  const branch = worktreeBranch(taskId);
  // The folder of worktrees is the owner's only, like the workspaces beside it.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await addWorktree(spec.repo, path, branch, baseSha, false, signal);
  try {
    return await store.recordWorktree(
      { task_id: taskId, host_id: host, repo: spec.repo, path, branch, base_sha: baseSha },
      dispatcher(host),
    );
  } catch (err) {
    // Unrecorded, it would be nobody's: undo it (the branch is new and has no commit of its own).
    await removeWorktree(spec.repo, path).catch(() => undefined);
    await deleteBranch(spec.repo, branch).catch(() => false);
    throw err;
  }
}

/**
 * The workspace's part of every ending of this host's runs: a task's worktree evidence (and
 * rescue ref), and a failed setup's own reason. Only the host that made a worktree touches it.
 */
export function worktreeEnding(store: Store, host: string): WorkspaceEnding {
  return async (r, outcome: Outcome) => {
    const rec = await store.getWorktree(r.taskId);
    if (rec === null || rec.host_id !== host || rec.removed_at !== null) {
      return { evidence: null, reason: null };
    }
    const evidence = await gatherEvidence({
      path: rec.path,
      branch: rec.branch,
      base: rec.base_sha,
      taskId: r.taskId,
      runId: r.runId,
    });
    return {
      evidence,
      reason: outcome === 'config_error' ? await setupFailure(store, rec, r) : null,
    };
  };
}

/** A setup that failed in this run: its reason, with the end of its log. */
async function setupFailure(
  store: Store,
  rec: WorktreeRecord,
  r: { runId: number; taskId: number },
): Promise<ReturnType<typeof setupFailedReason> | null> {
  const files = setupFiles(rec.path);
  if (!existsSync(files.failed)) return null;
  const status = readFileSync(files.failed, 'utf8').trim();
  // Read once: a retry runs the setup again and must not find this failure.
  rmSync(files.failed, { force: true });
  const run = await store.getRun(r.runId);
  const profile =
    run.profile === null ? null : await store.getProfile(run.profile).catch(() => null);
  return setupFailedReason(
    {
      command: profile?.setup ?? 'setup',
      status,
      log: files.log,
      tail: logTail(files.log),
    },
    run.host_id ?? rec.host_id,
    run.attempt,
  );
}

/** The last lines of a log (at most 20 lines and 2 KiB). */
function logTail(path: string): string {
  // The end of the file only: a setup such as `npm ci` can log megabytes.
  return readTail(path, 8192).split('\n').slice(-21).join('\n').slice(-2048);
}
