import { conflict } from '../../core/errors.js';
import type { ProcessIdentity } from '../../core/run.js';
import type { HostRecord } from '../run-types.js';
import type { SqlDb } from './driver.js';

interface HostRow {
  host_id: string;
  pid: number | null;
  boot_id: string | null;
  proc_start_time: string | null;
  url: string | null;
  started_at: number;
  renewed_at: number;
  stopped_at: number | null;
  lease_expires_at: number | null;
  secret_hash: string | null;
  max_workers: number | null;
}

function toHost(row: HostRow): HostRecord {
  return {
    host_id: row.host_id,
    process:
      row.pid === null
        ? null
        : { pid: row.pid, boot_id: row.boot_id ?? '', start_time: row.proc_start_time ?? '' },
    url: row.url,
    started_at: row.started_at,
    renewed_at: row.renewed_at,
    stopped_at: row.stopped_at,
    lease_expires_at: row.lease_expires_at,
    max_workers: row.max_workers === null ? null : Number(row.max_workers),
  };
}

function sameProcess(a: ProcessIdentity | null, b: ProcessIdentity | null): boolean {
  return (
    a !== null &&
    b !== null &&
    a.pid === b.pid &&
    a.boot_id === b.boot_id &&
    a.start_time === b.start_time
  );
}

/** Whether a host (aliased `h`) still has a spawned run open. */
const OPEN_SPAWNED_RUN =
  "EXISTS (SELECT 1 FROM runs r WHERE r.host_id = h.host_id AND r.state <> 'ended' AND r.mode <> 'pull')";

/**
 * Every host the store knows, stopped ones too, each with how many runs it has open (spawned
 * and pull runs whose API it was), for `warden hosts`.
 */
export async function listHosts(db: SqlDb): Promise<(HostRecord & { open_runs: number })[]> {
  const rows = await db.all<HostRow & { open_runs: number }>(
    `SELECT h.*, (SELECT COUNT(*) FROM runs r WHERE r.host_id = h.host_id AND r.state <> 'ended') AS open_runs
     FROM hosts h ORDER BY h.host_id`,
  );
  return rows.map((r) => ({ ...toHost(r), open_runs: Number(r.open_runs) }));
}

/** Hosts whose `serve` has not said it stopped. */
export async function activeHosts(db: SqlDb): Promise<HostRecord[]> {
  return (
    await db.all<HostRow>('SELECT * FROM hosts WHERE stopped_at IS NULL ORDER BY host_id')
  ).map(toHost);
}

/**
 * Takes the home for one `serve` (SQLite: one host at a time). `presumedDead` are the active
 * hosts the caller checked and found gone; if the active set changed meanwhile, nothing is
 * taken and the current holders are returned so the caller can check again.
 */
export async function claimHome(
  db: SqlDb,
  now: number,
  me: { host_id: string; process: ProcessIdentity; url: string | null },
  presumedDead: readonly HostRecord[],
): Promise<{ ok: true } | { ok: false; holders: HostRecord[] }> {
  const active = await activeHosts(db);
  const unexpected = active.filter(
    (h) => !presumedDead.some((d) => d.host_id === h.host_id && sameProcess(d.process, h.process)),
  );
  if (unexpected.length > 0) return { ok: false, holders: unexpected };
  await db.run('UPDATE hosts SET stopped_at = ? WHERE stopped_at IS NULL', [now]);
  await db.run(
    `INSERT INTO hosts (host_id, pid, boot_id, proc_start_time, url, started_at, renewed_at, stopped_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
     ON CONFLICT (host_id) DO UPDATE SET pid = excluded.pid, boot_id = excluded.boot_id,
       proc_start_time = excluded.proc_start_time, url = excluded.url, started_at = excluded.started_at,
       renewed_at = excluded.renewed_at, stopped_at = NULL`,
    [me.host_id, me.process.pid, me.process.boot_id, me.process.start_time, me.url, now, now],
  );
  return { ok: true };
}

/**
 * Records where a host's API listens (known only once its port is bound) and its cap on live
 * workers.
 */
export async function describeHost(
  db: SqlDb,
  now: number,
  hostId: string,
  about: { url: string; max_workers: number },
): Promise<void> {
  // Its start too: a host that takes its lease over after a restart keeps its row, and
  // `warden hosts` said it had started before the restart.
  await db.run('UPDATE hosts SET url = ?, max_workers = ?, started_at = ? WHERE host_id = ?', [
    about.url,
    about.max_workers,
    await storeNow(db, now),
    hostId,
  ]);
}

/** Marks a host stopped, if this process still holds it. */
export async function releaseHome(
  db: SqlDb,
  now: number,
  hostId: string,
  process: ProcessIdentity,
): Promise<void> {
  await db.run(
    'UPDATE hosts SET stopped_at = ? WHERE host_id = ? AND pid = ? AND proc_start_time = ? AND stopped_at IS NULL',
    [now, hostId, process.pid, process.start_time],
  );
}

/** PostgreSQL's clock in epoch milliseconds, as an SQL expression. */
export const PG_NOW_MS = 'CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)';

/**
 * Now on the store's clock: PostgreSQL's for several hosts (every lease's expiry is judged by
 * it, never by a host's clock, SPEC §3), this process's for SQLite.
 */
