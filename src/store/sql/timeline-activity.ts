import type { EpochMs } from '../../core/glossary.js';
import type { ActivityRow } from '../../core/timeline.js';
import type { RunId } from '../../core/glossary.js';
import type { ProgressUpdate } from '../run-types.js';
import type { SqlDb } from './driver.js';

/**
 * Books what each run of a progress batch did since the last one (issue #15, a run's
 * timeline): the growth of its output bytes and progress calls over what the run row holds,
 * as one `run_activity` row, in the batch's own transaction and before the batch raises the
 * row's figures. A run that did nothing since gets no row. So a run costs at most one insert
 * per batch (SPEC §3: one batch per host every 15 s, and one at every ending), whatever it
 * writes; an insert of one statement, with no read before it.
 */
export async function recordActivity(
  db: SqlDb,
  now: EpochMs,
  batch: readonly ProgressUpdate[],
): Promise<void> {
  for (const u of batch) {
    if (u.output_bytes === undefined && u.progress_count === undefined) continue;
    const bytes = u.output_bytes ?? 0;
    const calls = u.progress_count ?? 0;
    await db.run(
      `INSERT INTO run_activity (run_id, at, output_bytes, progress_calls, last_output_at, last_progress_at, note)
       SELECT id, ?,
         CASE WHEN CAST(? AS BIGINT) > output_bytes THEN CAST(? AS BIGINT) - output_bytes ELSE 0 END,
         CASE WHEN CAST(? AS INTEGER) > progress_count THEN CAST(? AS INTEGER) - progress_count ELSE 0 END,
         CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT)
       FROM runs
       WHERE id = ? AND state <> 'ended'
         AND (CAST(? AS BIGINT) > output_bytes OR CAST(? AS INTEGER) > progress_count)`,
      [
        now,
        bytes,
        bytes,
        calls,
        calls,
        u.last_output_at ?? null,
        // The timeline's progress calls go where the last call came, not where the run last
        // showed any progress (its output, its model traffic, which can be at its very end).
        u.last_call_at ?? u.last_progress_at ?? null,
        u.last_note ?? null,
        u.runId,
        bytes,
        calls,
      ],
    );
  }
}

interface ActivityRecord {
  at: number | string;
  output_bytes: number | string;
  progress_calls: number | string;
  last_output_at: number | string | null;
  last_progress_at: number | string | null;
  note: string | null;
}

/** A run's activity rows, oldest first: the newest `limit` when it has more. */
export async function runActivity(db: SqlDb, runId: RunId, limit: number): Promise<ActivityRow[]> {
  const rows = await db.all<ActivityRecord>(
    `SELECT at, output_bytes, progress_calls, last_output_at, last_progress_at, note FROM (
       SELECT * FROM run_activity WHERE run_id = ? ORDER BY id DESC LIMIT ?
     ) newest ORDER BY id`,
    [runId, limit],
  );
  const n = (v: number | string | null): number | null => (v === null ? null : Number(v));
  return rows.map((r) => ({
    at: Number(r.at),
    output_bytes: Number(r.output_bytes),
    progress_calls: Number(r.progress_calls),
    last_output_at: n(r.last_output_at),
    last_progress_at: n(r.last_progress_at),
    note: r.note,
  }));
}

/**
 * Deletes the activity rows of the runs of tasks that `warden gc` prunes (done or archived
 * and unchanged since `before`), with their events: their timelines keep the run's own row,
 * model requests and evidence. Returns how many rows went.
 */
export async function pruneActivity(db: SqlDb, before: EpochMs): Promise<number> {
  return db.run(
    `DELETE FROM run_activity WHERE run_id IN (
       SELECT r.id FROM runs r JOIN tasks t ON t.id = r.task_id
       WHERE t.status IN ('done', 'archived') AND t.updated_at < ?)`,
    [before],
  );
}
