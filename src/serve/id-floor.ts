import { readdirSync } from 'node:fs';
import type { HomePaths } from '../config/home.js';
import type { Store } from '../store/store.js';

/** The highest id among the folders of `dir` named by an id alone (`718`, not `718.before-…`). */
function highestId(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let max = 0;
  for (const n of names) if (/^\d+$/.test(n)) max = Math.max(max, Number(n));
  return max;
}

/**
 * At `serve`'s start, before it claims: no new run or task takes an id one of this home's
 * folders is named by. A database put back from a backup (`pg_restore`, on PostgreSQL, where
 * warden's own `restore` does not run) gives out the ids made after the backup again; a trial's
 * new run 718 shared `runs/718` with the old run 718, whose worker still wrote there, and was
 * ended by that worker's exit. Says what it moved.
 */
export async function keepIdsPastFolders(
  store: Store,
  home: HomePaths,
  log: (line: string) => void,
): Promise<void> {
  const runs = highestId(home.runs);
  const tasks = Math.max(highestId(home.workspaces), highestId(home.worktrees));
  const moved = await store.keepIdsPast({ runs, tasks });
  const said = [
    ...(moved.runs ? [`run ids after ${runs} (runs/${runs})`] : []),
    ...(moved.tasks ? [`task ids after ${tasks} (its workspaces)`] : []),
  ];
  if (said.length > 0) {
    log(
      `the database gave out ids this home's folders already hold, as one put back from a backup does: new ${said.join(' and ')} are used from now on, so none shares an old one's folder`,
    );
  }
}
