import { describe, expect, it } from 'vitest';
import {
  NO_BUDGET,
  costOf,
  formatCost,
  formatTokens,
  llmEnv,
  priceFor,
  spentBudget,
  totalTokens,
  utcDayStart,
} from '../../src/core/llm.js';
import { DEFAULT_PRICES } from '../../src/core/prices.js';

describe('prices', () => {
  const table = {
    'claude-sonnet-4*': { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
    'claude-sonnet-4-5*': { input: 4, output: 16 },
    'exact-model': { input: 1, output: 2 },
  };

  it('takes a model its own entry first, else the longest prefix it starts with', () => {
    expect(priceFor(table, 'exact-model')).toEqual({ input: 1, output: 2 });
    expect(priceFor(table, 'claude-sonnet-4-5-20250929')?.input).toBe(4);
    expect(priceFor(table, 'claude-sonnet-4-20250514')?.input).toBe(3);
    expect(priceFor(table, 'exact-model-2')).toBeNull();
    expect(priceFor(table, null)).toBeNull();
  });

  it('costs each kind of token at its own price; missing cache prices cost as input', () => {
    const u = {
      input: 1_000_000,
      output: 2_000_000,
      cache_read: 1_000_000,
      cache_write: 1_000_000,
    };
    expect(costOf(u, { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 })).toBeCloseTo(
      3 + 30 + 0.3 + 3.75,
      10,
    );
    expect(costOf(u, { input: 2, output: 8 })).toBeCloseTo(2 + 16 + 2 + 2, 10);
    expect(totalTokens(u)).toBe(5_000_000);
  });

  it('the built-in table prices the agents the recipes run', () => {
    expect(priceFor(DEFAULT_PRICES, 'claude-sonnet-4-5-20250929')).not.toBeNull();
    expect(priceFor(DEFAULT_PRICES, 'gpt-5-mini-2025-08-07')?.input).toBe(0.25);
    expect(priceFor(DEFAULT_PRICES, 'gpt-5-2025-08-07')?.input).toBe(1.25);
  });
});

describe('budgets', () => {
  const use = { task_tokens: 0, task_cost: 0, day_cost: 0 };

  it('none set: never spent', () => {
    expect(spentBudget(NO_BUDGET, { task_tokens: 1e12, task_cost: 1e9, day_cost: 1e9 })).toBeNull();
  });

  it('is spent once the figure reaches it, and says the figures', () => {
    const b = { ...NO_BUDGET, max_tokens_per_task: 1_000_000 };
    expect(spentBudget(b, { ...use, task_tokens: 999_999 })).toBeNull();
    expect(spentBudget(b, { ...use, task_tokens: 1_020_000 })).toEqual({
      budget: 'max_tokens_per_task',
      message: '1.02M tokens of 1M for this task (max_tokens_per_task)',
    });
    const cost = { ...NO_BUDGET, max_cost_per_task: 2 };
    expect(spentBudget(cost, { ...use, task_cost: 2.5 })?.message).toBe(
      'USD 2.50 of USD 2.00 for this task (max_cost_per_task)',
    );
    const day = { ...NO_BUDGET, max_cost_per_day: 10 };
    expect(spentBudget(day, { ...use, day_cost: 10 })?.budget).toBe('max_cost_per_day');
  });

  it('counts a day from UTC midnight', () => {
    const at = Date.UTC(2026, 11, 2, 23, 59);
    expect(utcDayStart(at)).toBe(Date.UTC(2026, 11, 2));
  });
});

describe('figures a person reads', () => {
  it('tokens', () => {
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(14_200)).toBe('14.2k');
    expect(formatTokens(1_020_000)).toBe('1.02M');
    expect(formatTokens(250_000)).toBe('250k');
  });

  it('costs', () => {
    expect(formatCost(0)).toBe('USD 0');
    expect(formatCost(0.0042)).toBe('USD 0.0042');
    expect(formatCost(12.345)).toBe('USD 12.35');
  });
});

describe('the environment of a run with a proxy', () => {
  const spec = {
    upstream: 'https://api.anthropic.com',
    kind: 'anthropic' as const,
    max_concurrency: null,
    max_rate_limits: null,
  };

  it("is the run's own path, under its kind's base-URL variable", () => {
    expect(llmEnv(spec, 'http://127.0.0.1:7777', 'tok')).toEqual({
      WARDEN_LLM_URL: 'http://127.0.0.1:7777/llm/tok',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:7777/llm/tok',
    });
    expect(llmEnv({ ...spec, kind: 'openai' }, 'http://h:1', 't')).toHaveProperty(
      'OPENAI_BASE_URL',
      'http://h:1/llm/t',
    );
  });

  it('is nothing without a proxy or without a serve URL', () => {
    expect(llmEnv(null, 'http://h:1', 't')).toEqual({});
    expect(llmEnv(spec, undefined, 't')).toEqual({});
  });
});
