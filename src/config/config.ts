import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { HOST_DEFAULTS } from '../core/defaults.js';
import { WardenError } from '../core/errors.js';
import { parsePolicyOverrides } from '../core/policy.js';
import type { PolicyOverrides } from '../core/policy.js';

/** The optional `config.json` of a home: defaults for this home's hosts and runs. */
export interface WardenConfig {
  /** Policy defaults layered over the built-in ones, under every profile and task. */
  policy: PolicyOverrides;
  serve: { port: number; bind: string; max_workers: number };
}

const fileSchema = z
  .object({
    policy: z.record(z.string(), z.unknown()).optional(),
    serve: z
      .object({
        port: z.number().int().min(0).max(65535).optional(),
        bind: z.string().min(1).optional(),
        max_workers: z.number().int().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Reads `config.json` if there is one; a broken file is an error naming the file. */
export function loadConfig(path: string): WardenConfig {
  let raw: unknown = {};
  if (existsSync(path)) {
    try {
      raw = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    } catch (e) {
      throw new WardenError(
        'setup',
        `${path}: not valid JSON (${(e as Error).message}); fix or remove it`,
      );
    }
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WardenError(
      'setup',
      `${path}: ${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}; fix or remove it`,
    );
  }
  let policy: PolicyOverrides;
  try {
    policy = parsePolicyOverrides(parsed.data.policy, `${path}: policy`);
  } catch (e) {
    throw new WardenError('setup', `${path}: ${(e as Error).message}`);
  }
  return {
    policy,
    serve: {
      port: parsed.data.serve?.port ?? HOST_DEFAULTS.port,
      bind: parsed.data.serve?.bind ?? HOST_DEFAULTS.bind,
      max_workers: parsed.data.serve?.max_workers ?? HOST_DEFAULTS.max_workers,
    },
  };
}
