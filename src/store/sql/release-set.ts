import type { SqlParam } from './driver.js';
import { exactly } from './exactly.js';
import type { ReportedEnding } from './worker.js';

/** What closing a run writes on it (`closeRun`), beside `state = 'ended'`. */
export interface RunEnd {
  ended_at: number;
  outcome: string;
  reason: string;
  exit_code: number | null;
  signal: string | null;
  log_tail: string | null;
  progress_count: number;
  output_bytes: number;
  last_progress_at: number | null;
  last_output_at: number | null;
  last_heartbeat_at: number | null;
  result_summary: string | null;
  result_metadata: string | null;
  /** Kept as it was when null. */
  last_note: string | null;
  /** Kept as it was when null. */
  evidence: string | null;
}

/** What releasing a task from its ended run writes on it, beside `current_run_id = NULL`. */
export interface TaskRelease {
  status: string;
  updated_at: number;
  failures: number;
  stall_streak: number;
  rate_limited_streak: number;
  spawn_failures: number;
  host_losses: number;
  /** 1: `not_before` is written; 0: kept. */
  set_not_before: number;
  not_before: number | null;
  block_reason: string | null;
  block_kind: string | null;
  block_rule: string | null;
  /** 1: the run's result (`RunEnd`'s summary and metadata) becomes the task's; 0: kept. */
  is_done: number;
  review_by: string | null;
}

/** One run a report closes and its task's release, a row of `releaseSet`. */
export interface ReleaseRow {
  run_id: number;
  task_id: number;
  run: RunEnd;
  ending: ReportedEnding;
  task: TaskRelease;
}

/** The columns of a row as `releaseSet` sends them, with their PostgreSQL types. */
const COLUMNS = `run_id BIGINT, task_id BIGINT,
  ended_at BIGINT, outcome TEXT, reason TEXT, exit_code INTEGER, signal TEXT, log_tail TEXT,
  progress_count INTEGER, output_bytes BIGINT, last_progress_at BIGINT, last_output_at BIGINT,
  last_heartbeat_at BIGINT, result_summary TEXT, result_metadata TEXT, last_note TEXT, evidence TEXT,
  ending_at BIGINT, terminal_request TEXT, terminal_response TEXT,
  status TEXT, updated_at BIGINT, failures INTEGER, stall_streak INTEGER, rate_limited_streak INTEGER,
  spawn_failures INTEGER, host_losses INTEGER, set_not_before INTEGER, not_before BIGINT,
  block_reason TEXT, block_kind TEXT, block_rule TEXT, is_done INTEGER, review_by TEXT`;

/**
 * PostgreSQL: the runs that reports end, each closed with its ending, and their tasks
 * released, in one statement however many there are (issue #16: a group of reports costs one
 * statement, not one each). A task is released only if its run was there to close, and the
 * statement fails on the server unless every row released one task (`exactly`), so a deferred
 * write that went wrong aborts its transaction.
 */
export function releaseSet(rows: readonly ReleaseRow[]): { sql: string; params: SqlParam[] } {
  const flat = rows.map((r) => ({
    run_id: r.run_id,
    task_id: r.task_id,
    ...r.run,
    ...r.ending,
    ...r.task,
  }));
  // The ids again as arrays: the planner takes a set from JSON for a hundred rows, and for a
  // hundred it would read the runs and tasks tables whole instead of looking each id up.
  // Made in the statement, so a plan is not made again for each count (see `runsOfTokens`).
  return exactly(
    `WITH i AS (SELECT * FROM json_to_recordset(CAST(? AS json)) AS x(${COLUMNS})),
      closed AS (
        UPDATE runs r SET state = 'ended', ended_at = i.ended_at, outcome = i.outcome, reason = i.reason,
          exit_code = i.exit_code, signal = i.signal, log_tail = i.log_tail,
          progress_count = i.progress_count, output_bytes = i.output_bytes,
          last_progress_at = i.last_progress_at, last_output_at = i.last_output_at,
          last_heartbeat_at = i.last_heartbeat_at, result_summary = i.result_summary,
          result_metadata = i.result_metadata, last_note = COALESCE(i.last_note, r.last_note),
          evidence = COALESCE(i.evidence, r.evidence), ending_at = i.ending_at,
          terminal_request = i.terminal_request, terminal_response = i.terminal_response,
          used_protocol = 1
        FROM i WHERE r.id = ANY(ARRAY(SELECT run_id FROM i)) AND r.id = i.run_id RETURNING r.id),
      released AS (
        UPDATE tasks t SET status = i.status, current_run_id = NULL, updated_at = i.updated_at,
          failures = i.failures, stall_streak = i.stall_streak,
          rate_limited_streak = i.rate_limited_streak, spawn_failures = i.spawn_failures,
          host_losses = i.host_losses,
          not_before = CASE WHEN i.set_not_before = 1 THEN i.not_before ELSE t.not_before END,
          block_reason = i.block_reason, block_kind = i.block_kind, block_rule = i.block_rule,
          result_summary = CASE WHEN i.is_done = 1 THEN i.result_summary ELSE t.result_summary END,
          result_metadata = CASE WHEN i.is_done = 1 THEN i.result_metadata ELSE t.result_metadata END,
          review_by = i.review_by
        FROM i JOIN closed c ON c.id = i.run_id
        WHERE t.id = ANY(ARRAY(SELECT task_id FROM i)) AND t.id = i.task_id RETURNING t.id)`,
    'released',
    rows.length,
    [
      // As the driver sends a text parameter: a lone surrogate becomes U+FFFD (PostgreSQL's
      // JSON refuses it where its text would have taken the replacement).
      JSON.stringify(flat, (_key, value: unknown) =>
        typeof value === 'string' ? value.replace(/\p{Cs}/gu, '\ufffd') : value,
      ),
    ],
    `of ${rows.length} runs closed by their reports, a run or its task was not there`,
  );
}
