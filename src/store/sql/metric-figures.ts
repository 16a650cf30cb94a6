import type { RunMode } from '../../core/run.js';
import type { SqlDb } from './driver.js';

/** Open runs of one board, profile and host (pull runs: host `pull`), by state. */
export interface WorkerCount {
  board: string;
  profile: string;
  host: string;
  mode: RunMode;
  state: 'running' | 'ending';
  n: number;
}

/** Model traffic through the proxy of one board and profile, from the kept history. */
export interface LlmUse {
  board: string;
  profile: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
}

/** The figures of `/metrics` that are the same on every host: read from the store per scrape. */
export interface MetricFigures {
  workers: WorkerCount[];
  llm: LlmUse[];
}

/** PostgreSQL answers COUNT and SUM of a BIGINT as text. */
type Numeric = number | string | null;

/** Open runs grouped, and model use summed, each in one statement. */
export async function metricFigures(db: SqlDb): Promise<MetricFigures> {
  const workers = await db.all<Omit<WorkerCount, 'n'> & { n: Numeric }>(
    `SELECT board, COALESCE(profile, '-') AS profile,
       CASE WHEN mode = 'pull' THEN 'pull' ELSE COALESCE(host_id, '-') END AS host,
       mode, state, COUNT(*) AS n
     FROM runs WHERE state <> 'ended' GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
  );
  const llm = await db.all<Record<keyof LlmUse, Numeric>>(
    `SELECT board, COALESCE(profile, '-') AS profile, COUNT(*) AS requests,
       SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
       SUM(cache_read_tokens) AS cache_read_tokens, SUM(cache_write_tokens) AS cache_write_tokens,
       SUM(cost_usd) AS cost_usd
     FROM llm_requests GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return {
    workers: workers.map((w) => ({ ...w, n: Number(w.n) })),
    llm: llm.map((r) => ({
      board: String(r.board),
      profile: String(r.profile),
      requests: Number(r.requests),
      input_tokens: Number(r.input_tokens),
      output_tokens: Number(r.output_tokens),
      cache_read_tokens: Number(r.cache_read_tokens),
      cache_write_tokens: Number(r.cache_write_tokens),
      cost_usd: Number(r.cost_usd ?? 0),
    })),
  };
}
