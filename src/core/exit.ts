import type { ExitZero } from './policy.js';
import { RunRule } from './ending.js';
import type { Outcome } from './status.js';

/** Exit codes with a meaning of their own (SPEC §3, after BSD sysexits). */
export const EXIT_RATE_LIMITED = 75;
export const EXIT_CONFIG_ERROR = 78;

/** How a worker process ended, as its shim or the kernel reported it. */
export interface ExitStatus {
  /** The exit code, or null if the process was killed by a signal. */
  code: number | null;
  signal: string | null;
}

/** What an exit means for the run. */
export interface ExitMeaning {
  outcome: Outcome;
  rule: RunRule;
  message: string;
}

/**
 * The meaning of a worker's exit while its run was still `running` (no terminal call):
 * 0 completes or fails per `exit_zero`, 75 is a rate limit, 78 a configuration error, any
 * other code or a signal a crash.
 */
export function interpretExit(
  status: ExitStatus,
  exitZero: ExitZero,
  usedProtocol: boolean,
): ExitMeaning {
  if (status.signal !== null) {
    return {
      outcome: 'crashed',
      rule: RunRule.signal,
      message: `the worker was killed by ${status.signal}`,
    };
  }
  switch (status.code) {
    case 0: {
      const complete = exitZero === 'complete' || (exitZero === 'auto' && !usedProtocol);
      return complete
        ? { outcome: 'completed', rule: RunRule.exit_zero, message: 'the worker exited 0' }
        : {
            outcome: 'crashed',
            rule: RunRule.exited_without_result,
            message:
              exitZero === 'fail'
                ? 'the worker exited 0 without reporting a result (exit_zero: fail)'
                : 'the worker used the worker protocol but exited 0 without calling complete',
          };
    }
    case EXIT_RATE_LIMITED:
      return {
        outcome: 'rate_limited',
        rule: RunRule.exit_75,
        message: 'the worker exited 75 (rate limited)',
      };
    case EXIT_CONFIG_ERROR:
      return {
        outcome: 'config_error',
        rule: RunRule.exit_78,
        message: 'the worker exited 78 (configuration error); fix the profile or its environment',
      };
    default:
      return {
        outcome: 'crashed',
        rule: RunRule.exit_code,
        message: `the worker exited with code ${String(status.code)}`,
      };
  }
}
