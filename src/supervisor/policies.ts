import { resolvePolicy } from '../core/policy.js';
import type { Policy, PolicyOverrides } from '../core/policy.js';
import type { Run } from '../core/run.js';
import type { Store } from '../store/store.js';

/**
 * The policy in force for each run: config, then its profile, then its task. Limits are
 * re-read every tick (SPEC §2), in two queries whatever the number of runs.
 */
export async function policiesFor(
  store: Store,
  config: PolicyOverrides,
  runs: readonly Run[],
): Promise<Map<number, Policy>> {
  const out = new Map<number, Policy>();
  if (runs.length === 0) return out;
  const profiles = new Map((await store.listProfiles()).map((p) => [p.name, p.policy]));
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
