import { invalid } from '../core/errors.js';
import { withHome } from './home-lock.js';
import { homeDispatcher, homeSupervisor } from './wiring.js';
import type { HomeParts } from './wiring.js';

/**
 * `warden dispatch --once`: one dispatcher pass on this host, then exit. Its workers are left
 * unsupervised until a `serve` with the same host id adopts them; their `WARDEN_URL` points at
 * where that `serve` will listen. Returns how many workers started.
 */
export async function dispatchOnce(
  parts: HomeParts & { shared: boolean },
  hostId: string,
  maxWorkers: number,
): Promise<number> {
  if (parts.shared) {
    throw invalid(
      'dispatch --once is for one host on SQLite; with several hosts (WARDEN_DB) run `warden serve` on each',
    );
  }
  return withHome(parts.store, hostId, async () => {
    let count = 0;
    const supervisor = homeSupervisor(parts, hostId);
    // One pass and gone: no standby is made for a next start.
    supervisor.close();
    const dispatcher = homeDispatcher(parts, hostId, supervisor, {
      maxWorkers: () => maxWorkers,
      // Workers find the API where serve will listen; their calls wait for it.
      wardenEnv: () => ({
        WARDEN_URL: `http://${parts.config.serve.bind}:${parts.config.serve.port}`,
      }),
      log: () => (count += 1),
    });
    await dispatcher.pass();
    // Worktrees are made aside from the pass: their workers are started before this exits.
    await dispatcher.settled();
    return count;
  });
}
