import { parseDuration } from './duration.js';
import { invalid } from './errors.js';
import { LOG_DEFAULTS, POLICY_DEFAULTS } from './defaults.js';
import { formatSize, parseSize } from './size.js';
import type { Millis } from './glossary.js';

/** What exit code 0 without a reported result means (SPEC §3). */
export const ExitZero = { auto: 'auto', complete: 'complete', fail: 'fail' } as const;
export type ExitZero = (typeof ExitZero)[keyof typeof ExitZero];

/** The limits and retry rules that apply to a run, fully resolved. */
export interface Policy {
  stall_warn_after: Millis;
  stall_timeout: Millis;
  max_runtime: Millis;
  kill_grace: Millis;
  max_failures: number;
  max_host_losses: number;
  stall_loop_limit: number;
  backoff_base: Millis;
  backoff_max: Millis;
  exit_zero: ExitZero;
  rate_limit_cooldown: Millis;
  rate_limit_cooldown_max: Millis;
  max_rate_limited: number;
  max_spawn_failures: number;
  transient_cooldown: Millis;
  max_review_rounds: number;
  max_children: number;
  profile_breaker: number;
  exit_after_complete: Millis;
  /** Bytes: most a run's log keeps before its middle is cut. */
  log_cap: number;
}
export type PolicyKey = keyof Policy;
/** Overrides set by a config file, a profile or a task. */
export type PolicyOverrides = Partial<Policy>;

/** How one policy option is parsed and shown. */
export interface PolicyField {
  readonly key: PolicyKey;
  readonly kind: 'duration' | 'count' | 'enum' | 'size';
  /** For durations: whether `0` is allowed (and what it means). */
  readonly zero?: string;
  readonly values?: readonly string[];
  readonly help: string;
}

/** Every policy option, in the order `--help` lists them. */
export const POLICY_FIELDS: readonly PolicyField[] = [
  { key: 'stall_warn_after', kind: 'duration', help: 'silence before a stall warning' },
  { key: 'stall_timeout', kind: 'duration', help: 'silence before the run ends stalled' },
  {
    key: 'max_runtime',
    kind: 'duration',
    zero: 'unlimited',
    help: 'longest one attempt may run (0 = unlimited)',
  },
  { key: 'kill_grace', kind: 'duration', zero: 'kill at once', help: 'SIGTERM to SIGKILL wait' },
  { key: 'max_failures', kind: 'count', help: 'failed runs before the task is blocked' },
  { key: 'max_host_losses', kind: 'count', help: 'runs lost with their host before blocking' },
  { key: 'stall_loop_limit', kind: 'count', help: 'zero-progress runs in a row before blocking' },
  { key: 'backoff_base', kind: 'duration', help: 'first retry delay after a failure' },
  { key: 'backoff_max', kind: 'duration', help: 'longest retry delay' },
  {
    key: 'exit_zero',
    kind: 'enum',
    values: Object.values(ExitZero),
    help: 'meaning of exit 0 without a result: auto, complete or fail',
  },
  { key: 'rate_limit_cooldown', kind: 'duration', help: 'first cooldown after exit 75' },
  { key: 'rate_limit_cooldown_max', kind: 'duration', help: 'longest cooldown after exit 75' },
  { key: 'max_rate_limited', kind: 'count', help: 'rate-limited runs in a row before blocking' },
  { key: 'max_spawn_failures', kind: 'count', help: 'spawn failures in a row before blocking' },
  { key: 'max_children', kind: 'count', help: "tasks one task's workers may create" },
  {
    key: 'max_review_rounds',
    kind: 'count',
    help: 'requests for changes of one task before it is blocked for a person',
  },
  {
    key: 'transient_cooldown',
    kind: 'duration',
    help: 'how long a transient block lasts before it clears itself (counted as a failure)',
  },
  {
    key: 'profile_breaker',
    kind: 'count',
    help: 'failed runs in a row of a profile (over 2+ tasks) that pause it',
  },
  {
    key: 'exit_after_complete',
    kind: 'duration',
    zero: 'end at once',
    help: 'time a worker has to exit after complete',
  },
  {
    key: 'log_cap',
    kind: 'size',
    help: 'most a run’s log keeps, like 100MiB: past it the middle is cut, the start and the latest output kept',
  },
];

/** The names of every policy option. */
export const POLICY_KEYS: readonly PolicyKey[] = POLICY_FIELDS.map((f) => f.key);

