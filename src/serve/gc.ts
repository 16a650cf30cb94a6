import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Actor } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import { GC_DEFAULTS } from '../core/defaults.js';
import type { EpochMs } from '../core/glossary.js';
import { formatSize } from '../core/size.js';
import type { HomePaths } from '../config/home.js';
import type { Store } from '../store/store.js';
import { removeTree, treeSize } from '../os/tree.js';
import { counted } from '../core/counting.js';

/** One folder gc removed (or would remove). */
export interface Removed {
  /** The run's or task's id: the folder's name. */
  id: number;
  path: string;
  bytes: number;
}

/** What one pass of gc did (or, dry, would do). */
export interface GcReport {
  dry_run: boolean;
  /** Tasks done or archived before this time had their history pruned. */
  before: EpochMs;
  events: number;
  /** How many tasks those events belonged to. */
  event_tasks: number;
  runs: Removed[];
  workspaces: Removed[];
  /** Bytes of the folders. */
  bytes: number;
}

/** The folders of `dir` named by a whole number (a run's or task's id). */
async function numbered(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^[1-9]\d*$/.test(n)).map(Number);
}

/** Of `ids`, those the store says may go, asked in batches. */
async function prunable(
  ids: readonly number[],
  ask: (batch: readonly number[]) => Promise<number[]>,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i += GC_DEFAULTS.batch) {
    out.push(...(await ask(ids.slice(i, i + GC_DEFAULTS.batch))));
  }
  return out;
}

/**
 * Removes the folders of `ids` in `dir` (measured first), one after another, off the loop. Each
 * is asked about again (`mayGo`) just before it goes: a pass over large folders takes minutes,
 * and a task reopened and started meanwhile keeps its workspace.
 */
export async function removeFolders(
  dir: string,
  ids: readonly number[],
  dryRun: boolean,
  mayGo: (batch: readonly number[]) => Promise<number[]> = (batch) => Promise.resolve([...batch]),
): Promise<Removed[]> {
  const removed: Removed[] = [];
  for (const id of ids) {
    if (!(await mayGo([id])).includes(id)) continue;
    const path = join(dir, String(id));
    // Off the event loop (src/os/tree.ts): a workspace's node_modules must not stop serve.
    // What removing it frees: its blocks on the disk, not its files' bytes.
    const bytes = await treeSize(path, 'disk');
    if (!dryRun) await removeTree(path);
    removed.push({ id, path, bytes });
  }
  return removed;
}

/** The folders a pass removed (or would remove). */
export type PrunedFolders = Pick<GcReport, 'runs' | 'workspaces'>;

/**
 * The first half of a pass: the run folders (with their logs) and workspaces on this host of
 * tasks done or archived and unchanged since `before`. It only reads the store, so on a full
 * disk it runs on a read-only connection and makes the room the second half needs.
 */
export async function pruneFolders(
  store: Store,
  home: HomePaths,
  before: EpochMs,
  dryRun: boolean,
): Promise<PrunedFolders> {
  const runsMayGo = async (batch: readonly number[]): Promise<number[]> =>
    (await store.prunableFolders(batch, [], before)).runs;
  const tasksMayGo = async (batch: readonly number[]): Promise<number[]> =>
    (await store.prunableFolders([], batch, before)).tasks;
  const runIds = await prunable(await numbered(home.runs), runsMayGo);
  const taskIds = await prunable(await numbered(home.workspaces), tasksMayGo);
  return {
    runs: await removeFolders(home.runs, runIds, dryRun, runsMayGo),
    workspaces: await removeFolders(home.workspaces, taskIds, dryRun, tasksMayGo),
  };
}

/**
 * The second half: the events of the same tasks, and, when the pass removed anything, a
 * `gc_done` event with the counts.
 */
export async function pruneHistory(
  store: Store,
  before: EpochMs,
  dryRun: boolean,
  actor: Actor,
  folders: PrunedFolders,
): Promise<GcReport> {
  const { runs, workspaces } = folders;
  const pruned = await store.pruneEvents(before, dryRun);
  const bytes = [...runs, ...workspaces].reduce((sum, r) => sum + r.bytes, 0);
  if (!dryRun && (pruned.events > 0 || runs.length > 0 || workspaces.length > 0)) {
    await store.writeEvent(actor, {
      kind: 'gc_done',
      payload: {
        before,
        events: pruned.events,
        run_folders: runs.length,
        workspaces: workspaces.length,
        bytes,
      },
    });
  }
  return {
    dry_run: dryRun,
    before,
    events: pruned.events,
    event_tasks: pruned.tasks,
    runs,
    workspaces,
    bytes,
  };
}

/** What a whole pass needs (`serve --gc-every`). */
export interface GcOptions {
  store: Store;
  home: HomePaths;
  clock: Clock;
  /** Tasks done or archived longer ago than this lose their history. */
  olderThanMs: number;
  dryRun: boolean;
  /** Who is recorded on the `gc_done` event. */
  actor: Actor;
}

/**
 * `warden gc` (and `serve --gc-every`): for tasks done or archived and unchanged for longer
 * than `olderThanMs`, removes their run folders (logs) and workspaces on this host, then their
 * events; the tasks and runs themselves stay. Only finished tasks are touched: a task that is
 * open, or was reopened since, keeps everything. Folders go first, so a full disk gets room.
 */
export async function collectGarbage(opts: GcOptions): Promise<GcReport> {
  const before = opts.clock.now() - opts.olderThanMs;
  const folders = await pruneFolders(opts.store, opts.home, before, opts.dryRun);
  return pruneHistory(opts.store, before, opts.dryRun, opts.actor, folders);
}

/** One line for people: what a pass removed, or would remove. */
export function gcSummary(r: GcReport, time: (ms: EpochMs) => string): string {
  const when = `done or archived before ${time(r.before)}`;
  if (r.events === 0 && r.runs.length === 0 && r.workspaces.length === 0) {
    return `nothing to remove: no task ${when} has events, run folders or workspaces left`;
  }
  const verb = r.dry_run ? 'would remove' : 'removed';
  return `${verb} ${counted(r.events, 'event')} (of ${counted(r.event_tasks, 'task')}), ${counted(r.runs.length, 'run folder')} and ${counted(r.workspaces.length, 'workspace')} (${formatSize(r.bytes)}) of tasks ${when}`;
}
