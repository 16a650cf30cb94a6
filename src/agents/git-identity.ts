import { execFileSync } from 'node:child_process';

/**
 * The author and committer git would use in the agent's workspace, as the variables that set
 * them, for those the environment does not set already. For an agent whose shell tool hides
 * the user's git configuration (Gemini CLI runs its commands with `GIT_CONFIG_GLOBAL=/dev/null`,
 * so `git commit` fails with "Author identity unknown" and the work is left uncommitted).
 * Nothing when git knows no identity here either.
 */
export function gitIdentityEnv(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Record<string, string> {
  const read = (key: string): string => {
    try {
      return execFileSync('git', ['config', '--get', key], {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5_000,
      }).trim();
    } catch {
      return '';
    }
  };
  const out: Record<string, string> = {};
  const name = read('user.name');
  const email = read('user.email');
  for (const [variable, value] of [
    ['GIT_AUTHOR_NAME', name],
    ['GIT_COMMITTER_NAME', name],
    ['GIT_AUTHOR_EMAIL', email],
    ['GIT_COMMITTER_EMAIL', email],
  ] as const) {
    if (value !== '' && !env[variable]) out[variable] = value;
  }
  return out;
}
