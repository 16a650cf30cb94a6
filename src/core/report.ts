import { counted } from './counting.js';
import { describeTaskState } from './describe.js';
import { formatDuration } from './duration.js';
import type { EpochMs, TaskId } from './glossary.js';
import type { TokenUsage } from './llm.js';
import type { TaskStatus } from './status.js';
import type { Task } from './task.js';
import type { RunEvidence } from './worktree.js';

/**
 * The morning report: what the workers of a board did since a time, each task once with its
 * branch, what is on it and what it cost, then what the model cost and how many things wait
 * for a person. Built from facts the store gathers; nothing here reads the store.
 */

/** How one task was worked in the window, as the store finds it. */
export interface ReportActivity {
  task_id: TaskId;
  /** Runs that ended in the window, and the one open now (if any). */
  runs: number;
  /** The latest run's ending in the window; for a run still open, its last progress or start. */
  last_at: EpochMs;
  /** The run open now, if one is. */
  open: { started_at: EpochMs; last_progress_at: EpochMs | null } | null;
}

/** What the store gathers for a report. */
export interface ReportFacts {
  /** Every task worked in the window (not only those listed), with its status now. */
  worked: (ReportActivity & { status: TaskStatus })[];
  /** The listed tasks, in full. */
  tasks: Task[];
  /** The evidence of each listed task's latest run that left some (worktree workspaces). */
  evidence: Map<TaskId, RunEvidence>;
  /** Model traffic of the board's runs in the window. */
  spent: { requests: number; tokens: TokenUsage; cost_usd: number; unpriced: number };
  /** How many things wait for a person now (the inbox's count). */
  waiting: number;
}

/** What the store reads of a report's runs in one snapshot (spending and the inbox apart). */
export type ReportRuns = Pick<ReportFacts, 'worked' | 'tasks' | 'evidence'>;

/** One task of the report. */
export interface ReportTask {
  id: TaskId;
  title: string;
  status: TaskStatus;
  assignee: string | null;
  /** Runs that ended in the window, and the one open now. */
  runs: number;
  last_at: EpochMs;
  /** The branch its latest run left (null: not a worktree workspace, or no run ended yet). */
  branch: string | null;
  /** Commits on it since its base, at that ending. */
  commits: number | null;
  diffstat: { files: number; insertions: number; deletions: number } | null;
  /** That ending left uncommitted changes, saved to a rescue ref rather than the branch. */
  uncommitted: boolean;
  /** What the task cost over all its runs (through the model proxy). */
  cost_usd: number;
  unpriced: number;
  requests: number;
  /** The worker's summary when it completed or asked for review. */
  summary: string | null;
  /** What the card says: why it is blocked, what holds it, how long it has been running. */
  note: string;
}

export interface Report {
  board: string;
  since: EpochMs;
  until: EpochMs;
  /** Tasks worked in the window, by status now (listed or not). */
  counts: Partial<Record<TaskStatus, number>>;
  /** How many tasks were worked in the window; `tasks` holds at most the limit of them. */
  total: number;
  tasks: ReportTask[];
  spent: ReportFacts['spent'];
  waiting: number;
}

/**
 * The order a person reads a report in: what is finished, what waits on them, what is under
 * way, what will be tried again.
 */
export const REPORT_ORDER: readonly TaskStatus[] = [
  'done',
  'review',
  'blocked',
  'running',
  'ready',
  'todo',
  'triage',
  'archived',
];

/** The listed order: by `REPORT_ORDER`, then the latest activity first, then the id. */
export function reportOrder<T extends { status: TaskStatus; last_at: EpochMs; task_id: TaskId }>(
  rows: readonly T[],
): T[] {
  const rank = (s: TaskStatus): number => {
    const i = REPORT_ORDER.indexOf(s);
    return i < 0 ? REPORT_ORDER.length : i;
  };
  return [...rows].sort(
    (a, b) => rank(a.status) - rank(b.status) || b.last_at - a.last_at || a.task_id - b.task_id,
  );
}

/** A running task's note: how long its run has gone and when it last made progress. */
function runningNote(open: NonNullable<ReportActivity['open']>, now: EpochMs): string {
  const age = (at: EpochMs): string => formatDuration(Math.max(0, now - at));
  const progress =
    open.last_progress_at === null
      ? 'no progress yet'
      : `progress ${age(open.last_progress_at)} ago`;
  return `running for ${age(open.started_at)}, ${progress}`;
}

export function buildReport(
  board: string,
  since: EpochMs,
  facts: ReportFacts,
  now: EpochMs,
): Report {
  const counts: Partial<Record<TaskStatus, number>> = {};
  for (const w of facts.worked) counts[w.status] = (counts[w.status] ?? 0) + 1;
  const byId = new Map(facts.tasks.map((t) => [t.id, t]));
  const listed = reportOrder(facts.worked).filter((w) => byId.has(w.task_id));
  const tasks = listed.map((w): ReportTask => {
    const task = byId.get(w.task_id) as Task;
    const ev = facts.evidence.get(task.id) ?? null;
    const summary = task.result?.summary ?? null;
    const state = describeTaskState(task, now);
    const note =
      task.status === 'running' && w.open !== null
        ? runningNote(w.open, now)
        : state !== ''
          ? state
          : (summary ?? '');
    return {
      id: task.id,
      title: task.title,
      status: task.status,
      assignee: task.assignee,
      runs: w.runs,
      last_at: w.last_at,
      branch: ev?.branch ?? null,
      commits: ev === null ? null : ev.commits,
      diffstat: ev?.diffstat ?? null,
      uncommitted: ev?.rescue != null,
      cost_usd: task.llm.cost_usd,
      unpriced: task.llm.unpriced,
      requests: task.llm.requests,
      summary,
      note,
    };
  });
  return {
    board,
    since,
    until: now,
    counts,
    total: facts.worked.length,
    tasks,
    spent: facts.spent,
    waiting: facts.waiting,
  };
}

/** What a task's latest run left on its branch: `3 commits, 4 files +120 -8`; `-`: nothing known. */
export function workText(t: ReportTask): string {
  if (t.commits === null) return '-';
  const parts = [counted(t.commits, 'commit')];
  if (t.diffstat !== null && t.commits > 0) {
    const d = t.diffstat;
    parts.push(`${counted(d.files, 'file')} +${d.insertions} -${d.deletions}`);
  }
  const committed = parts.join(', ');
  return t.uncommitted ? `${committed} + uncommitted (rescue ref)` : committed;
}
