import { spawn } from 'node:child_process';
import { until } from './at-most.js';
import { groupAlive, signalGroup } from './procfs.js';

/** How a command may run: where, with what environment, for how long, and until what. */
export interface CommandOptions {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Most bytes of stdout kept; more ends the command as `overflow`. */
  maxBuffer: number;
  /** Ends the command early, as `aborted`. */
  signal?: AbortSignal;
}

/** How a command ended: its exit, or why warden ended it. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Its exit code, or null when it was ended by a signal or by warden. */
  code: number | null;
  /** Why warden ended it (its whole process group), or null when it exited by itself. */
  ended: 'timeout' | 'aborted' | 'overflow' | null;
  /** The error that kept it from starting (ENOENT: not installed). */
  startError?: NodeJS.ErrnoException;
}

/** How long the output of a command that exited may stay open (held by a helper it left). */
const EXIT_GRACE_MS = 1_000;

/** How long a killed group is given to be gone. */
const GROUP_GONE_MS = 1_000;

/** Most bytes of stderr kept: only its first lines are read. */
const STDERR_KEEP = 64 * 1024;

/**
 * Runs `file ARGS...` in a session of its own, with no terminal and nothing on stdin, and gives
 * what it wrote and how it ended; never throws.
 *
 * Its own session: nothing it starts (git's ssh, a hook, a credential helper) can open the
 * terminal `serve` runs in to prompt a person who is not there. Warden ends it as a group: a
 * timeout or an abort kills every process of its session, not only the first, and returns once
 * they are gone, so a helper that holds its output open cannot hold the caller after it. A
 * helper it left running after it exited by itself is not killed, and holds the caller a second
 * at most.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  opts: CommandOptions,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let ended: CommandResult['ended'] = null;
    let exitCode: number | null | undefined;
    let settled = false;
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const settle = (extra: Partial<CommandResult> = {}): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: ended === null ? (exitCode ?? null) : null,
        ended,
        ...extra,
      });
    };
    const end = (why: NonNullable<CommandResult['ended']>): void => {
      if (settled || ended !== null) return;
      if (exitCode !== undefined) {
        // It exited by itself: what it wrote is read to the end (an abort waits for that), and
        // a helper it left writing more than the bound is cut off, not killed.
        if (why !== 'overflow') return;
        ended = why;
        return settle();
      }
      ended = why;
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    };
    // Ended by warden: once its group is gone (a second at most), a pipe still held is not
    // waited for.
    let polling = false;
    const settleWhenGone = (): void => {
      if (settled || polling) return;
      polling = true;
      const pgid = child.pid;
      void until(() => pgid === undefined || !groupAlive(pgid), GROUP_GONE_MS).then(() => settle());
    };
    const onAbort = (): void => end('aborted');
    let timer = setTimeout(() => end('timeout'), opts.timeoutMs);
    if (opts.signal?.aborted) end('aborted');
    else opts.signal?.addEventListener('abort', onAbort);
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > opts.maxBuffer) return end('overflow');
      out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (errBytes >= STDERR_KEEP) return;
      errBytes += b.length;
      err.push(b);
    });
    child.on('error', (e: NodeJS.ErrnoException) => settle({ startError: e }));
    child.on('exit', (code) => {
      exitCode = code;
      if (ended !== null) return settleWhenGone();
      // What it wrote is in the pipes already; a helper holding them is given a moment only.
      clearTimeout(timer);
      timer = setTimeout(() => settle(), EXIT_GRACE_MS);
    });
    child.on('close', () => (ended !== null ? settleWhenGone() : settle()));
  });
}
