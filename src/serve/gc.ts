import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Actor } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import { GC_DEFAULTS } from '../core/defaults.js';
import type { EpochMs } from '../core/glossary.js';
import { formatSize } from '../core/size.js';
import type { HomePaths } from '../config/home.js';
import type { Store } from '../store/store.js';

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
function numbered(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^[1-9]\d*$/.test(n)).map(Number);
}

/** Bytes under `path`, not following links. */
function sizeOf(path: string): number {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const name of readdirSync(path)) total += sizeOf(join(path, name));
  return total;
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

function remove(dir: string, ids: readonly number[], dryRun: boolean): Removed[] {
  return ids.map((id) => {
    const path = join(dir, String(id));
    const bytes = sizeOf(path);
    if (!dryRun) rmSync(path, { recursive: true, force: true });
    return { id, path, bytes };
  });
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
  const runIds = await prunable(numbered(home.runs), async (batch) => {
    return (await store.prunableFolders(batch, [], before)).runs;
  });
  const taskIds = await prunable(numbered(home.workspaces), async (batch) => {
    return (await store.prunableFolders([], batch, before)).tasks;
  });
  return {
    runs: remove(home.runs, runIds, dryRun),
    workspaces: remove(home.workspaces, taskIds, dryRun),
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
  return `${verb} ${r.events} events (of ${r.event_tasks} tasks), ${r.runs.length} run folders and ${r.workspaces.length} workspaces (${formatSize(r.bytes)}) of tasks ${when}`;
}
