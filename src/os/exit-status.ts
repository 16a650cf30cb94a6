import { constants } from 'node:os';
import type { ExitStatus } from '../core/exit.js';

/**
 * Shell-style exit statuses, as the shim records a worker's and as the agent launcher must not
 * pass on by mistake: above 128, 128 + a signal's number means killed by that signal.
 */

/** The name of signal number `n`, e.g. 9 → SIGKILL. */
export function signalName(n: number): string | null {
  for (const [name, value] of Object.entries(constants.signals)) if (value === n) return name;
  return null;
}

/** A shell-style status (above 128 means killed by signal status - 128) as an exit status. */
export function statusFromShell(code: number): ExitStatus {
  if (code > 128 && code <= 128 + 64) {
    const signal = signalName(code - 128);
    if (signal !== null) return { code: null, signal };
  }
  return { code, signal: null };
}
