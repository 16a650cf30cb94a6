import type { EpochMs } from './glossary.js';

/**
 * The model-activity proxy's domain (issue #13, docs/llm-proxy.md): which API an upstream
 * speaks, the tokens a response used, what they cost by a price table, and whether a budget
 * is spent. Pure: `src/proxy` does the forwarding, the store keeps the figures.
 */

/** The API an upstream speaks: OpenAI's (chat completions, responses) or Anthropic's. */
export const LLM_KINDS = ['openai', 'anthropic'] as const;
export type LlmKind = (typeof LLM_KINDS)[number];

/** Where the proxy's paths begin on `serve`'s HTTP server: `/llm/<run token>/...`. */
export const LLM_PATH = '/llm/';

/**
 * The header that carries a run's token to the proxy for a client that cannot put it in its
 * base URL's path without putting it on its command line (Codex's provider settings): its
 * base URL is `/llm/-` (`LLM_TOKEN_IN_HEADER`), and the proxy never forwards the header.
 */
export const LLM_TOKEN_HEADER = 'x-warden-run-token';
export const LLM_TOKEN_IN_HEADER = '-';

/** A run's proxy URL (`WARDEN_LLM_URL`, `/llm/<run token>`) for a client that sends the token in `LLM_TOKEN_HEADER`. */
export function llmUrlForHeader(llmUrl: string): string {
  return `${llmUrl.slice(0, llmUrl.lastIndexOf('/') + 1)}${LLM_TOKEN_IN_HEADER}`;
}

/** The variable each kind's SDKs and agents read their base URL from. */
export const BASE_URL_ENV: Record<LlmKind, string> = {
  openai: 'OPENAI_BASE_URL',
  anthropic: 'ANTHROPIC_BASE_URL',
};

/**
 * The variables a run of a profile with a proxy gets: `WARDEN_LLM_URL` and its kind's base-URL
 * variable, both `serve`'s per-run path (bound to the run's token). Nothing without a proxy.
 */
export function llmEnv(
  spec: LlmSpec | null,
  serveUrl: string | undefined,
  token: string,
): Record<string, string> {
  if (spec === null || serveUrl === undefined || serveUrl === '') return {};
  const url = `${serveUrl}${LLM_PATH}${token}`;
  return { WARDEN_LLM_URL: url, [BASE_URL_ENV[spec.kind]]: url };
}

/** An upstream is http(s) with a host: the proxy forwards to nothing else. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '';
  } catch {
    return false;
  }
}

/** A profile's proxy settings (`--llm-upstream`, `--llm-kind`, ...). */
export type LlmSpec = {
  /** The base URL the agent would have used without warden, e.g. `https://api.anthropic.com`. */
  upstream: string;
  kind: LlmKind;
  /** Requests in flight to this upstream at once from this host; more wait their turn. */
  max_concurrency: number | null;
  /** Upstream 429s and overload answers one run may get before it ends like exit 75. */
  max_rate_limits: number | null;
};

/** Default `max_rate_limits`: an agent's own retries get a few before warden steps in. */
export const DEFAULT_MAX_RATE_LIMITS = 5;

/** A profile's budgets; null: no limit. */
export type BudgetSpec = {
  max_tokens_per_task: number | null;
  max_cost_per_task: number | null;
  /** Across the profile's runs on one UTC day. */
  max_cost_per_day: number | null;
};

export const NO_BUDGET: BudgetSpec = {
  max_tokens_per_task: null,
  max_cost_per_task: null,
  max_cost_per_day: null,
};

/** Budgets are counted at the proxy: a profile without one has nothing to count them by. */
export const BUDGET_MISFIT =
  'a budget is counted at the model proxy; give --llm-upstream URL --llm-kind KIND with it';

/** Whether any budget is set. */
export function hasBudget(b: Partial<BudgetSpec> | undefined): boolean {
  return b !== undefined && Object.values(b).some((v) => v !== null && v !== undefined);
}

/**
 * Tokens of one request, as the provider counts them, in four kinds that do not overlap:
 * `input` excludes cached input (OpenAI's `prompt_tokens` include `cached_tokens`; they are
 * split here), `cache_read` and `cache_write` are Anthropic's cache figures (OpenAI: reads only).
 */
export interface TokenUsage {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
}

export const NO_TOKENS: TokenUsage = { input: 0, output: 0, cache_read: 0, cache_write: 0 };

/** Every token the model processed: what a token budget counts. */
export function totalTokens(u: TokenUsage): number {
  return u.input + u.output + u.cache_read + u.cache_write;
}

export function addTokens(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cache_read: a.cache_read + b.cache_read,
    cache_write: a.cache_write + b.cache_write,
  };
}

/** US dollars per million tokens of each kind. Missing cache prices cost as input. */
export interface Price {
  input: number;
  output: number;
  cache_read?: number;
  cache_write?: number;
}

/** Prices by model name; a key ending in `*` matches every model that starts with the rest. */
export type PriceTable = Record<string, Price>;

/**
 * The price of `model`: its own entry, else the longest `prefix*` entry it starts with, else
 * null (the request is recorded, its cost is unknown and said so).
 */
