import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { git } from '../git/git.js';
import type { LiveRun } from './live-run.js';
import { sawProgress } from './progress.js';
import type { Supervision } from './supervision.js';

/**
 * File changes in a run's workspace count as progress (docs/worktrees.md), for profiles that
 * say so (on by default for worktrees). Sampled at the look, at most every `SAMPLE_MS`, in the
 * background: a sample never holds up supervision.
 */
export interface WorkspaceWatch {
  path: string;
  /** The last sample's fingerprint; null before the first (which is not progress). */
  fingerprint: string | null;
  /** When the last sample began (monotonic ms). */
  at: number;
  busy: boolean;
}

/** How often a workspace is sampled at most (more often under short stall limits). */
export const WORKSPACE_SAMPLE_MS = 5_000;
/** A plain folder is walked up to this many entries: a sample stays cheap in a big tree. */
const WALK_MAX_ENTRIES = 5_000;

/** How often a run's workspace is sampled: often enough to beat its stall limits to it. */
function sampleEvery(live: LiveRun): number {
  const { stall_warn_after, stall_timeout } = live.policy;
  return Math.max(250, Math.min(WORKSPACE_SAMPLE_MS, stall_warn_after / 4, stall_timeout / 4));
}

/** A watch of `path`, to hang on a live run. */
export function watchWorkspace(path: string): WorkspaceWatch {
  return { path, fingerprint: null, at: -Infinity, busy: false };
}

/** Starts a sample of a run's workspace when one is due; a change is progress. */
export function sampleWorkspace(sv: Supervision, live: LiveRun): void {
  const w = live.workspace;
  const clock = sv.opts.clock;
  if (!w || w.busy || live.ending !== null) return;
  const now = clock.monotonic();
  if (now - w.at < sampleEvery(live)) return;
  w.busy = true;
  w.at = now;
  void fingerprint(w.path)
    .then((fp) => {
      if (fp === null) return;
      const changed = w.fingerprint !== null && fp !== w.fingerprint;
      w.fingerprint = fp;
      if (changed && live.ending === null && !live.closed) sawProgress(clock, live, clock.now());
    })
    .catch(() => undefined)
    .finally(() => {
      w.busy = false;
    });
}

/** A short digest of a sample, compared with the last one (not a secret). */
function digest(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** A path's time and size, read off the event loop (a workspace may be on a slow mount). */
async function stamp(path: string): Promise<string> {
  try {
    const st = await lstat(path);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return 'gone';
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/**
 * What the workspace holds now, in a few bytes: in a git work tree, HEAD and each changed
 * path's status, time and size (`git status`, which ignores what .gitignore ignores); in a
 * plain folder, the times and sizes of its first entries (the first `WALK_MAX_ENTRIES` either
 * way). Null when it cannot be read. Every read is off the event loop: a slow mount slows its
 * samples, not `serve` (a hung one still holds one of libuv's four file threads per sample).
 */
export async function fingerprint(path: string): Promise<string | null> {
  if (!(await exists(path))) return null;
  if (await exists(join(path, '.git'))) {
    const [head, status] = await Promise.all([
      git(['rev-parse', 'HEAD'], { cwd: path, timeoutMs: 10_000 }).catch(() => ''),
      git(['status', '--porcelain=v1', '-z', '--untracked-files=all'], {
        cwd: path,
        timeoutMs: 10_000,
      }),
    ]);
    const parts = [head.trim()];
    for (const entry of status.split('\0')) {
      if (parts.length > WALK_MAX_ENTRIES) break;
      if (entry.length > 3) parts.push(`${entry}@${await stamp(join(path, entry.slice(3)))}`);
    }
    return digest(parts.join('\n'));
  }
  const parts: string[] = [];
  const queue = [path];
  while (queue.length > 0 && parts.length < WALK_MAX_ENTRIES) {
    const dir = queue.shift() as string;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const p = join(dir, entry.name);
      parts.push(`${p}@${await stamp(p)}`);
      // The entry's own type (a link is not followed), read with the listing: one stat each.
      if (entry.isDirectory()) queue.push(p);
      if (parts.length >= WALK_MAX_ENTRIES) break;
    }
  }
  return digest(parts.join('\n'));
}
