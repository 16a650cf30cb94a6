import { execFile } from 'node:child_process';
import { dirname } from 'node:path';

/** A git command that failed, timed out or could not start: its first line of stderr. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    message: string,
    /** The exit code, when git ran and exited. */
    readonly code: number | null,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

/** What a git call may take: where it runs, extra variables, and how long it may take. */
export interface GitOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Most bytes of stdout kept; more fails the call. Default 16 MiB. */
  maxBuffer?: number;
}

/** Default bound of one git call: no git call of warden's may hang a caller. */
export const GIT_TIMEOUT_MS = 60_000;

/**
 * The environment git runs in: the caller's, without the variables that would point it at
 * another repository, index or work tree (a `serve` started from a git hook has them), and
 * with prompts off (a credential prompt would wait forever).
 */
function gitEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('GIT_')) env[k] = v;
  }
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    LC_ALL: 'C',
    ...extra,
  };
}

/**
 * Runs `git ARGS...` (an argv, never a shell string) and gives its stdout; throws `GitError`
 * naming git's own first line of error, or the timeout.
 */
export function git(args: readonly string[], opts: GitOptions = {}): Promise<string> {
  const timeout = opts.timeoutMs ?? GIT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: opts.cwd,
        // Run in a folder, git works on that folder's repository only: never on one found
        // above it (a worktree whose .git link was deleted must not rescue into its parent).
        env: gitEnv({
          ...(opts.cwd !== undefined ? { GIT_CEILING_DIRECTORIES: dirname(opts.cwd) } : {}),
          ...opts.env,
        }),
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        const first =
          stderr
            .split('\n')
            .map((l) => l.trim())
            .find((l) => l !== '') ?? '';
        const message =
          e.code === 'ENOENT'
            ? 'git is not installed (no `git` on PATH)'
            : e.killed
              ? `git ${args[0] ?? ''} took longer than ${timeout} ms and was killed`
              : first !== ''
                ? first
                : e.message;
        reject(new GitError(args, message, typeof e.code === 'number' ? e.code : null));
      },
    );
  });
}

/** Like `git`, but a failure (exit non-zero) gives null instead of throwing. */
export async function gitMaybe(
  args: readonly string[],
  opts: GitOptions = {},
): Promise<string | null> {
  try {
    return await git(args, opts);
  } catch (err) {
    if (err instanceof GitError && err.code !== null) return null;
    throw err;
  }
}
