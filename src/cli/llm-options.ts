import type { Command } from 'commander';
import { invalid } from '../core/errors.js';
import { LLM_KINDS, isHttpUrl } from '../core/llm.js';
import type { BudgetSpec, LlmKind, LlmSpec } from '../core/llm.js';
import { parseIntOption } from './options.js';

/**
 * The model proxy's options of `profile add` and `profile edit` (issue #13,
 * docs/llm-proxy.md): where the agent's model traffic goes, and the budgets counted on it.
 */

export interface LlmOptions {
  llmUpstream?: string;
  llmKind?: string;
  llmMaxConcurrency?: string;
  llmMaxRateLimits?: string;
  maxTokensPerTask?: string;
  maxCostPerTask?: string;
  maxCostPerDay?: string;
}

/** What `--clear` takes for these options. */
export const LLM_CLEARABLE = [
  'llm',
  'llm_max_concurrency',
  'llm_max_rate_limits',
  'max_tokens_per_task',
  'max_cost_per_task',
  'max_cost_per_day',
] as const;

export function addLlmOptions(cmd: Command): Command {
  return cmd
    .option(
      '--llm-upstream <url>',
      "send its workers' model traffic through serve's proxy to this base URL (e.g. https://api.anthropic.com, https://api.openai.com/v1)",
    )
    .option('--llm-kind <kind>', `the API the upstream speaks: ${LLM_KINDS.join(' or ')}`)
    .option('--llm-max-concurrency <n>', 'most model requests in flight to the upstream at once')
    .option(
      '--llm-max-rate-limits <n>',
      'upstream rate limits one run may get before it ends like exit 75 (default 5)',
    )
    .option('--max-tokens-per-task <n>', 'token budget of each task (e.g. 500k, 2M)')
    .option('--max-cost-per-task <usd>', 'cost budget of each task, in US dollars')
    .option(
      '--max-cost-per-day <usd>',
      "cost budget of the profile's runs per UTC day, in dollars",
    );
}

function checkUrl(text: string): string {
  if (!isHttpUrl(text)) {
    throw invalid(
      `--llm-upstream: '${text}' is not an http:// or https:// URL; give the base URL the agent would use without warden, like https://api.anthropic.com`,
    );
  }
  return text;
}

function checkKind(text: string): LlmKind {
  if (!(LLM_KINDS as readonly string[]).includes(text)) {
    throw invalid(`--llm-kind: '${text}' is not a kind; use ${LLM_KINDS.join(' or ')}`);
  }
  return text as LlmKind;
}

/** `500000`, `500k`, `2M`, `1.5M`: a whole number of tokens, at least 1. */
export function parseTokenCount(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  const unit = m?.[2]?.toLowerCase() === 'k' ? 1e3 : m?.[2]?.toLowerCase() === 'm' ? 1e6 : 1;
  const n = m ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isFinite(n) || n < 1) {
    throw invalid(
      `${what}: '${text}' is not a token count; use a whole number of at least 1, like 500000, 500k or 2M`,
    );
  }
  return n;
}

/** `5`, `0.50`, `$12`: dollars, more than 0. */
export function parseUsd(text: string, what: string): number {
  const m = /^\$?(\d+(?:\.\d+)?)$/.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > 1_000_000) {
    throw invalid(
      `${what}: '${text}' is not a budget; use an amount of US dollars more than 0, like 5 or 0.50`,
    );
  }
  return n;
}

/** The proxy settings the options give (a part, for an edit), or undefined for none. */
export function llmFields(
  opts: LlmOptions,
  defaultKind: LlmKind | null,
): Partial<LlmSpec> | undefined {
  const part: Partial<LlmSpec> = {};
  if (opts.llmUpstream !== undefined) part.upstream = checkUrl(opts.llmUpstream);
  if (opts.llmKind !== undefined) part.kind = checkKind(opts.llmKind);
  if (opts.llmMaxConcurrency !== undefined)
    part.max_concurrency = parseIntOption(opts.llmMaxConcurrency, '--llm-max-concurrency');
  if (opts.llmMaxRateLimits !== undefined)
    part.max_rate_limits = parseIntOption(opts.llmMaxRateLimits, '--llm-max-rate-limits');
  if (Object.keys(part).length === 0) return undefined;
  if (part.upstream !== undefined && part.kind === undefined && defaultKind !== null)
    part.kind = defaultKind;
  return part;
}

/** A new profile's proxy settings, whole; null without `--llm-upstream`. */
export function newLlmSpec(opts: LlmOptions, defaultKind: LlmKind | null): LlmSpec | null {
  const part = llmFields(opts, defaultKind);
  if (part === undefined) return null;
  if (part.upstream === undefined) {
    throw invalid('--llm-* options need --llm-upstream URL: where the model traffic goes');
  }
  if (part.kind === undefined) {
    throw invalid(
      `--llm-upstream needs --llm-kind (${LLM_KINDS.join(' or ')}): the API the upstream speaks`,
    );
  }
  return {
    upstream: part.upstream,
    kind: part.kind,
    max_concurrency: part.max_concurrency ?? null,
    max_rate_limits: part.max_rate_limits ?? null,
  };
}

/** The budgets the options set, or undefined for none. */
export function budgetFields(opts: LlmOptions): Partial<BudgetSpec> | undefined {
  const b: Partial<BudgetSpec> = {};
  if (opts.maxTokensPerTask !== undefined)
    b.max_tokens_per_task = parseTokenCount(opts.maxTokensPerTask, '--max-tokens-per-task');
  if (opts.maxCostPerTask !== undefined)
    b.max_cost_per_task = parseUsd(opts.maxCostPerTask, '--max-cost-per-task');
  if (opts.maxCostPerDay !== undefined)
    b.max_cost_per_day = parseUsd(opts.maxCostPerDay, '--max-cost-per-day');
  return Object.keys(b).length === 0 ? undefined : b;
}
