import { workerDecides } from '../../core/ending.js';
import { NO_BUDGET, utcDayStart } from '../../core/llm.js';
import type { Outcome } from '../../core/status.js';
import type { LlmRequestRecord, RunLlm } from '../../core/llm.js';
import type { LlmAdmission } from '../run-types.js';
import { notFound } from '../../core/errors.js';
import type { SqlDb } from './driver.js';
import { toRun } from './rows.js';
import type { RunRow } from './rows.js';
import type { Profile } from '../../core/profile.js';
import type { RunMode } from '../../core/run.js';

/**
 * The store's side of the model proxy (issue #13, docs/llm-proxy.md): admitting a request of a
 * run (fenced like every run-token call, with what its budgets are measured against) and
 * recording what a request used on the request, its run and its task.
 */

/**
 * The run of `tokenHash` if it may use the proxy now (current and `running`, or ending on its
 * own report), with its profile and budget figures; null when it may not, for the caller to
 * fence (which records the refusal). A read: the fast path of every model request.
 */
export async function llmAdmission(
  db: SqlDb,
  now: number,
  tokenHash: string,
): Promise<LlmAdmission | null> {
  // One statement, no transaction: this is on the way to every model request's first byte.
  const row = await db.get<AdmissionRow>(
    `SELECT r.id, r.task_id, r.mode, r.host_id, r.profile, r.state, r.outcome,
       r.terminal_request, t.current_run_id, t.llm_tokens, t.llm_cost_usd,
       p.spec AS profile_spec, p.paused AS profile_paused
     FROM runs r JOIN tasks t ON t.id = r.task_id LEFT JOIN profiles p ON p.name = r.profile
     WHERE r.token_hash = ?`,
    [tokenHash],
  );
  if (!row || row.current_run_id !== row.id) return null;
  // A worker that reported its result may still be talking to its model while it exits (an
  // agent's last turn after `complete`): only a run fenced by someone else is refused.
  const reported =
    row.state === 'ending' &&
    row.terminal_request !== null &&
    workerDecides(row.outcome as Outcome | null);
  if (row.state !== 'running' && !reported) return null;
  let profile: LlmAdmission['profile'] = null;
  if (row.profile !== null && row.profile_spec !== null) {
    const spec = JSON.parse(row.profile_spec) as Partial<Pick<Profile, 'llm' | 'budget'>>;
    profile = {
      name: row.profile,
      llm: spec.llm ?? null,
      budget: { ...NO_BUDGET, ...spec.budget },
      paused: row.profile_paused === 1,
    };
  }
  let dayCost = 0;
  if (profile?.budget.max_cost_per_day != null) {
    const sum = await db.get<{ c: number | null }>(
      'SELECT SUM(cost_usd) AS c FROM llm_requests WHERE profile = ? AND started_at >= ?',
      [profile.name, utcDayStart(now)],
    );
    dayCost = Number(sum?.c ?? 0);
  }
  return {
    run: {
      id: row.id,
      task_id: row.task_id,
      mode: row.mode as RunMode,
      host_id: row.host_id,
      profile: row.profile,
    },
    profile,
    use: { task_tokens: row.llm_tokens, task_cost: row.llm_cost_usd, day_cost: dayCost },
  };
}

interface AdmissionRow {
  id: number;
  task_id: number;
  mode: string;
  host_id: string | null;
  profile: string | null;
  state: string;
  outcome: string | null;
  terminal_request: string | null;
  current_run_id: number | null;
  llm_tokens: number;
  llm_cost_usd: number;
  profile_spec: string | null;
  profile_paused: number | null;
}

/**
 * Records one request on its own row and adds it to its run's and task's totals, in one
 * transaction. A superseded run's request is recorded too: its tokens were spent.
 */
export async function recordLlmRequest(
  db: SqlDb,
  rec: LlmRequestRecord,
  rateLimited: boolean,
): Promise<RunLlm> {
  const run = await db.get<RunRow>('SELECT * FROM runs WHERE id = ?', [rec.run_id]);
  if (!run) throw notFound(`run ${rec.run_id} does not exist`);
  const t = rec.tokens;
  const total = t.input + t.output + t.cache_read + t.cache_write;
  const unpriced = rec.cost_usd === null && total > 0 ? 1 : 0;
  const cost = rec.cost_usd ?? 0;
  await db.run(
    `INSERT INTO llm_requests (run_id, task_id, board, profile, model, status, started_at, ended_at,
       queued_ms, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      run.id,
      run.task_id,
      run.board,
      run.profile,
      rec.model,
      rec.status,
      rec.started_at,
      rec.ended_at,
      rec.queued_ms,
      t.input,
      t.output,
      t.cache_read,
      t.cache_write,
      rec.cost_usd,
      rec.error,
    ],
  );
  await db.run(
    `UPDATE runs SET llm_requests = llm_requests + 1, llm_input_tokens = llm_input_tokens + ?,
       llm_output_tokens = llm_output_tokens + ?, llm_cache_read_tokens = llm_cache_read_tokens + ?,
       llm_cache_write_tokens = llm_cache_write_tokens + ?, llm_cost_usd = llm_cost_usd + ?,
       llm_unpriced = llm_unpriced + ?, llm_rate_limits = llm_rate_limits + ?,
       llm_errors = llm_errors + ?, llm_last_error = COALESCE(?, llm_last_error)
     WHERE id = ?`,
    [
      t.input,
      t.output,
      t.cache_read,
      t.cache_write,
      cost,
      unpriced,
      rateLimited ? 1 : 0,
      rec.error === null ? 0 : 1,
      rec.error,
      run.id,
    ],
  );
  await db.run(
    `UPDATE tasks SET llm_requests = llm_requests + 1, llm_tokens = llm_tokens + ?,
       llm_cost_usd = llm_cost_usd + ?, llm_unpriced = llm_unpriced + ? WHERE id = ?`,
    [total, cost, unpriced, run.task_id],
  );
  const after = await db.get<RunRow>('SELECT * FROM runs WHERE id = ?', [run.id]);
  return toRun(after ?? run).llm;
}
