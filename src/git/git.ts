import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
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
    /**
     * Failed for a reason of the moment, not of the repository: it took too long, the machine
     * could not start it (no memory, too many processes), or another git held a lock it needed.
     * The same call later may well succeed.
     */
    readonly passing = false,
  ) {
    super(message);
    this.name = 'GitError';
  }

  /** Met a lock file another git holds (or one a crashed git left): `passing` too. */
  get locked(): boolean {
    return LOCKED.test(this.message);
  }
}

/** git's words when a lock file it needs is there: `Unable to create '<path>.lock': File exists`. */
const LOCKED = /\.lock': File exists/;

/** What to do about a lock file, said after git's own line. */
const LOCK_ADVICE =
  '(another git is working in this repository, or one that crashed left the file: remove it if no git is running)';

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
  const locked = r.code !== null && LOCKED.test(first);
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
              : locked
                ? `${first} ${LOCK_ADVICE}`
                : first !== ''
                  ? first
                  : `${verb} exited with code ${r.code ?? 'none'}`;
  // Not installed, or git's own refusal, is for a person; the rest may pass by itself.
  const passing =
    locked ||
    r.ended === 'timeout' ||
    (r.startError !== undefined && r.startError.code !== 'ENOENT') ||
    (r.code === null && r.ended === null && r.startError === undefined);
  throw new GitError(args, message, r.code, r.ended === 'aborted', passing);
}

/** The waits between tries of a call that met another git's lock: about 4 s in all. */
const LOCK_RETRY_MS = [250, 500, 1_000, 2_000];

/**
 * Runs `fn`, and again after a short wait while it fails on another git's lock (a person's
 * `git fetch` or `gc` in the same repository, another task's branch being made): git itself
 * waits only a moment for a ref's lock. `fn` must leave nothing behind when it fails. A lock
 * still held after the last wait is thrown, for the caller to try again later or report.
 */
export async function retryOnLock<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (const wait of LOCK_RETRY_MS) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof GitError) || !err.locked || signal?.aborted === true) throw err;
    }
    await delay(wait, undefined, signal ? { signal } : {}).catch(() => undefined);
  }
  return fn();
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
