import { resolvePolicy } from '../core/policy.js';
import type { Policy, PolicyOverrides } from '../core/policy.js';
import type { Run } from '../core/run.js';
import type { Store } from '../store/store.js';
import { watchesWorkspace } from '../core/worktree.js';

/**
 * The policy in force for each run: config, then its profile, then its task. Limits are
 * re-read every tick (SPEC §2), in two queries whatever the number of runs. With `watched`,
 * also says for each run whether its workspace's file changes are progress.
 */
export async function policiesFor(
  store: Store,
  config: PolicyOverrides,
  runs: readonly Run[],
  watched?: Map<number, boolean>,
): Promise<Map<number, Policy>> {
  const out = new Map<number, Policy>();
  if (runs.length === 0) return out;
  const all = await store.listProfiles();
  const profiles = new Map(all.map((p) => [p.name, p.policy]));
  if (watched) {
    // Whether file changes in each run's workspace are progress, from the same read.
    const watching = new Set(all.filter((p) => watchesWorkspace(p)).map((p) => p.name));
    for (const run of runs) watched.set(run.id, watching.has(run.profile ?? ''));
  }
  const tasks = new Map(
    (await store.listTasks({ ids: runs.map((r) => r.task_id), include_archived: true })).map(
      (t) => [t.id, t],
    ),
  );
  for (const run of runs) {
    out.set(
      run.id,
      resolvePolicy(
        config,
        profiles.get(run.profile ?? '') ?? {},
        tasks.get(run.task_id)?.policy ?? {},
      ),
    );
  }
  return out;
}
