import type { Command } from 'commander';
import { INPUT_LIMITS } from '../core/defaults.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { invalid } from '../core/errors.js';
import { POLICY_FIELDS, parsePolicyValue } from '../core/policy.js';
import type { PolicyOverrides } from '../core/policy.js';
import { TASK_STATUSES } from '../core/status.js';
import type { TaskStatus } from '../core/status.js';

/** Commander's collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A whole number given on the command line, or an `invalid` error naming the option. */
export function parseIntOption(text: string, what: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw invalid(`${what}: '${text}' is not a whole number`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw invalid(`${what}: '${text}' is out of range`);
  return n;
}

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Adds a `--stall-timeout D`-style option for every policy field. */
export function addPolicyOptions(cmd: Command): Command {
  for (const f of POLICY_FIELDS) {
    const placeholder = { duration: '<duration>', count: '<n>', enum: '<mode>', size: '<size>' }[
      f.kind
    ];
    cmd.option(`--${f.key.replaceAll('_', '-')} ${placeholder}`, f.help);
  }
  return cmd;
}

/** The policy overrides a command line set, validated. */
export function readPolicyOptions(opts: Record<string, unknown>): PolicyOverrides {
  const out: Record<string, unknown> = {};
  for (const f of POLICY_FIELDS) {
    const value = opts[camel(f.key)];
    if (value !== undefined) out[f.key] = parsePolicyValue(f.key, value);
  }
  return out;
}

/** An age or interval (`gc --older-than`, `serve --gc-every`): a duration longer than 0. */
export function parseAge(text: string, what: string): number {
  const ms = parseDuration(text, what);
  if (ms <= 0) throw invalid(`${what}: must be longer than 0, like 30d or 12h`);
  return ms;
}

/** The longest delay a Node timer keeps (about 24.8 days): a longer one fires at once, in a loop. */
const TIMER_MAX_MS = 2 ** 31 - 1;

/**
 * A `serve` interval that times its loop or leases (`--tick`, `--progress-flush`, the TTLs):
 * at least `minMs` and at most 24 days, past which a timer would fire at once, again and again.
 */
export function parseInterval(text: string, what: string, minMs = 1): number {
  const ms = parseDuration(text, what);
  if (ms < minMs) {
    throw invalid(
      minMs <= 1
        ? `${what}: must be longer than 0`
        : `${what}: must be at least ${formatDuration(minMs)}`,
    );
  }
  if (ms > TIMER_MAX_MS) throw invalid(`${what}: must be at most 24d, got ${text}`);
  return ms;
}

/**
 * Refuses `--clear KEY` beside the option that sets KEY (`--clear stall_timeout` with
 * `--stall-timeout`, `--clear llm` with any `--llm-...`), from the command's own options: one
 * edit cannot both drop a setting and set it, and taking either silently hides a mistake.
 */
export function refuseSetAndClear(
  clear: readonly string[],
  opts: Readonly<Record<string, unknown>>,
): void {
  const given = (key: string): boolean =>
    key === 'llm'
      ? Object.entries(opts).some(([k, v]) => /^llm[A-Z]/.test(k) && v !== undefined)
      : opts[camel(key)] !== undefined;
  const both = clear.find(given);
  if (both !== undefined) {
    const option = both === 'llm' ? '--llm-...' : `--${both.replaceAll('_', '-')}`;
    throw invalid(`--clear ${both} and ${option} were both given; give one`);
  }
}

/** A `--max-workers`: a whole number of at least 1. */
export function parseMaxWorkers(text: string): number {
  const n = parseIntOption(text, '--max-workers');
  if (n < 1) throw invalid('--max-workers: must be at least 1');
  return n;
}

/** A `--limit`: a whole number from 1 to the most a list returns. */
export function parseLimit(text: string): number {
  const n = parseIntOption(text, '--limit');
  if (n < 1 || n > INPUT_LIMITS.list_max) {
    throw invalid(`--limit: must be from 1 to ${INPUT_LIMITS.list_max}, got ${n}`);
  }
  return n;
}

/** `KEY=VALUE` pairs from repeated `--env` options. */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid(`--env: '${pair}' is not KEY=VALUE`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** A comma-separated list of statuses, each checked. */
export function parseStatuses(text: string): TaskStatus[] {
  return text.split(',').map((s) => {
    const status = s.trim();
    if (!(TASK_STATUSES as readonly string[]).includes(status)) {
      throw invalid(`unknown status '${status}'; use one of ${TASK_STATUSES.join(', ')}`);
    }
    return status as TaskStatus;
  });
}
