import { WardenError } from '../core/errors.js';
import { holdsHome } from '../os/home-holder.js';
import { bootId } from '../os/procfs.js';
import type { SqlDb } from './sql/driver.js';
import { storeNow } from './sql/hosts.js';

/** What the guard reads of a host: every schema's `hosts` has these, a later one the lease. */
interface HostRow {
  host_id: string;
  pid: number | null;
  boot_id: string | null;
  proc_start_time: string | null;
  lease_expires_at?: number | string | null;
}

/**
 * Refuses to upgrade a schema while a `serve` is running on it: that `serve` is an older
 * warden (this one would have nothing to upgrade), which reads the version once at its start
 * and would go on writing to tables it does not know. A user trial's refused `serve`, and a
 * `doctor`, each upgraded the database under the old `serve` they should have left alone.
 * A `serve` is running when its process is (this machine: `hosts` records one home's `serve`
 * by process) or its host's lease is good (several hosts on PostgreSQL). Called in the
 * upgrade's transaction, before any migration; nothing is written when it refuses.
 */
export async function refuseWhileServed(
  db: SqlDb,
  current: number,
  latest: number,
  local: number,
  /** The SQLite file upgraded: a `serve` counts only while it has it open (`holdsHome`). */
  dbFile: string | null,
): Promise<void> {
  const rows = await db.all<HostRow>('SELECT * FROM hosts WHERE stopped_at IS NULL');
  const now = await storeNow(db, local);
  const here = bootId();
  for (const r of rows) {
    const lease = r.lease_expires_at == null ? null : Number(r.lease_expires_at);
    const alive =
      r.pid !== null && r.boot_id === here
        ? holdsHome({ pid: r.pid, boot_id: r.boot_id, start_time: r.proc_start_time ?? '' }, dbFile)
        : lease !== null && lease > now;
    if (!alive) continue;
    const who =
      r.pid !== null && r.boot_id === here
        ? `host ${r.host_id}, pid ${r.pid}`
        : `host ${r.host_id}`;
    const until =
      lease !== null && !(r.pid !== null && r.boot_id === here)
        ? ` (its lease runs until ${new Date(lease).toISOString()}; if that serve is gone, run this again then)`
        : '';
    throw new WardenError(
      'conflict',
      `the database schema is version ${current} and this warden would upgrade it to ${latest}, but an older warden serve is running on it (${who})${until}; stop every serve first, then run this again (docs/operations.md#upgrading)`,
      { current, latest, host: r.host_id },
    );
  }
}
