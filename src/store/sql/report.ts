import type { EpochMs, TaskId } from '../../core/glossary.js';
import type { ReportActivity, ReportRuns } from '../../core/report.js';
import { reportOrder } from '../../core/report.js';
import type { TaskStatus } from '../../core/status.js';
import type { RunEvidence } from '../../core/worktree.js';
import type { SqlDb } from './driver.js';
import { idIn } from './id-list.js';
import { json } from './rows.js';
import { listTasks } from './tasks.js';

interface EndedRow {
  task_id: number;
  n: number | string;
  last_at: number | string;
}

interface OpenRow {
  task_id: number;
  started_at: number | string;
  last_progress_at: number | string | null;
}

/**
 * The tasks of a board worked since a time: those with a run that ended since (the board's
 * `runs_board_ended` index) or a run open now (`runs_open`), each with its status now; the
 * first `limit` of them in the report's order in full, with their latest evidence.
 */
export async function reportFacts(
  db: SqlDb,
  board: string,
  since: EpochMs,
  limit: number,
): Promise<ReportRuns> {
  const activity = new Map<TaskId, ReportActivity>();
  const ended = await db.all<EndedRow>(
    `SELECT task_id, COUNT(*) AS n, MAX(ended_at) AS last_at FROM runs
     WHERE board = ? AND ended_at >= ? GROUP BY task_id`,
    [board, since],
  );
  for (const r of ended) {
    const id = Number(r.task_id);
    activity.set(id, { task_id: id, runs: Number(r.n), last_at: Number(r.last_at), open: null });
  }
  const open = await db.all<OpenRow>(
    `SELECT task_id, started_at, last_progress_at FROM runs
     WHERE state <> 'ended' AND board = ?`,
    [board],
  );
  for (const r of open) {
    const id = Number(r.task_id);
    const started_at = Number(r.started_at);
    const last_progress_at = r.last_progress_at === null ? null : Number(r.last_progress_at);
    const known = activity.get(id);
    activity.set(id, {
      task_id: id,
      runs: (known?.runs ?? 0) + 1,
      last_at: Math.max(known?.last_at ?? 0, last_progress_at ?? started_at),
      open: { started_at, last_progress_at },
    });
  }
  if (activity.size === 0) return { worked: [], tasks: [], evidence: new Map() };

  const among = idIn(db, 'id', [...activity.keys()]);
  const statuses = await db.all<{ id: number; status: TaskStatus }>(
    `SELECT id, status FROM tasks WHERE ${among.sql}`,
    [among.param],
  );
  const worked = statuses.map((s) => ({
    ...(activity.get(Number(s.id)) as ReportActivity),
    status: s.status,
  }));
  const listed = reportOrder(worked)
    .slice(0, limit)
    .map((w) => w.task_id);
  const tasks = await listTasks(db, { ids: listed, include_archived: true, limit });
  return { worked, tasks, evidence: await latestEvidence(db, listed) };
}

/** Each task's evidence from its latest run that left some. */
async function latestEvidence(
  db: SqlDb,
  ids: readonly TaskId[],
): Promise<Map<TaskId, RunEvidence>> {
  const found = new Map<TaskId, RunEvidence>();
  if (ids.length === 0) return found;
  const among = idIn(db, 'task_id', ids);
  // One row per task (its latest run with evidence), not every run's evidence parsed.
  const rows = await db.all<{ task_id: number; evidence: string }>(
    `SELECT task_id, evidence FROM (
       SELECT task_id, evidence, ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY id DESC) AS n
       FROM runs WHERE ${among.sql} AND evidence IS NOT NULL
     ) AS latest WHERE n = 1`,
    [among.param],
  );
  for (const r of rows) {
    const ev = json<RunEvidence | null>(r.evidence, null);
    if (ev !== null) found.set(Number(r.task_id), ev);
  }
  return found;
}
