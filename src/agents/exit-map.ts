import { EXIT_CONFIG_ERROR, EXIT_RATE_LIMITED } from '../core/exit.js';
import { finalWord, messageOf } from './final-word.js';
import type { AgentRecipe, ExitSigns } from './recipe.js';

/** How many of an agent's last output lines are read for signs of a rate limit or bad setup. */
export const SIGN_LINES = 15;

/** What an agent's ending means to warden: the status to exit with, and why. */
export interface MappedExit {
  code: number;
  /** `rate_limited` or `config_error` when a sign was found; null when the code passes through. */
  kind: 'rate_limited' | 'config_error' | null;
  /** The line (or exit code) that said so, cut to fit a run's reason. */
  matched: string | null;
}

/** The part of a long line around the match, so a JSON event's message fits in a reason. */
function around(line: string, index: number, width = 140): string {
  const trimmed = line.trim();
  if (trimmed.length <= width) return trimmed;
  const start = Math.max(0, Math.min(index - 30, trimmed.length - width));
  return `${start > 0 ? '…' : ''}${trimmed.slice(start, start + width)}${start + width < trimmed.length ? '…' : ''}`;
}

/**
 * The sign of `signs` in an agent's ending: its exit code, then its lines, the latest first
 * (the agent's final word decides). A code alone says nothing a person can act on, so the
 * reason then quotes the agent's last error or result message, when it printed one.
 */
function signIn(signs: ExitSigns, code: number, lines: readonly string[]): string | null {
  if (signs.exit_codes.includes(code)) return finalWord(lines, false) ?? `exit ${code}`;
  for (const line of [...lines].reverse()) {
    for (const re of signs.lines) {
      const m = re.exec(line);
      if (m) return messageOf(line) ?? around(line, line.trim().indexOf(m[0]));
    }
  }
  return null;
}

/**
 * Maps an agent's exit status to warden's: a rate limit becomes 75 (cooldown, not a failure),
 * a configuration error 78 (blocked at once), by the recipe's exit codes or its last output
 * lines. A configuration error wins over a rate limit (a wrong key retried is still wrong).
 * Exit 0 passes through unless the recipe's agent exits 0 on API errors.
 */
export function mapAgentExit(
  recipe: AgentRecipe,
  code: number,
  output: readonly string[],
): MappedExit {
  if (code === 0 && !recipe.signs_on_success) return { code, kind: null, matched: null };
  const lines = output.slice(-SIGN_LINES);
  const config = signIn(recipe.config_error, code, lines);
  if (config !== null) return { code: EXIT_CONFIG_ERROR, kind: 'config_error', matched: config };
  const rate = signIn(recipe.rate_limited, code, lines);
  if (rate !== null) return { code: EXIT_RATE_LIMITED, kind: 'rate_limited', matched: rate };
  return { code, kind: null, matched: null };
}
