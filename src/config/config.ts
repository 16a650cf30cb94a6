import { existsSync, readFileSync } from 'node:fs';
import { HOST_DEFAULTS } from '../core/defaults.js';
import { WardenError } from '../core/errors.js';
import { parsePolicyOverrides } from '../core/policy.js';
import type { PolicyOverrides } from '../core/policy.js';
import type { ConfigFile } from './config-file.js';
import type { PriceTable } from '../core/llm.js';
import { DEFAULT_PRICES } from '../core/prices.js';

/** The optional `config.json` of a home: defaults for this home's hosts and runs. */
export interface WardenConfig {
  /** Policy defaults layered over the built-in ones, under every profile and task. */
  policy: PolicyOverrides;
  serve: { port: number; bind: string; max_workers: number };
  /** Model prices: the built-in table with `llm_prices` over it. */
  prices: PriceTable;
}

/**
 * Reads `config.json` if there is one; a broken file is an error naming the file. Without a
 * file the defaults apply and the file's schema (zod) is never loaded.
 */
export async function loadConfig(path: string): Promise<WardenConfig> {
  if (!existsSync(path)) return configOf({});
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new WardenError(
      'setup',
      `${path}: not valid JSON (${(e as Error).message}); fix or remove it`,
    );
  }
  const { configFileSchema } = await import('./config-file.js');
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WardenError(
      'setup',
      `${path}: ${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}; fix or remove it`,
    );
  }
  try {
    return configOf(parsed.data, path);
  } catch (e) {
    // The message names the file already (`configOf` is given its path).
    throw new WardenError('setup', `${(e as Error).message}; fix or remove it`);
  }
}

/** The config a file's (already checked) fields give, over the built-in defaults. */
function configOf(file: ConfigFile, path = 'config'): WardenConfig {
  const policy = parsePolicyOverrides(file.policy, `${path}: policy`);
  return {
    policy,
    prices: { ...DEFAULT_PRICES, ...file.llm_prices },
    serve: {
      port: file.serve?.port ?? HOST_DEFAULTS.port,
      bind: file.serve?.bind ?? HOST_DEFAULTS.bind,
      max_workers: file.serve?.max_workers ?? HOST_DEFAULTS.max_workers,
    },
  };
}
