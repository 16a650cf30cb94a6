import type { Clock } from '../../core/clock.js';
import type { SqlDb } from './driver.js';

/**
 * The check before a schema upgrade (`../upgrade-guard.ts`), loaded only when there is one to
 * do: it reads processes (`os/procfs`), which a command on an up-to-date schema never needs (a
 * `list` loads no server code, test/cli/startup.test.ts). Outside `store/sql`, so the CLI's
 * bundle keeps it out of the chunk every command loads (rolldown.cli.config.ts).
 */
export function upgradeGuard(
  clock: Clock,
  dbFile: string | null,
): (db: SqlDb, current: number, latest: number) => Promise<void> {
  return async (db, current, latest) => {
    const { refuseWhileServed } = await import('../upgrade-guard.js');
    await refuseWhileServed(db, current, latest, clock.now(), dbFile);
  };
}
