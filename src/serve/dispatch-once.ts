import { invalid } from '../core/errors.js';
import { withHome } from './home-lock.js';
import { homeDispatcher, homeSupervisor } from './wiring.js';
import type { HomeParts } from './wiring.js';

/**
 * `warden dispatch --once`: one dispatcher pass on this host, then exit. Its workers are left
 * unsupervised until a `serve` with the same host id adopts them; their `WARDEN_URL` points at
 * where that `serve` will listen. Gives how many workers started, and the signal that stopped
 * the worktrees being made, if one did (Ctrl-C: their git killed, their runs back in line).
 */
export async function dispatchOnce(
  parts: HomeParts & { shared: boolean },
  hostId: string,
  maxWorkers: number,
): Promise<{ started: number; stoppedBy: NodeJS.Signals | null }> {
  if (parts.shared) {
    throw invalid(
      'dispatch --once is for one host on SQLite; with several hosts (WARDEN_DB) run `warden serve` on each',
    );
  }
  return withHome(parts.store, hostId, parts.home.db, async () => {
    let started = 0;
    let stoppedBy: NodeJS.Signals | null = null;
    const supervisor = homeSupervisor(parts, hostId);
    // One pass and gone: no standby is made for a next start.
    supervisor.close();
    const dispatcher = homeDispatcher(parts, hostId, supervisor, {
      maxWorkers: () => maxWorkers,
      // Workers find the API where serve will listen; their calls wait for it.
      wardenEnv: () => ({
        WARDEN_URL: `http://${parts.config.serve.bind}:${parts.config.serve.port}`,
      }),
      // Its other lines are starts that failed: said, and `settled` fails with the first.
      log: (line) => {
        if (line.startsWith('started run ')) started += 1;
        else process.stderr.write(`warden: ${line}\n`);
      },
    });
    // Ctrl-C or a TERM while a worktree is made: its git (in a session of its own, which the
    // terminal's signal does not reach) is killed, and its run goes back in line.
    const stop = (signal: NodeJS.Signals): void => {
      stoppedBy ??= signal;
      void dispatcher.stop();
    };
    process.once('SIGINT', stop).once('SIGTERM', stop);
    try {
      await dispatcher.pass();
    } finally {
      // Worktrees are made aside from the pass: their starts are done before this returns,
      // even when the pass failed.
      await dispatcher.settled().finally(() => {
        process.off('SIGINT', stop).off('SIGTERM', stop);
      });
    }
    return { started, stoppedBy };
  });
}
