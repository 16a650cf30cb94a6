/** What an environment's values show as wherever they are read back (SPEC §9). */
export const HIDDEN_VALUE = '(hidden)';

/**
 * An environment with its names and without its values: a profile's env often holds API keys,
 * and nothing read back (the API, events, `profile show`) should carry them (SPEC §9).
 */
export function hiddenEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(env).map((k) => [k, HIDDEN_VALUE]));
}
