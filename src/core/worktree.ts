import type { EpochMs, RunId, TaskId } from './glossary.js';
import { invalid } from './errors.js';

/**
 * Git worktree workspaces (docs/worktrees.md): a profile whose tasks each get a git worktree
 * of REPO, on branch `warden/<task-id>` from BASE, instead of an empty folder.
 */
// A type, not an interface: it is stored in a profile's JSON spec, which must be `Json`.
export type WorktreeSpec = {
  /** The repository, an absolute path on every host that runs the profile. */
  repo: string;
  /** A commit-ish the branch starts from; null: REPO's HEAD when the task is first claimed. */
  base: string | null;
};

/** A task's worktree as the store records it when it is made (the first claim). */
export interface WorktreeRecord {
  task_id: TaskId;
  /** The host that made it; no other host touches it. */
  host_id: string;
  repo: string;
  path: string;
  branch: string;
  /** The commit the branch started from, resolved when the worktree was made. */
  base_sha: string;
  created_at: EpochMs;
  /** When archiving removed it from disk (the branch may stay). */
  removed_at: EpochMs | null;
}

/** Uncommitted work saved at an ending, under `refs/warden/rescue/<task>/<run>`. */
export interface RescueRef {
  ref: string;
  sha: string;
  /** How many paths differed from HEAD (tracked and untracked). */
  files: number;
}

/** What a run left in its worktree, recorded at its ending whatever the outcome. */
export interface RunEvidence {
  branch: string;
  base: string;
  /** The branch's head at the ending (null when it could not be read). */
  head: string | null;
  /** Commits on the branch since base. */
  commits: number;
  /** The newest commits since base, up to `EVIDENCE_LIMITS.commit_list`. */
  commit_list: {
    sha: string;
    subject: string;
    /** Its committer time (absent in evidence recorded before issue #15's timeline). */
    at?: EpochMs;
  }[];
  /** Base to head (committed work only). */
  diffstat: { files: number; insertions: number; deletions: number };
  /** Uncommitted changes, committed to a rescue ref (never onto the branch); null: none. */
  rescue: RescueRef | null;
  /** What went wrong while gathering, when something did; the ending went on regardless. */
  error?: string;
}

/** A task's diff as the CLI and the API give it. */
export interface TaskDiffView {
  task_id: number;
  branch: string;
  base: string;
  /** What the diff goes to: the worktree as it is now, or the branch once it is removed. */
  against: string;
  /** `git diff --stat` */
  stat: string;
  /** The diff itself, cut at `DIFF_MAX_BYTES` (null when only the stat was asked for). */
  diff: string | null;
  truncated: boolean;
  /** Uncommitted work the task's latest run left off its branch (`workOffBranch`). */
  off_branch?: OffBranch | null;
}

/** Uncommitted work of a run, saved in a rescue ref and not on the task's branch. */
export type OffBranch = RescueRef & { run_id: number };

/**
 * The uncommitted work the task's latest run with evidence left, saved in its rescue ref:
 * not on the branch a person merges, though a diff of the worktree shows it. Null when that
 * run left none (an earlier run's rescue went on in the worktree to the later runs).
 */
export function workOffBranch(
  runs: readonly { id: number; evidence: RunEvidence | null }[],
): OffBranch | null {
  const last = runs.filter((r) => r.evidence !== null).at(-1);
  const rescue = last?.evidence?.rescue ?? null;
  return last === undefined || rescue === null ? null : { ...rescue, run_id: last.id };
}

/** One line on work left off the branch, with the git command that shows it. */
export function offBranchNote(o: OffBranch, branch: string, repo: string): string {
  return `run ${o.run_id} left uncommitted changes (${o.files} path${o.files === 1 ? '' : 's'}) that are not on branch ${branch}: they are in ${o.ref} (git -C ${repo} diff ${branch} ${o.ref})`;
}

/** Bounds of evidence gathering: an ending never waits on git for long. */
export const EVIDENCE_LIMITS = {
  /** Each git command at an ending. */
  command_ms: 10_000,
  /** The whole of an ending's evidence. */
  total_ms: 30_000,
  commit_list: 20,
} as const;

/** The branch of a task's worktree. */
export function worktreeBranch(taskId: TaskId): string {
  return `warden/${taskId}`;
}

/** The rescue ref of a run. */
export function rescueRef(taskId: TaskId, runId: RunId): string {
  return `refs/warden/rescue/${taskId}/${runId}`;
}