/** The built-in policy. */
export const DEFAULT_POLICY: Policy = { ...POLICY_DEFAULTS };

function field(key: string): PolicyField {
  const found = POLICY_FIELDS.find((f) => f.key === key);
  if (!found) {
    throw invalid(`unknown policy option '${key}'; known: ${POLICY_KEYS.join(', ')}`);
  }
  return found;
}

/** Where a policy value comes from: a command-line flag (text) or JSON (exact types). */
export type PolicySource = 'flag' | 'json';

function shown(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function parseDurationValue(f: PolicyField, name: string, value: unknown): number {
  let ms: number;
  if (typeof value === 'string') ms = parseDuration(value, name);
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw invalid(
        `${name}: expected whole milliseconds or a duration like 90s, got ${shown(value)}`,
      );
    }
    ms = value;
  } else throw invalid(`${name}: expected a duration like 90s, got ${shown(value)}`);
  if (ms < 0) throw invalid(`${name}: a duration cannot be negative`);
  if (ms === 0 && f.zero === undefined) throw invalid(`${name}: must be longer than 0`);
  return ms;
}

function parseSizeValue(name: string, value: unknown): number {
  let bytes: number;
  if (typeof value === 'string') bytes = parseSize(value, name);
  else if (typeof value === 'number' && Number.isSafeInteger(value)) bytes = value;
  else throw invalid(`${name}: expected a size like 100MiB or whole bytes, got ${shown(value)}`);
  if (bytes < LOG_DEFAULTS.min_cap) {
    throw invalid(
      `${name}: must be at least ${formatSize(LOG_DEFAULTS.min_cap)}, got ${shown(value)}`,
    );
  }
  return bytes;
}

function parseCountValue(name: string, value: unknown, from: PolicySource): number {
  // A flag is text; JSON must say a number as a number (`"3"` is a string, refused).
  const n =
    from === 'flag' && typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n > Number.MAX_SAFE_INTEGER) {
    throw invalid(`${name}: must be at most ${Number.MAX_SAFE_INTEGER}, got ${String(value)}`);
  }
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    const hint =
      from === 'json' && typeof value === 'string' ? ' (a JSON number, not a string)' : '';
    throw invalid(
      `${name}: expected a whole number of at least 1${hint}, got ${from === 'flag' ? String(value) : shown(value)}`,
    );
  }
  return n;
}

/**
 * Parses one policy value given as text (a flag, `from = 'flag'`) or as JSON (a config file,
 * an API body or stored overrides, `from = 'json'`): durations as `90s` (or, in JSON, whole
 * milliseconds), counts as whole numbers ≥ 1 (in JSON, numbers only). Zero is accepted only
 * where the field gives it a meaning; a duration that rounds to 0 ms never is.
 */
export function parsePolicyValue(
  key: string,
  value: unknown,
  from: PolicySource = 'flag',
  where?: string,
): Policy[PolicyKey] {
  const f = field(key);
  const name =
    from === 'flag' ? key.replaceAll('_', '-') : where === undefined ? key : `${where}.${key}`;
  switch (f.kind) {
    case 'duration':
      return parseDurationValue(f, name, value);
    case 'count':
      return parseCountValue(name, value, from);
    case 'size':
      return parseSizeValue(name, value);
    case 'enum': {
      if (typeof value !== 'string' || !f.values?.includes(value)) {
        throw invalid(`${name}: expected one of ${f.values?.join(', ')}, got ${String(value)}`);
      }
      return value as ExitZero;
    }
  }
}

/** Validates a whole overrides object (from JSON), returning a clean copy. */
export function parsePolicyOverrides(input: unknown, where: string): PolicyOverrides {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw invalid(`${where}: policy must be an object of option names to values`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    out[key] = parsePolicyValue(key, value, 'json', where);
  }
  return out;
}

/** Checks names of policy options to drop (`clear_policy`, `edit --clear`). */
export function parsePolicyKeys(keys: readonly unknown[], where: string): PolicyKey[] {
  return keys.map((key) => {
    if (typeof key !== 'string' || !POLICY_FIELDS.some((f) => f.key === key)) {
      throw invalid(
        `${where}: unknown policy option ${shown(key)}; known: ${POLICY_KEYS.join(', ')}`,
      );
    }
    return key as PolicyKey;
  });
}

/** Layers overrides over the defaults, later layers winning. */
export function resolvePolicy(...layers: readonly PolicyOverrides[]): Policy {
  return Object.assign({}, DEFAULT_POLICY, ...layers) as Policy;
}