export async function storeNow(db: SqlDb, local: number): Promise<number> {
  if (db.dialect !== 'postgres') return local;
  const row = await db.get<{ now: number }>(`SELECT ${PG_NOW_MS} AS now`);
  return Number(row?.now ?? local);
}

/**
 * Renews a host's lease on the store's clock. A host id held by another live host (a
 * different secret, lease not lapsed) is refused; a serve restarting with the same secret
 * takes its own lease over at once.
 */
export async function renewHostLease(
  db: SqlDb,
  local: number,
  hostId: string,
  secretHash: string,
  ttlMs: number,
): Promise<{ expires_at: number; renewed_at: number; lapsed: boolean }> {
  // PostgreSQL: the row is locked first (the renewal runs READ COMMITTED, `rowLocked`), so a
  // reap of this host either committed before (and is seen: lapsed) or waits for the renewal
  // (and then finds the lease good). The time is read once the lock is held.
  const forUpdate = db.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const row = await db.get<HostRow>(`SELECT * FROM hosts WHERE host_id = ?${forUpdate}`, [hostId]);
  const now = await storeNow(db, local);
  const heldBy = (r: HostRow): boolean =>
    r.stopped_at === null &&
    r.lease_expires_at !== null &&
    r.lease_expires_at > now &&
    r.secret_hash !== secretHash;
  const held = (r: HostRow): never => {
    throw conflict(
      `host id '${hostId}' is held by another live host until ${new Date(r.lease_expires_at ?? now).toISOString()}; pick another --host-id, or wait for its lease to lapse`,
    );
  };
  if (row && heldBy(row)) held(row);
  // The update is conditional too: a host taking a new id at the same moment (no row to lock
  // yet) cannot overwrite a live lease with another secret.
  const changed = await db.run(
    `INSERT INTO hosts (host_id, secret_hash, started_at, renewed_at, lease_expires_at, stopped_at)
     VALUES (?, ?, ?, ?, ?, NULL)
     ON CONFLICT (host_id) DO UPDATE SET secret_hash = excluded.secret_hash, renewed_at = excluded.renewed_at,
       lease_expires_at = excluded.lease_expires_at, stopped_at = NULL
     WHERE hosts.secret_hash = excluded.secret_hash OR hosts.stopped_at IS NOT NULL
       OR hosts.lease_expires_at IS NULL OR hosts.lease_expires_at <= ?`,
    [hostId, secretHash, now, now, now + ttlMs, now],
  );
  if (changed === 0) {
    const current = await db.get<HostRow>('SELECT * FROM hosts WHERE host_id = ?', [hostId]);
    if (current) held(current);
  }
  // Lapsed: the previous lease ran out or another host ended this host's runs meanwhile.
  const lapsed =
    row !== undefined &&
    (row.stopped_at !== null || (row.lease_expires_at !== null && row.lease_expires_at <= now));
  return { expires_at: now + ttlMs, renewed_at: now, lapsed };
}

/**
 * Hosts whose lease lapsed on the store's clock and that were not reaped yet, or that a
 * claim committing just as they were reaped left an open spawned run to.
 */
export async function lapsedHosts(db: SqlDb, local: number): Promise<HostRecord[]> {
  const now = await storeNow(db, local);
  const rows = await db.all<HostRow>(
    `SELECT * FROM hosts h WHERE h.lease_expires_at IS NOT NULL AND h.lease_expires_at <= ?
       AND (h.stopped_at IS NULL OR ${OPEN_SPAWNED_RUN}) ORDER BY h.host_id`,
    [now],
  );
  return rows.map(toHost);
}

/** What reaping a lapsed host did. */
export interface Reaped {
  host: HostRecord;
  runs: { run_id: number; task_id: number }[];
}

/**
 * Ends the spawned runs of a host whose lease lapsed (SPEC §3 "Several hosts"), in the
 * caller's transaction: checks on the store's clock that the lease is still lapsed (a host
 * that renewed meanwhile keeps its runs), marks the host stopped so it is reaped once, and
 * fences every open run with `fenceRun` before closing it with `closeRun`. Returns null when
 * the host renewed or was already reaped.
 */
export async function reapHost(
  db: SqlDb,
  local: number,
  hostId: string,
  closeRun: (runId: number, now: number, host: HostRecord) => Promise<void>,
): Promise<Reaped | null> {
  const now = await storeNow(db, local);
  // On PostgreSQL this runs in the admission turn at REPEATABLE READ (see SqlStore.reapHost):
  // a renewal of this host committed after the snapshot makes the update below fail (40001)
  // and the retry finds the lease good; one committed before is seen here.
  const row = await db.get<HostRow>(
    `SELECT * FROM hosts h WHERE h.host_id = ? AND h.lease_expires_at IS NOT NULL
       AND h.lease_expires_at <= ? AND (h.stopped_at IS NULL OR ${OPEN_SPAWNED_RUN})`,
    [hostId, now],
  );
  if (!row) return null;
  const host = toHost(row);
  await db.run('UPDATE hosts SET stopped_at = ? WHERE host_id = ?', [now, hostId]);
  const open = await db.all<{ id: number; task_id: number }>(
    "SELECT id, task_id FROM runs WHERE host_id = ? AND state <> 'ended' AND mode <> 'pull' ORDER BY id",
    [hostId],
  );
  for (const run of open) await closeRun(run.id, now, host);
  return { host, runs: open.map((r) => ({ run_id: r.id, task_id: r.task_id })) };
}
