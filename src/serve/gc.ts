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

/** What gc needs. */
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
 * A pass that removed anything writes a `gc_done` event with the counts.
 */
export async function collectGarbage(opts: GcOptions): Promise<GcReport> {
  const before = opts.clock.now() - opts.olderThanMs;
  const runIds = await prunable(numbered(opts.home.runs), async (batch) => {
    return (await opts.store.prunableFolders(batch, [], before)).runs;
  });
  const taskIds = await prunable(numbered(opts.home.workspaces), async (batch) => {
    return (await opts.store.prunableFolders([], batch, before)).tasks;
  });
  const runs = remove(opts.home.runs, runIds, opts.dryRun);
  const workspaces = remove(opts.home.workspaces, taskIds, opts.dryRun);
  const pruned = await opts.store.pruneEvents(before, opts.dryRun);
  const bytes = [...runs, ...workspaces].reduce((sum, r) => sum + r.bytes, 0);
  const report: GcReport = {
    dry_run: opts.dryRun,
    before,
    events: pruned.events,
    event_tasks: pruned.tasks,
    runs,
    workspaces,
    bytes,
  };
  if (!opts.dryRun && (pruned.events > 0 || runs.length > 0 || workspaces.length > 0)) {
    await opts.store.writeEvent(opts.actor, {
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
  return report;
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
