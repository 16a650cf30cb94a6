/** What an environment's values show as wherever they are read back (SPEC §9). */
export const HIDDEN_VALUE = '(hidden)';

/**
 * An environment with its names and without its values: a profile's env often holds API keys,
 * and nothing read back (the API, events, `profile show`) should carry them (SPEC §9).
 */
export function hiddenEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(env).map((k) => [k, HIDDEN_VALUE]));
}

/**
 * A run as it is shown outside its own process (the API, `show --json`, `runs --json`): its
 * environment's names without their values, which people paste into bug reports.
 */
export function redactRun<R extends { env: Readonly<Record<string, string>> }>(run: R): R {
  return { ...run, env: hiddenEnv(run.env) };
}
