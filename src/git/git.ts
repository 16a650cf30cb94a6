import { dirname } from 'node:path';
import { runCommand } from '../os/command.js';

/** A git command that failed, timed out or could not start: its first line of stderr. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    message: string,
    /** The exit code, when git ran and exited. */
    readonly code: number | null,
    /** Stopped by the caller's abort signal (serve stopping), not failed. */
    readonly aborted = false,
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
  /** Kills the call (`GitError.aborted`). */
  signal?: AbortSignal;
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
 * naming git's own error (its first `fatal:` or `error:` line, else its first line), the timeout or the abort. It runs in a session of its
 * own, with no terminal (src/os/command.ts): an ssh host-key or passphrase prompt fails at once
 * instead of waiting on `serve`'s terminal, and a timeout kills its ssh and hooks with it.
 */
export async function git(args: readonly string[], opts: GitOptions = {}): Promise<string> {
  const timeout = opts.timeoutMs ?? GIT_TIMEOUT_MS;
  const r = await runCommand('git', args, {
    cwd: opts.cwd,
    // Run in a folder, git works on that folder's repository only: never on one found
    // above it (a worktree whose .git link was deleted must not rescue into its parent).
    env: gitEnv({
      ...(opts.cwd !== undefined ? { GIT_CEILING_DIRECTORIES: dirname(opts.cwd) } : {}),
      ...opts.env,
    }),
    timeoutMs: timeout,
    maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (r.code === 0) return r.stdout;
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  // git's error, not the progress it said before it (`Preparing worktree ...`).
  const first = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0] ?? '';
  const verb = `git ${subcommand(args)}`;
  const message =
    r.startError?.code === 'ENOENT'
      ? 'git is not installed (no `git` on PATH)'
      : r.startError
        ? `${verb} could not start: ${r.startError.message}`
        : r.ended === 'timeout'
          ? `${verb} took longer than ${timeout} ms and was killed`
          : r.ended === 'aborted'
            ? `${verb} was stopped`
            : r.ended === 'overflow'
              ? `${verb} wrote more than its ${opts.maxBuffer ?? 16 * 1024 * 1024} bytes and was killed`
              : first !== ''
                ? first
                : `${verb} exited with code ${r.code ?? 'none'}`;
  throw new GitError(args, message, r.code, r.ended === 'aborted');
}

/** The subcommand of a git argv: its first word after the global options (`-C DIR`, `-c K=V`). */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-C' || a === '-c') i++;
    else if (!a.startsWith('-')) return a;
  }
  return '';
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
