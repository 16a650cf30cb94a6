import { invalid } from '../../core/errors.js';
import type { EpochMs } from '../../core/glossary.js';
import type { TokenUsage } from '../../core/llm.js';
import type { SqlDb, SqlParam } from './driver.js';

/** What `llmStats` groups model usage by: a UTC day is `YYYY-MM-DD`. */
export const LLM_STAT_KEYS = ['profile', 'board', 'day'] as const;
export type LlmStatKey = (typeof LLM_STAT_KEYS)[number];

/** Which requests `llmStats` sums, and by what. */
export interface LlmStatFilter {
  by: LlmStatKey;
  /** Only this board's requests. */
  board?: string;
  /** Only requests started at or after this time. */
  since?: EpochMs;
}

/** Model usage of one profile, board or UTC day. */
export interface LlmStatRow {
  /** The profile (`-` for runs without one), the board, or the UTC day as `2026-11-24`. */
  key: string;
  requests: number;
  tokens: TokenUsage;
  /** Of the priced requests; `unpriced` says how many had no price. */
  cost_usd: number;
  unpriced: number;
}

const DAY_MS = 86_400_000;

const GROUP: Record<LlmStatKey, string> = {
  profile: "COALESCE(profile, '-')",
  board: 'board',
  // The UTC day's start in ms; integer arithmetic on both databases.
  day: `started_at - started_at % ${DAY_MS}`,
};

/** Database sums: PostgreSQL answers SUM of a BIGINT as numeric text. */
interface SumRow {
  k: string | number;
  requests: number | string;
  input: number | string;
  output: number | string;
  cache_read: number | string;
  cache_write: number | string;
  cost: number | string | null;
  unpriced: number | string;
}

/**
 * Model usage through the proxy summed per profile, board or UTC day (oldest day first;
 * profiles and boards by name), from the `llm_requests` table. A request that used tokens
 * but had no price counts in `unpriced`, not in `cost_usd` (as on runs and tasks); a failed
 * request without tokens counts only in `requests`.
 */
export async function llmStats(db: SqlDb, filter: LlmStatFilter): Promise<LlmStatRow[]> {
  if (!LLM_STAT_KEYS.includes(filter.by)) {
    throw invalid(`model usage is summed by ${LLM_STAT_KEYS.join(', ')}, not '${filter.by}'`);
  }
  if (filter.since !== undefined && !Number.isSafeInteger(filter.since)) {
    throw invalid(`since: ${filter.since} is not a time in ms`);
  }
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (filter.board !== undefined) {
    where.push('board = ?');
    params.push(filter.board);
  }
  if (filter.since !== undefined) {
    where.push('started_at >= ?');
    params.push(filter.since);
  }
  const rows = await db.all<SumRow>(
    `SELECT ${GROUP[filter.by]} AS k, COUNT(*) AS requests,
       SUM(input_tokens) AS input, SUM(output_tokens) AS output,
       SUM(cache_read_tokens) AS cache_read, SUM(cache_write_tokens) AS cache_write,
       SUM(cost_usd) AS cost, SUM(CASE WHEN cost_usd IS NULL AND input_tokens + output_tokens
         + cache_read_tokens + cache_write_tokens > 0 THEN 1 ELSE 0 END) AS unpriced
     FROM llm_requests${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
     GROUP BY 1 ORDER BY 1`,
    params,
  );
  return rows.map((r) => ({
    key: filter.by === 'day' ? new Date(Number(r.k)).toISOString().slice(0, 10) : String(r.k),
    requests: Number(r.requests),
    tokens: {
      input: Number(r.input),
      output: Number(r.output),
      cache_read: Number(r.cache_read),
      cache_write: Number(r.cache_write),
    },
    cost_usd: Number(r.cost ?? 0),
    unpriced: Number(r.unpriced),
  }));
}