const WORKTREE_PREFIX = 'worktree:';

/**
 * Parses `--workspace`: `folder` (a plain folder per task, the default) or
 * `worktree:REPO[@BASE]` with REPO an absolute path. Returns null for `folder`.
 */
export function parseWorkspace(text: string): WorktreeSpec | null {
  if (text === 'folder') return null;
  if (!text.startsWith(WORKTREE_PREFIX)) {
    throw invalid(
      `--workspace: '${text}' is neither 'folder' nor 'worktree:REPO[@BASE]' (REPO an absolute path)`,
    );
  }
  const rest = text.slice(WORKTREE_PREFIX.length);
  // A repository path may hold '@'; the base is what follows the last one.
  const at = rest.lastIndexOf('@');
  const repo = at > 0 ? rest.slice(0, at) : rest;
  const base = at > 0 ? rest.slice(at + 1) : null;
  if (!repo.startsWith('/')) {
    throw invalid(`--workspace: REPO '${repo}' must be an absolute path (worktree:/path/to/repo)`);
  }
  if (base === '') throw invalid(`--workspace: nothing after '@'; give a BASE or drop the '@'`);
  return { repo: repo.length > 1 ? repo.replace(/\/+$/, '') : repo, base };
}

/** `--workspace` as a person would type it. */
export function workspaceText(spec: WorktreeSpec | null | undefined): string {
  if (!spec) return 'folder';
  return `${WORKTREE_PREFIX}${spec.repo}${spec.base === null ? '' : `@${spec.base}`}`;
}

/**
 * Why the workspace fields disagree, or null when they agree: a worktree is the worker's cwd
 * on a spawned profile, and `--setup` runs in one.
 */
export function worktreeMisfit(p: {
  mode?: 'spawned' | 'pull' | undefined;
  cwd?: string | undefined;
  worktree?: WorktreeSpec | null | undefined;
  setup?: string | null | undefined;
}): string | null {
  const tree = p.worktree !== undefined && p.worktree !== null;
  if (!tree) {
    return p.setup === undefined || p.setup === null
      ? null
      : "--setup runs in a task's worktree: give --workspace worktree:REPO with it, or drop --setup";
  }
  if (p.mode === 'pull') {
    return 'a worktree workspace is made on the host that starts the worker: a pull profile cannot have one (use a spawned profile, or drop --workspace worktree:...)';
  }
  if (p.cwd !== undefined && p.cwd !== 'workspace') {
    return "a worktree workspace is the worker's cwd: drop --cwd (or use --workspace folder)";
  }
  return null;
}

/** Whether file changes in a profile's workspace count as progress: on for worktrees by default. */
export function watchesWorkspace(p: {
  worktree?: WorktreeSpec | null;
  progress_from_workspace?: boolean | null;
}): boolean {
  return p.progress_from_workspace ?? (p.worktree !== undefined && p.worktree !== null);
}

/**
 * What a run's reason says of its evidence: the rescue ref of its uncommitted changes, and a
 * failure to gather; null when there is neither.
 */
export function evidenceNote(e: RunEvidence): string | null {
  const parts: string[] = [];
  if (e.rescue) {
    parts.push(
      `uncommitted changes (${e.rescue.files} path${e.rescue.files === 1 ? '' : 's'}) saved in ${e.rescue.ref}`,
    );
  }
  if (e.error !== undefined) parts.push(`evidence incomplete: ${e.error}`);
  return parts.length === 0 ? null : parts.join('; ');
}

/** Evidence in one line: for a reason, `warden runs` and the log. */
export function evidenceLine(e: RunEvidence): string {
  // No head read (the worktree gone, git failing): its commits and changes are not known, not 0.
  const parts =
    e.head === null
      ? [`${e.branch} ${e.base.slice(0, 10)}..?`, 'commits and changes unknown']
      : [
          `${e.branch} ${e.base.slice(0, 10)}..${e.head.slice(0, 10)}`,
          `${e.commits} commit${e.commits === 1 ? '' : 's'}`,
          `${e.diffstat.files} file${e.diffstat.files === 1 ? '' : 's'} +${e.diffstat.insertions} -${e.diffstat.deletions}`,
        ];
  if (e.rescue) parts.push(`uncommitted changes (${e.rescue.files}) saved in ${e.rescue.ref}`);
  if (e.error !== undefined) parts.push(`evidence incomplete: ${e.error}`);
  return parts.join('; ');
}
