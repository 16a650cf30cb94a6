import { existsSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { conflict, invalid, notFound } from '../core/errors.js';
import type { WardenError } from '../core/errors.js';
import {
  commandLine,
  liveGroup,
  liveProcesses,
  pidAlive,
  signalGroup,
  signalProcess,
} from '../os/procfs.js';
import { removeTree } from '../os/tree.js';
import { until } from '../os/at-most.js';
import { EVIDENCE_LIMITS, rescueRef } from '../core/worktree.js';
import type { RescueRef, RunEvidence, TaskDiffView, WorktreeRecord } from '../core/worktree.js';
import { GitError, git, gitMaybe, retryOnLock } from './git.js';

/**
 * The git side of worktree workspaces (docs/worktrees.md), through the `git` command line with
 * argv arrays. Nothing here touches the store: callers record what was made.
 */

/** Who commits a rescue: a person's git identity may not be configured for serve. */
const RESCUE_IDENTITY = {
  GIT_AUTHOR_NAME: 'warden',
  GIT_AUTHOR_EMAIL: 'warden@localhost',
  GIT_COMMITTER_NAME: 'warden',
  GIT_COMMITTER_EMAIL: 'warden@localhost',
};

function gitMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks that `repo` is a git repository with a commit (and `base` one of its commits, when
 * given), for `profile add/edit`: `invalid` or `not_found` with what to do. Returns the base's
 * commit (HEAD's when no base is given).
 */
export async function checkRepository(repo: string, base: string | null): Promise<string> {
  if (!existsSync(repo)) {
    throw invalid(
      `--workspace: REPO '${repo}' does not exist on this host; give the path of a git repository (or pass --no-check if it exists only on other hosts)`,
    );
  }
  try {
    await git(['-C', repo, 'rev-parse', '--git-dir'], { timeoutMs: 10_000 });
  } catch (err) {
    // A git that took too long or could not start says nothing of the repository.
    if (err instanceof GitError && err.passing) throw err;
    throw invalid(
      `--workspace: '${repo}' is not a git repository (${gitMessage(err)}); give a repository's path, or run \`git init\` there first`,
    );
  }
  const sha = await resolveCommit(repo, base ?? 'HEAD');
  if (sha === null) {
    if (base === null) {
      throw invalid(
        `--workspace: the repository '${repo}' has no commit yet, so a task's branch has nothing to start from; commit once, or give @BASE`,
      );
    }
    throw notFound(
      `--workspace: BASE '${base}' is not a commit, branch or tag of '${repo}'; see \`git -C ${repo} branch -a\``,
      { base },
    );
  }
  return sha;
}

/** A commit-ish as a full commit id, or null when the repository has no such commit. */
export async function resolveCommit(repo: string, rev: string): Promise<string | null> {
  // '--end-of-options' keeps a base like '--output=x' from being read as an option.
  const out = await gitMaybe(
    ['-C', repo, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`],
    { timeoutMs: 10_000 },
  );
  return out === null ? null : out.trim();
}

/** One entry of `git worktree list`: its folder, its branch, and why it is locked. */
interface WorktreeEntry {
  path: string;
  branch: string | null;
  /** The lock's reason ('' for a lock without one), or null when it is not locked. */
  locked: string | null;
}

async function worktreeList(repo: string, signal?: AbortSignal): Promise<WorktreeEntry[]> {
  const out = await git(['-C', repo, 'worktree', 'list', '--porcelain'], {
    timeoutMs: 10_000,
    ...(signal ? { signal } : {}),
  });
  const list: WorktreeEntry[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('worktree ')) {
      list.push({ path: line.slice('worktree '.length), branch: null, locked: null });
      continue;
    }
    const last = list.at(-1);
    if (last === undefined) continue;
    if (line.startsWith('branch refs/heads/'))
      last.branch = line.slice('branch refs/heads/'.length);
    else if (line === 'locked') last.locked = '';
    else if (line.startsWith('locked ')) last.locked = line.slice('locked '.length);
  }
  return list;
}

/**
 * The same folder, as git lists it: git keeps a worktree's real path (symbolic links resolved),
 * and warden's home may be reached through one. A folder that is gone is compared by its parent.
 */
function samePath(listed: string, path: string): boolean {
  return resolve(listed) === resolve(path) || realPath(listed) === realPath(path);
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/**
 * Whether the worktree at `path` is one whose `git worktree add` never finished: git locks a
 * worktree it is making ("initializing", warden's git runs in the C locale) and unlocks it when
 * the checkout is done, so a lock left with that reason means the add was killed (a timeout,
 * `serve` stopped or killed) or is still under way, and its files are not all there.
 */
export async function isUnfinished(
  repo: string,
  path: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const entry = (await worktreeList(repo, signal)).find((w) => samePath(w.path, path));
  return entry?.locked === UNFINISHED_LOCK;
}

/** The lock reason of a worktree git is still making. */
const UNFINISHED_LOCK = 'initializing';

function branchTaken(repo: string, branch: string): WardenError {
  return conflict(
    `branch ${branch} already exists in ${repo} and was not made for this task (another warden home, or a person); delete or rename it (\`git -C ${repo} branch -m ${branch} OTHER\`), then unblock the task`,
  );
}

/**
 * Makes a task's worktree at `path` on `branch` from `baseSha`. With `reuseBranch` (the task's
 * own branch, kept when its folder went missing) an existing branch is checked out again;
 * otherwise an existing branch is someone else's and is refused. A branch checked out in another
 * worktree is always refused (`conflict`): two tasks never share one.
 *
 * A worktree at `path` left unfinished by an earlier add is discarded and made again. An add that
 * fails (git's timeout, or `signal`: serve stopping) takes back what it made, the branch too when
 * it made it, so the next attempt starts clean; a folder that was there before is never removed.
 */
export function addWorktree(...args: Parameters<typeof addOnce>): Promise<void> {
  // A failed try takes back what it made, so it can be made again from the start.
  return retryOnLock(() => addOnce(...args), args[5]);
}

async function addOnce(
  repo: string,
  path: string,
  branch: string,
  baseSha: string,
  reuseBranch: boolean,
  signal?: AbortSignal,
): Promise<void> {
  const call = signal ? { signal } : {};
  const list = await worktreeList(repo, signal);
  const holder = list.find((w) => w.branch === branch);
  const atPath = list.find((w) => samePath(w.path, path));
  if (holder !== undefined && holder !== atPath) {
    throw conflict(
      `branch ${branch} is already checked out in the worktree ${holder.path}; a branch has one worktree: remove it (\`git -C ${repo} worktree remove ${holder.path}\`) or rename the branch, then unblock the task`,
    );
  }
  if (atPath?.locked === UNFINISHED_LOCK) {
    // Only an add of warden's made this worktree at warden's path: its branch is this task's
    // when it holds it, and has no work of its own unless the task's runs used it before.
    await discard(repo, path, holder !== undefined && !reuseBranch ? branch : null);
  } else if (strayFolder(path)) {
    // Its worktree deleted by hand and a folder made there since (an editor's cache), or a
    // person's: a worker run there would work outside git, and the folder is not warden's to
    // clear. A person moves it.
    throw conflict(
      `a folder already exists at ${path} and is not a git worktree (its worktree was deleted by hand and the folder made again?); move it away (\`mv ${path} ${path}.old\`), then unblock the task: its worktree is made there from branch ${branch}`,
    );
  } else if (holder !== undefined && existsSync(path)) return;
  let exists =
    (await gitMaybe(
      ['-C', repo, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`],
      call,
    )) !== null;
  if (exists && !reuseBranch) {
    // Made by an add of this path that was cut short before its worktree (serve killed between
    // the two commands), and never used since: this task's, made again from the base.
    if (holder !== undefined || !(await madeHereOnly(repo, branch, path, call))) {
      throw branchTaken(repo, branch);
    }
    await deleteBranch(repo, branch);
    exists = false;
  }
  // A worktree deleted by hand is still in git's list, and git refuses its path until it is
  // pruned. Only then: a prune while another task's add runs on the same repository could take
  // that worktree's entry in the instant before git locks it.
  if (atPath !== undefined && atPath.locked !== UNFINISHED_LOCK && !existsSync(path)) {
    await git(['-C', repo, 'worktree', 'prune'], call);
  }
  const existed = existsSync(path);
  let made = false;
  try {
    if (!exists) {
      // Made on its own, and only if it is not there (the empty old value): a branch made by
      // someone else since the look above is refused, never taken for this task's (nor deleted
      // below). Its reflog's one line names this path, for `madeHereOnly`.
      await git(
        [
          '-C',
          repo,
          'update-ref',
          '--create-reflog',
          '-m',
          madeHereMessage(path),
          `refs/heads/${branch}`,
          baseSha,
          '',
        ],
        call,
      ).catch((err: unknown) => {
        // Not a lock of another git's ("...lock': File exists"): that passes, and is tried again.
        throw err instanceof GitError && /reference already exists/.test(err.message)
          ? branchTaken(repo, branch)
          : err;
      });
      made = true;
    }
    await git(['-C', repo, 'worktree', 'add', '--', path, branch], call);
  } catch (err) {
    // Not under the signal: this runs while serve stops too, and is local and short.
    const mine = made ? branch : null;
    if (!existed) await discard(repo, path, mine).catch(() => undefined);
    else if (mine !== null) await deleteBranch(repo, mine).catch(() => false);
    throw err;
  }
}

/**
 * Whether `path` is a folder but not a worktree: git keeps a `.git` file at a worktree's top,
 * and a folder without one is not a checkout of anything.
 */
export function strayFolder(path: string): boolean {
  return existsSync(path) && !existsSync(join(path, '.git'));
}

/** The reflog message of a branch warden makes for the worktree at `path`. */
function madeHereMessage(path: string): string {
  return `warden: made for the worktree ${realPath(path)}`;
}

/** Whether `branch`'s reflog is the one line warden wrote making it for `path`: never moved. */
async function madeHereOnly(
  repo: string,
  branch: string,
  path: string,
  call: { signal?: AbortSignal },
): Promise<boolean> {
  const log = await gitMaybe(
    ['-C', repo, 'reflog', 'show', '--format=%gs', `refs/heads/${branch}`, '--'],
    call,
  );
  return log !== null && log.trim() === madeHereMessage(path);
}

/**
 * Removes a worktree warden's add left unfinished (locked, so `-f -f`), and `branch` when given.
 * A git still making it (its `serve` died: git runs in a session of its own) is killed first,
 * or it would go on writing into the worktree made in its place.
 */
async function discard(repo: string, path: string, branch: string | null): Promise<void> {
  await killAddsOf(path);
  await gitMaybe(['-C', repo, 'worktree', 'remove', '-f', '-f', '--', path]);
  await removeTree(path);
  await git(['-C', repo, 'worktree', 'prune']);
  if (branch !== null) await deleteBranch(repo, branch);
}

/**
 * Kills every `git worktree add` making `path`, and waits (5 s at most) until they are gone. A
 * git that leads its own process group, as warden runs it, goes with its group (its checkout's
 * filters, its ssh); any other only itself, never the group of a script that ran it.
 */
async function killAddsOf(path: string): Promise<void> {
  const own = liveGroup(process.pid);
  const killed: number[] = [];
  for (const p of liveProcesses()) {
    const argv = commandLine(p.pid);
    if (argv === null || !isAddOf(argv, path)) continue;
    try {
      if (p.pgid === p.pid && p.pgid !== own) signalGroup(p.pid, 'SIGKILL');
      else signalProcess(p.pid, 'SIGKILL');
      killed.push(p.pid);
    } catch {
      // Not ours to signal (another user's): left to git's own lock.
    }
  }
  await until(() => !killed.some((pid) => pidAlive(pid)), 5_000, 20);
}

/** Whether a command line is git's `worktree add` of `path`. */
function isAddOf(argv: readonly string[], path: string): boolean {
  if (basename(argv[0] ?? '') !== 'git') return false;
  const verb = argv.findIndex((a, i) => a === 'worktree' && argv[i + 1] === 'add');
  return verb !== -1 && argv.slice(verb + 2).some((a) => a.startsWith('/') && samePath(a, path));
}

/** Removes a worktree from disk and git's list (`--force`: its changes were rescued at the ending). */
export async function removeWorktree(repo: string, path: string): Promise<void> {
  if (!existsSync(repo)) {
    // The repository is gone, and git's list of its worktrees with it: only the folder is left.
    await removeTree(path);
    return;
  }
  const lock = await lockOf(repo, path);
  // An add of warden's cut short: discarded as the next add would.
  if (lock?.by === 'warden') return discard(repo, path, null);
  if (lock?.by === 'person') throw personLocked(repo, path, lock.reason);
  if (existsSync(path)) {
    try {
      await git(['-C', repo, 'worktree', 'remove', '--force', '--', path]);
    } catch (err) {
      if (!(err instanceof GitError) || err.code === null) throw err;
      // Locked since the look above: kept all the same.
      if (/locked working tree/.test(err.message)) {
        throw personLocked(repo, path, /lock reason: (.*)$/.exec(err.message)?.[1] ?? '');
      }
      // Not a worktree any more (deleted and pruned by hand): the folder is just a folder.
      await removeTree(path);
    }
  }
  await git(['-C', repo, 'worktree', 'prune']);
}

/**
 * Who holds the worktree at `path` locked in git: warden (its add cut short, `initializing`),
 * a person (`git worktree lock`, with their reason, '' when none), or nobody (null).
 */
export async function lockOf(
  repo: string,
  path: string,
): Promise<{ by: 'warden' } | { by: 'person'; reason: string } | null> {
  const entry = (await worktreeList(repo)).find((w) => samePath(w.path, path));
  if (entry === undefined || entry.locked === null) return null;
  return entry.locked === UNFINISHED_LOCK
    ? { by: 'warden' }
    : { by: 'person', reason: entry.locked };
}

/**
 * A worktree a person locked to keep it: kept, saying how to let it go. Its folder removed
 * anyway, git would go on listing it, and its branch could not be deleted.
 */
export function personLocked(repo: string, path: string, reason: string): WardenError {
  return conflict(
    `git keeps it locked${reason ? ` (lock reason: ${reason})` : ''}; it stays until unlocked: \`git -C ${repo} worktree unlock ${path}\``,
  );
}

/** Forgets worktrees whose folders are gone or are not worktrees any more (`git worktree prune`). */
export async function pruneWorktrees(repo: string): Promise<void> {
  if (existsSync(repo)) await git(['-C', repo, 'worktree', 'prune']);
}

/**
 * Deletes a task's branch (`archive --delete-branch`, an add taken back): false when it was
 * gone already. Another git's lock is waited out a moment; that, and any other refusal of
 * git's (checked out in a worktree), is thrown with git's line.
 */
export async function deleteBranch(repo: string, branch: string): Promise<boolean> {
  try {
    await retryOnLock(() => git(['-C', repo, 'branch', '-D', '--', branch]));
    return true;
  } catch (err) {
    if (err instanceof GitError && err.code !== null && /not found/.test(err.message)) {
      return false;
    }
    throw err;
  }
}

let snapshots = 0;

/** How long the next git command may take: a fixed time, or what is left of a deadline. */
type Budget = number | (() => number);

function timeLeft(budget: Budget): number {
  return typeof budget === 'number' ? budget : budget();
}

/**
 * The tree of everything in a worktree now, tracked and untracked (ignored files excepted),
 * written with a temporary index so the worktree's own index and branch are untouched.
 */
async function snapshotTree(path: string, budget: Budget): Promise<{ tree: string; head: string }> {
  // Unique within this process and across processes; not a secret, so no crypto.
  const index = join(tmpdir(), `warden-index-${process.pid}-${++snapshots}-${Date.now()}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    const head = (
      await git(['rev-parse', 'HEAD'], { cwd: path, timeoutMs: timeLeft(budget) })
    ).trim();
    await git(['read-tree', head], { cwd: path, env, timeoutMs: timeLeft(budget) });
    await git(['add', '-A', '--', '.'], { cwd: path, env, timeoutMs: timeLeft(budget) });
    const tree = (
      await git(['write-tree'], { cwd: path, env, timeoutMs: timeLeft(budget) })
    ).trim();
    return { tree, head };
  } finally {
    rmSync(index, { force: true });
  }
}

/**
 * Commits a worktree's uncommitted changes (tracked and untracked) to
 * `refs/warden/rescue/<task>/<run>`, never onto its branch; null when there are none. Each of
 * its git commands gets `budget` (a deadline's remainder, for an ending's evidence).
 */
export function rescue(
  path: string,
  taskId: number,
  runId: number,
  budget: Budget = EVIDENCE_LIMITS.command_ms,
): Promise<RescueRef | null> {
  return saveUncommitted(
    path,
    rescueRef(taskId, runId),
    `warden: uncommitted changes of task ${taskId}, run ${runId}, at its ending`,
    budget,
  );
}

/**
 * Commits what is uncommitted in an archived task's worktree (a person's edits since its last
 * run's ending) to `refs/warden/rescue/<task>/archived-<ms>` before the worktree is removed;
 * null when there is nothing.
 */
export function rescueAtArchive(
  path: string,
  taskId: number,
  at: number,
): Promise<RescueRef | null> {
  return saveUncommitted(
    path,
    `refs/warden/rescue/${taskId}/archived-${at}`,
    `warden: uncommitted changes of task ${taskId}, at its archive`,
    EVIDENCE_LIMITS.command_ms,
    // A stop's ending saved them already when nobody touched them since: that ref says it.
    `refs/warden/rescue/${taskId}/`,
  );
}

/**
 * Commits the uncommitted changes at `path` to `ref`; null when there are none. With `reuse`,
 * a ref under it that holds the very same files is given instead of a new one.
 */
async function saveUncommitted(
  path: string,
  ref: string,
  message: string,
  budget: Budget,
  reuse?: string,
): Promise<RescueRef | null> {
  const status = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all'], {
    cwd: path,
    timeoutMs: timeLeft(budget),
  });
  const files = status.split('\0').filter((e) => /^..\s/.test(e)).length;
  if (files === 0) return null;
  const { tree, head } = await snapshotTree(path, budget);
  if (reuse !== undefined) {
    const refs = await git(['for-each-ref', '--format=%(tree) %(objectname) %(refname)', reuse], {
      cwd: path,
      timeoutMs: timeLeft(budget),
    });
    for (const line of refs.split('\n')) {
      const [t, sha, name] = line.split(' ');
      if (t === tree && sha !== undefined && name !== undefined) return { ref: name, sha, files };
    }
  }
  const sha = (
    await git(['commit-tree', tree, '-p', head, '-m', message], {
      cwd: path,
      env: RESCUE_IDENTITY,
      timeoutMs: timeLeft(budget),
    })
  ).trim();
  await git(['update-ref', ref, sha], { cwd: path, timeoutMs: timeLeft(budget) });
  return { ref, sha, files };
}

/** `git diff --shortstat` in numbers. */
export function parseShortstat(text: string): RunEvidence['diffstat'] {
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);
  return {
    files: num(/(\d+) files? changed/),
    insertions: num(/(\d+) insertions?\(\+\)/),
    deletions: num(/(\d+) deletions?\(-\)/),
  };
}

/**
 * What a run left in its worktree (SPEC §3 "evidence"): base and head, the commits since base,
 * the diffstat, and its uncommitted changes in a rescue ref. Bounded in time; a git failure is
 * recorded in `error` and never thrown, so it cannot stop an ending.
 */
export async function gatherEvidence(w: {
  path: string;
  branch: string;
  base: string;
  taskId: number;
  runId: number;
}): Promise<RunEvidence> {
  const deadline = Date.now() + EVIDENCE_LIMITS.total_ms;
  const budget = (): number =>
    Math.max(1, Math.min(EVIDENCE_LIMITS.command_ms, deadline - Date.now()));
  const ev: RunEvidence = {
    branch: w.branch,
    base: w.base,
    head: null,
    commits: 0,
    commit_list: [],
    diffstat: { files: 0, insertions: 0, deletions: 0 },
    rescue: null,
  };
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
    if (Date.now() >= deadline) {
      errors.push(`${what}: no time left`);
      return;
    }
    try {
      await fn();
    } catch (err) {
      errors.push(`${what}: ${gitMessage(err)}`);
    }
  };
  if (!existsSync(w.path)) {
    ev.error = `the worktree ${w.path} is gone`;
    return ev;
  }
  // The rescue first: uncommitted work is what a later step's failure must not cost. Each of
  // its commands gets what is left of the deadline, so the whole stays within it.
  await step('rescue', async () => {
    ev.rescue = await rescue(w.path, w.taskId, w.runId, budget);
  });
  await step('head', async () => {
    ev.head = (await git(['rev-parse', 'HEAD'], { cwd: w.path, timeoutMs: budget() })).trim();
  });
  const head = ev.head ?? 'HEAD';
  await step('commits', async () => {
    const log = await git(
      ['log', '--format=%H%x09%ct%x09%s', `-n${EVIDENCE_LIMITS.commit_list}`, `${w.base}..${head}`],
      { cwd: w.path, timeoutMs: budget() },
    );
    ev.commit_list = log
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [sha = '', seconds = '', ...subject] = l.split('\t');
        return { sha, subject: subject.join('\t'), at: Number(seconds) * 1000 };
      });
    const count = await git(['rev-list', '--count', `${w.base}..${head}`], {
      cwd: w.path,
      timeoutMs: budget(),
    });
    ev.commits = Number(count.trim());
  });
  await step('diffstat', async () => {
    ev.diffstat = parseShortstat(
      await git(['diff', '--shortstat', w.base, head], { cwd: w.path, timeoutMs: budget() }),
    );
  });
  if (errors.length > 0) ev.error = errors.join('; ').slice(0, 1000);
  return ev;
}

/** How much of a diff is given at most (the API, the dashboard). */
export const DIFF_MAX_BYTES = 4 * 1024 * 1024;

/**
 * A task's diff against its base: with its worktree on disk, everything in it now (committed,
 * uncommitted and untracked, as a rescue would save it); once it is removed, its branch.
 */
export async function taskDiff(
  w: { repo: string; path: string; branch: string; base_sha: string; removed_at: number | null },
  stat: boolean,
): Promise<{ to: string; text: string }> {
  const format = stat ? ['--stat=200'] : ['--no-color', '--no-ext-diff'];
  if (worktreeOnDisk(w)) {
    const { tree } = await snapshotTree(w.path, GIT_DIFF_TIMEOUT_MS);
    const text = await git(['diff', ...format, w.base_sha, tree], {
      cwd: w.path,
      timeoutMs: GIT_DIFF_TIMEOUT_MS,
      maxBuffer: DIFF_MAX_BYTES * 4,
    });
    return { to: 'the worktree as it is now', text };
  }
  const text = await git(['-C', w.repo, 'diff', ...format, w.base_sha, `refs/heads/${w.branch}`], {
    timeoutMs: GIT_DIFF_TIMEOUT_MS,
    maxBuffer: DIFF_MAX_BYTES * 4,
  });
  return { to: `branch ${w.branch}`, text };
}

const GIT_DIFF_TIMEOUT_MS = 30_000;

/** Whether a task's worktree is on disk here as a worktree (not removed, not a stray folder). */
function worktreeOnDisk(w: Pick<WorktreeRecord, 'path' | 'removed_at'>): boolean {
  return w.removed_at === null && existsSync(w.path) && !strayFolder(w.path);
}

/**
 * A task's diff against its base from its worktree record; `not_found` when it has none here.
 * The record is read by the caller (this module is below the store).
 */
export async function taskDiffView(
  taskId: number,
  rec: WorktreeRecord | null,
  withDiff: boolean,
): Promise<TaskDiffView> {
  if (rec === null) {
    throw notFound(
      `task ${taskId} has no worktree: its profile has no worktree workspace, or it has not started yet`,
      { task_id: taskId },
    );
  }
  // Its branch is in the repository, here when the repository is: a worktree folder deleted
  // by hand on this host still has its branch to diff.
  if (!existsSync(rec.path) && !existsSync(rec.repo)) {
    throw notFound(
      `task ${taskId}'s worktree ${rec.path} is not on this host (it is on host ${rec.host_id}); ask there`,
      { task_id: taskId },
    );
  }
  if (
    !worktreeOnDisk(rec) &&
    (await resolveCommit(rec.repo, `refs/heads/${rec.branch}`)) === null
  ) {
    // Deleting the branch once its work is merged is the usual end of a task.
    throw notFound(
      rec.removed_at === null
        ? `task ${taskId}'s worktree ${rec.path} is not here and its branch ${rec.branch} is not in ${rec.repo} (the worktree is on host ${rec.host_id}, or both were deleted); there is nothing here to diff`
        : `task ${taskId}'s worktree was removed and its branch ${rec.branch} is gone from ${rec.repo} (deleted, or merged and deleted); there is nothing left here to diff`,
      { task_id: taskId },
    );
  }
  const stat = await taskDiff(rec, true);
  let diff: string | null = null;
  let truncated = false;
  if (withDiff) {
    const full = (await taskDiff(rec, false)).text;
    truncated = Buffer.byteLength(full) > DIFF_MAX_BYTES;
    diff = truncated ? Buffer.from(full).subarray(0, DIFF_MAX_BYTES).toString('utf8') : full;
  }
  return {
    task_id: taskId,
    branch: rec.branch,
    base: rec.base_sha,
    against: stat.to,
    stat: stat.text,
    diff,
    truncated,
  };
}
