import { hiddenEnv } from '../core/hidden-env.js';
import type { Run } from '../core/run.js';

/**
 * A run as the API shows it: its environment's names without their values. A profile's env
 * often holds API keys; nothing served to a browser or a script should carry them (SPEC §9).
 */
export function redactRun(run: Run): Run {
  return { ...run, env: hiddenEnv(run.env) };
}
