/**
 * What a worker inherits from `serve`'s environment (SPEC §5, issue #11): a documented base
 * set, plus the names its profile asks for with `--inherit-env`. Nothing else: secrets in the
 * environment of `serve` (cloud keys, tokens, the admin token) do not reach every agent, and
 * warden's own `WARDEN_*` variables never do; the run's `WARDEN_*` values are set afresh.
 */

/** The variables every worker gets from `serve`'s environment, when `serve` has them. */
export const BASE_ENV_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TERM',
  'TZ',
  'TMPDIR',
];

/** Prefixes of base variables: the locale categories (LC_ALL, LC_CTYPE, ...). */
export const BASE_ENV_PREFIXES: readonly string[] = ['LC_'];

/** warden's own variables: never inherited, never asked for. */
export const WARDEN_ENV_PREFIX = 'WARDEN_';

/**
 * A name a profile may ask to inherit: a variable name, or a prefix ending in `*` (`AWS_*`).
 * A lone `*` is not one: there is no "inherit everything".
 */
export const INHERIT_NAME = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

/** Whether `name` is matched by `pattern` (an exact name, or a prefix ending in `*`). */
function matches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/** Whether a worker whose profile asks for `inherit` gets `name` from `serve`'s environment. */
export function inherits(name: string, inherit: readonly string[]): boolean {
  if (name.startsWith(WARDEN_ENV_PREFIX)) return false;
  if (BASE_ENV_NAMES.includes(name)) return true;
  if (BASE_ENV_PREFIXES.some((p) => name.startsWith(p))) return true;
  return inherit.some((p) => matches(p, name));
}

/** The part of `env` (serve's environment) a worker whose profile asks for `inherit` gets. */
export function inheritedEnv(
  env: Readonly<Record<string, string | undefined>>,
  inherit: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && inherits(name, inherit)) out[name] = value;
  }
  return out;
}