export function priceFor(table: PriceTable, model: string | null): Price | null {
  if (model === null) return null;
  const own = table[model];
  if (own) return own;
  let best: { len: number; price: Price } | null = null;
  for (const [key, price] of Object.entries(table)) {
    if (!key.endsWith('*')) continue;
    const prefix = key.slice(0, -1);
    if (model.startsWith(prefix) && (best === null || prefix.length > best.len)) {
      best = { len: prefix.length, price };
    }
  }
  return best?.price ?? null;
}

/** What `u` cost at `price`, in dollars. */
export function costOf(u: TokenUsage, price: Price): number {
  const perToken = (usdPerMillion: number): number => usdPerMillion / 1_000_000;
  return (
    u.input * perToken(price.input) +
    u.output * perToken(price.output) +
    u.cache_read * perToken(price.cache_read ?? price.input) +
    u.cache_write * perToken(price.cache_write ?? price.input)
  );
}

/** What a budget is measured against when a request arrives. */
export interface BudgetUse {
  task_tokens: number;
  task_cost: number;
  /** The profile's cost on this UTC day. */
  day_cost: number;
}

/** Which budget is spent, with the figures a person reads. */
export interface SpentBudget {
  budget: keyof BudgetSpec;
  message: string;
}

/** `1.02M`, `14k`, `950`: token counts as a person reads them. */
export function formatTokens(n: number): string {
  if (n >= 1_000_000) return `${trim(n / 1_000_000)}M`;
  if (n >= 1_000) return `${trim(n / 1_000)}k`;
  return String(n);
}

function trim(x: number): string {
  const digits = x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return Number(x.toFixed(digits)).toString();
}

/** `USD 1.23`, `USD 0.0042`: costs with the digits that matter. */
export function formatCost(usd: number): string {
  if (usd === 0) return 'USD 0';
  return `USD ${usd >= 1 ? usd.toFixed(2) : Number(usd.toPrecision(2)).toString()}`;
}

/**
 * The first budget `use` has reached, or null. A budget is spent once the figure reaches it:
 * the request that crossed it was let through whole (nothing is cut mid-request), the next
 * one is refused.
 */
export function spentBudget(budget: BudgetSpec, use: BudgetUse): SpentBudget | null {
  if (budget.max_tokens_per_task !== null && use.task_tokens >= budget.max_tokens_per_task) {
    return {
      budget: 'max_tokens_per_task',
      message: `${formatTokens(use.task_tokens)} tokens of ${formatTokens(budget.max_tokens_per_task)} for this task (max_tokens_per_task)`,
    };
  }
  if (budget.max_cost_per_task !== null && use.task_cost >= budget.max_cost_per_task) {
    return {
      budget: 'max_cost_per_task',
      message: `${formatCost(use.task_cost)} of ${formatCost(budget.max_cost_per_task)} for this task (max_cost_per_task)`,
    };
  }
  if (budget.max_cost_per_day !== null && use.day_cost >= budget.max_cost_per_day) {
    return {
      budget: 'max_cost_per_day',
      message: `${formatCost(use.day_cost)} of ${formatCost(budget.max_cost_per_day)} today for this profile (max_cost_per_day)`,
    };
  }
  return null;
}

/** The start of the UTC day `at` falls in: where a day's cost is counted from. */
export function utcDayStart(at: EpochMs): EpochMs {
  return at - (at % 86_400_000);
}

/** What a run's model traffic is doing now, for the card and `doctor`. */
export type LlmState = 'queued' | 'waiting' | 'streaming';

/** A run's model traffic: its totals and what it is doing now. */
export interface RunLlm {
  requests: number;
  tokens: TokenUsage;
  /** Of the priced requests; `unpriced` says how many had no price. */
  cost_usd: number;
  unpriced: number;
  /** Upstream 429s and overload answers. */
  rate_limits: number;
  /** Requests that failed (upstream down, unreadable, cut off, refused), and the last error. */
  errors: number;
  last_error: string | null;
  /** Null when no request is queued or open. */
  state: LlmState | null;
  state_since: EpochMs | null;
}

/** A run that has made no model request. */
export const NO_RUN_LLM: RunLlm = {
  requests: 0,
  tokens: NO_TOKENS,
  cost_usd: 0,
  unpriced: 0,
  rate_limits: 0,
  errors: 0,
  last_error: null,
  state: null,
  state_since: null,
};

/** A task's model traffic over all its runs. */
export interface TaskLlm {
  requests: number;
  tokens: number;
  cost_usd: number;
  unpriced: number;
}

/** One request through the proxy, as recorded. */
export interface LlmRequestRecord {
  run_id: number;
  model: string | null;
  /** The upstream's status; null when it never answered (down, garbage). */
  status: number | null;
  started_at: EpochMs;
  ended_at: EpochMs;
  /** Time spent queued behind `max_concurrency`. */
  queued_ms: number;
  tokens: TokenUsage;
  cost_usd: number | null;
  /** Why the request failed, when it did (upstream down, garbage, refused). */
  error: string | null;
}
