import { notFound } from '../../core/errors.js';
import type { RunId } from '../../core/glossary.js';
import { TIMELINE_LIMITS } from '../../core/timeline.js';
import type { ModelRequestRow, TimelineFacts } from '../../core/timeline.js';
import type { SqlDb } from './driver.js';
import { toEvent, toRun } from './rows.js';
import type { EventRow } from './rows.js';
import { runRow } from './runs.js';
import { runActivity } from './timeline-activity.js';

type Numeric = number | string | null;

/** A request row as the databases answer it (PostgreSQL gives BIGINT as text). */
type RequestRecord = Record<Exclude<keyof ModelRequestRow, 'model' | 'error'>, Numeric> &
  Pick<ModelRequestRow, 'model' | 'error'>;

/**
 * What a run's timeline is built from (src/core/timeline.ts): the run, its events, its
 * activity rows and its model requests, each the newest `TIMELINE_LIMITS` rows, oldest first.
 */
export async function timelineFacts(db: SqlDb, runId: RunId): Promise<TimelineFacts> {
  const row = await runRow(db, runId);
  if (!row) throw notFound(`run ${runId} does not exist`);
  const run = toRun(row);
  const events = await db.all<EventRow>(
    `SELECT * FROM (SELECT * FROM events WHERE task_id = ? AND run_id = ? ORDER BY id DESC LIMIT ?) newest
     ORDER BY id`,
    [run.task_id, runId, TIMELINE_LIMITS.events + 1],
  );
  const activity = await runActivity(db, runId, TIMELINE_LIMITS.activity + 1);
  const requests = await db.all<RequestRecord>(
    `SELECT * FROM (
       SELECT id, started_at, ended_at, model, status, input_tokens, output_tokens, cache_read_tokens,
         cache_write_tokens, cost_usd, error
       FROM llm_requests WHERE run_id = ? ORDER BY id DESC LIMIT ?
     ) newest ORDER BY id`,
    [runId, TIMELINE_LIMITS.requests + 1],
  );
  const n = (v: Numeric): number | null => (v === null ? null : Number(v));
  // One row past each limit says whether older ones were left off.
  return {
    run,
    events: events.slice(events.length > TIMELINE_LIMITS.events ? 1 : 0).map(toEvent),
    activity: activity.slice(activity.length > TIMELINE_LIMITS.activity ? 1 : 0),
    requests: requests.slice(requests.length > TIMELINE_LIMITS.requests ? 1 : 0).map((r) => ({
      started_at: Number(r.started_at),
      ended_at: Number(r.ended_at),
      model: r.model,
      status: n(r.status),
      input_tokens: Number(r.input_tokens),
      output_tokens: Number(r.output_tokens),
      cache_read_tokens: Number(r.cache_read_tokens),
      cache_write_tokens: Number(r.cache_write_tokens),
      cost_usd: n(r.cost_usd),
      error: r.error,
    })),
    cut: {
      events: events.length > TIMELINE_LIMITS.events,
      activity: activity.length > TIMELINE_LIMITS.activity,
      requests: requests.length > TIMELINE_LIMITS.requests,
    },
  };
}
