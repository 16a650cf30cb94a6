import { newSecret } from '../../os/token.js';
import { WardenError, invalid, notFound } from '../../core/errors.js';
import type { RunReason } from '../../core/run.js';
import type { TokenInfo } from '../store.js';
import type { Cancellation } from '../../core/worker-protocol.js';
import type { LeaseInfo } from '../run-types.js';
import type { SqlDb } from './driver.js';
import { PG_NOW_MS } from './hosts.js';
import { toToken } from './rows.js';

interface LeaseRow {
  id: string;
  token_id: number;
  name: string;
  profiles: string;
  started_at: number;
  renewed_at: number;
  expires_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

function toLease(row: LeaseRow): LeaseInfo {
  return {
    id: row.id,
    token_id: row.token_id,
    name: row.name,
    profiles: JSON.parse(row.profiles) as string[],
    started_at: row.started_at,
    renewed_at: row.renewed_at,
    expires_at: row.expires_at,
    ended_at: row.ended_at,
    end_reason: row.end_reason,
  };
}

/** A lease that is live for this token, or the error a worker should see. */
export async function liveLease(
  db: SqlDb,
  now: number,
  id: string,
  token: TokenInfo,
): Promise<LeaseInfo> {
  const row = await db.get<LeaseRow>('SELECT * FROM worker_leases WHERE id = ?', [id]);
  return leaseOrRefusal(row, now, id, token);
}

/** The store's clock beside a lease's columns: PostgreSQL's (`store_now`); SQLite's is local. */
function storeNowColumn(db: SqlDb): string {
  return db.dialect === 'postgres' ? `, ${PG_NOW_MS} AS store_now` : '';
}

/**
 * `liveLease` as one statement outside any transaction, for the check every claim and renewal
 * makes first: on PostgreSQL the store's clock is read in the same statement, instead of a
 * read transaction of four round trips (BEGIN, the clock, the lease, COMMIT). A lease that
 * lapses just after this check is no different from one that lapses just after a claim: its
 * runs end `lease_lost` when the lapse is found.
 */
export async function checkLiveLease(
  db: SqlDb,
  local: number,
  id: string,
  token: TokenInfo,
): Promise<LeaseInfo> {
  const row = await db.get<LeaseRow & { store_now?: number }>(
    `SELECT *${storeNowColumn(db)} FROM worker_leases WHERE id = ?`,
    [id],
  );
  return leaseOrRefusal(row, row?.store_now ?? local, id, token);
}

/** A row's columns, each of which may be NULL (the far side of a LEFT JOIN). */
type Nullable<T> = { [K in keyof T]: T[K] | null };

/**
 * A worker token and, in the same statement, the lease a request names (`checkLiveLease` for
 * the claim every worker makes in a loop: one round trip where the token and the lease took
 * two). Null when no live token has this hash; otherwise the token, and the lease or the
 * refusal `checkLiveLease` would have thrown, for the route to give once it has checked the
 * rest of the request.
 */
export async function findTokenAndLease(
  db: SqlDb,
  local: number,
  hash: string,
  id: string,
): Promise<{ token: TokenInfo; lease: LeaseInfo | WardenError } | null> {
  const row = await db.get<
    Nullable<LeaseRow> & {
      tk_id: number;
      tk_name: string;
      tk_kind: string;
      tk_profiles: string;
      tk_created_at: number;
      store_now?: number;
    }
  >(
    `SELECT t.id AS tk_id, t.name AS tk_name, t.kind AS tk_kind, t.profiles AS tk_profiles,
       t.created_at AS tk_created_at, l.*${storeNowColumn(db)}
     FROM tokens t LEFT JOIN worker_leases l ON l.id = ?
     WHERE t.hash = ? AND t.revoked_at IS NULL`,
    [id, hash],
  );
  if (!row) return null;
  const token = toToken({
    id: row.tk_id,
    name: row.tk_name,
    kind: row.tk_kind,
    profiles: row.tk_profiles,
    created_at: row.tk_created_at,
  });
  const lease = row.id === null ? undefined : (row as LeaseRow);
  try {
    return { token, lease: leaseOrRefusal(lease, row.store_now ?? local, id, token) };
  } catch (err) {
    if (err instanceof WardenError) return { token, lease: err };
    throw err;
  }
}

function leaseOrRefusal(
  row: LeaseRow | undefined,
  now: number,
  id: string,
  token: TokenInfo,
): LeaseInfo {
  if (!row) throw notFound(`lease ${id} does not exist; open one with POST /api/v1/pull/leases`);
  if (row.token_id !== token.id) {
    throw new WardenError('forbidden', `lease ${id} belongs to another worker token`);
  }
  if (row.ended_at !== null || row.expires_at <= now) {
    throw new WardenError(
      'stale_run',
      `lease ${id} lapsed at ${new Date(Math.min(row.expires_at, row.ended_at ?? Infinity)).toISOString()}; its runs were ended lease_lost; open a new lease`,
      { lease: id },
    );
  }
  return toLease(row);
}

/** Opens a lease for a worker process serving some of its token's profiles. */
export async function openLease(
  db: SqlDb,
  now: number,
  token: TokenInfo,
  name: string,
  profiles: readonly string[] | undefined,
  ttlMs: number,
): Promise<LeaseInfo> {
  const serves = profiles === undefined || profiles.length === 0 ? token.profiles : [...profiles];
  const foreign = serves.filter((p) => !token.profiles.includes(p));
  if (foreign.length > 0) {
    throw new WardenError(
      'forbidden',
      `this token may not serve profile ${foreign.join(', ')}; it serves ${token.profiles.join(', ') || 'no profiles'}`,
    );
  }
  if (serves.length === 0) throw invalid('profiles: the lease must serve at least one profile');
  const id = newSecret('lease', 12);
  await db.run(
    `INSERT INTO worker_leases (id, token_id, name, profiles, started_at, renewed_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [id, token.id, name, JSON.stringify(serves), now, now, now + ttlMs],
  );
  const row = await db.get<LeaseRow>('SELECT * FROM worker_leases WHERE id = ?', [id]);
  if (!row) throw new Error('lease insert lost its row');
  return toLease(row);
}

/** Runs of a lease that are being ended and that the worker must give up. */
export async function cancellations(db: SqlDb, leaseId: string): Promise<Cancellation[]> {
  const rows = await db.all<{
    id: number;
    task_id: number;
    outcome: string | null;
    reason: string | null;
  }>(
    "SELECT id, task_id, outcome, reason FROM runs WHERE worker_id = ? AND state = 'ending' ORDER BY id",
    [leaseId],
  );
  return rows.map((r) => ({
    run_id: r.id,
    task_id: r.task_id,
    outcome: r.outcome ?? 'stopped',
    reason: r.reason === null ? '' : (JSON.parse(r.reason) as RunReason).message,
  }));
}

/** Renews a live lease; the answer names the runs the worker must cancel. */
export async function renewLease(
  db: SqlDb,
  now: number,
  id: string,
  token: TokenInfo,
  ttlMs: number,
): Promise<{ lease: LeaseInfo; cancel: Cancellation[] }> {
  const lease = await liveLease(db, now, id, token);
  await db.run('UPDATE worker_leases SET renewed_at = ?, expires_at = ? WHERE id = ?', [
    now,
    now + ttlMs,
    id,
  ]);
  return {
    lease: { ...lease, renewed_at: now, expires_at: now + ttlMs },
    cancel: await cancellations(db, id),
  };
}

/**
 * Moves on by `ms` every open lease that had not lapsed `ms` ago (by this store's clock): those
 * whose worker could not renew through a `serve` that did not run. One ended or lapsed before
 * then stays as it is. Returns how many moved.
 */
export async function extendLeases(db: SqlDb, now: number, ms: number): Promise<number> {
  return db.run(
    'UPDATE worker_leases SET expires_at = expires_at + ? WHERE ended_at IS NULL AND expires_at > ?',
    [ms, now - ms],
  );
}

/**
 * Gives every open lease at least `ttlMs` from now (by this store's clock): as `serve` starts,
 * none could be renewed while it was down. Returns how many it gave more time.
 */
export async function graceLeases(db: SqlDb, now: number, ttlMs: number): Promise<number> {
  return db.run(
    'UPDATE worker_leases SET expires_at = ? WHERE ended_at IS NULL AND expires_at < ?',
    [now + ttlMs, now + ttlMs],
  );
}

/**
 * Ends leases that lapsed (by this store's clock), or the one named, and returns the runs
 * they still held, which must end `lease_lost`.
 */
export async function endLeases(
  db: SqlDb,
  now: number,
  only?: { id: string; reason: string },
): Promise<{ lease: string; runs: number[] }[]> {
  const rows =
    only === undefined
      ? await db.all<LeaseRow>(
          'SELECT * FROM worker_leases WHERE ended_at IS NULL AND expires_at <= ?',
          [now],
        )
      : await db.all<LeaseRow>('SELECT * FROM worker_leases WHERE ended_at IS NULL AND id = ?', [
          only.id,
        ]);
  const out: { lease: string; runs: number[] }[] = [];
  for (const row of rows) {
    await db.run('UPDATE worker_leases SET ended_at = ?, end_reason = ? WHERE id = ?', [
      now,
      only?.reason ?? 'lapsed',
      row.id,
    ]);
    const runs = await db.all<{ id: number }>(
      "SELECT id FROM runs WHERE worker_id = ? AND state <> 'ended' ORDER BY id",
      [row.id],
    );
    out.push({ lease: row.id, runs: runs.map((r) => r.id) });
  }
  return out;
}
