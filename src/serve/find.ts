import { WardenError } from '../core/errors.js';
import type { EpochMs } from '../core/glossary.js';
import type { ProcessIdentity } from '../core/run.js';
import type { StoreLocation } from '../store/open.js';
import type { HostRecord } from '../store/run-types.js';
import { holdsHome } from '../os/home-holder.js';
import { deadServeLock, liveServeLock } from './serve-lock.js';
import type { HomeParts } from './wiring.js';

/** Where a command finds the home's store and `serve`. */
export type ServeLookup = Pick<HomeParts, 'store' | 'home'> & { where: StoreLocation };

/** Where a `serve`'s API answers; its process and start where this machine knows them. */
export interface ServeAddress {
  url: string;
  host: string;
  process?: ProcessIdentity | null;
  started_at?: EpochMs;
}

/** Several hosts: the hosts whose lease is good now (by the database's clock). */
async function renewingHosts(ctx: ServeLookup): Promise<HostRecord[]> {
  const lapsed = new Set((await ctx.store.lapsedHosts()).map((h) => h.host_id));
  return (await ctx.store.activeHosts()).filter(
    (h) => h.lease_expires_at !== null && !lapsed.has(h.host_id),
  );
}

/**
 * Several hosts: the ids of the hosts that watch their runs now: those whose lease is good,
 * but not this home's own host when its recorded `serve` is dead (killed, its lease not yet
 * lapsed: the lease says nothing of it for up to a TTL, its record here does).
 */
export async function watchingHostIds(ctx: ServeLookup): Promise<Set<string>> {
  const ids = new Set((await renewingHosts(ctx)).map((h) => h.host_id));
  const dead = deadServeLock(ctx.home);
  if (dead !== null) ids.delete(dead.host_id);
  return ids;
}

/**
 * The API of the live `serve` of this home, if one is running. Several hosts: this home's own
 * `serve` (its `serve.json`), else any other host whose lease is good (this home's own, dead,
 * answers nothing, whatever its lease still says).
 */
export async function liveServe(ctx: ServeLookup): Promise<ServeAddress | null> {
  if (ctx.where.kind === 'postgres') {
    const own = liveServeLock(ctx.home);
    const dead = own === null ? deadServeLock(ctx.home) : null;
    if (own) {
      const row = (await ctx.store.activeHosts()).find((h) => h.host_id === own.host_id);
      return {
        url: own.url,
        host: own.host_id,
        process: own.process,
        ...(row ? { started_at: row.started_at } : {}),
      };
    }
    // This home's serve, recorded but dead, answers nothing, whatever its lease still says.
    const other = (await renewingHosts(ctx)).find(
      (h) => h.url !== null && h.host_id !== dead?.host_id,
    );
    return other?.url ? { url: other.url, host: other.host_id } : null;
  }
  for (const h of await ctx.store.activeHosts()) {
    if (h.url !== null && holdsHome(h.process, ctx.where.path))
      return { url: h.url, host: h.host_id, process: h.process, started_at: h.started_at };
  }
  return null;
}

/**
 * Several hosts: the API that can end this run. A spawned run's processes are on its host's
 * machine, so only that host's `serve`, while its lease is good (a host whose lease lapsed has
 * its runs ended `host_lost` by the others); a pull run, any host's.
 */
export async function owningServe(ctx: ServeLookup, runId: number): Promise<ServeAddress> {
  const run = await ctx.store.getRun(runId);
  if (run.mode === 'pull') {
    const any = await liveServe(ctx);
    if (any) return any;
    throw new WardenError(
      'conflict',
      `run ${runId} is a pull run and no host's serve is renewing its lease; start \`warden serve\` and try again`,
    );
  }
  const owner = (await renewingHosts(ctx)).find((h) => h.host_id === run.host_id);
  if (!owner || owner.url === null) throw notRenewing(runId, run.host_id ?? '?', 'is');
  return { url: owner.url, host: owner.host_id };
}

function notRenewing(runId: number, hostId: string, when: 'is' | 'stopped'): WardenError {
  const state =
    when === 'is'
      ? 'is not renewing its lease'
      : 'stopped renewing its lease while this waited for its answer';
  return new WardenError(
    'conflict',
    `run ${runId} is on host ${hostId}, whose serve ${state}; other hosts end its runs (host_lost) once the lease lapses — try again then`,
  );
}

/** How often a wait on another host's answer checks that its lease is still renewed. */
const LEASE_LOOK_MS = 1000;

/**
 * Several hosts: waits for `call`, a request to `serve`'s API about run `runId`, and gives it
 * up once that host stops renewing its lease. A paused or hung `serve` never answers though
 * its kernel accepts the connection, and the call would wait its whole bound (minutes for a
 * stop); its lease says within the TTL that it is gone.
 */
export async function whileRenewing<T>(
  ctx: ServeLookup,
  serve: ServeAddress,
  runId: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const lapsed = new AbortController();
  const timer = setInterval(() => {
    renewingHosts(ctx).then(
      (hosts) => {
        if (!hosts.some((h) => h.host_id === serve.host)) lapsed.abort();
      },
      // The store not answering is no sign of the host: the call goes on.
      () => undefined,
    );
  }, LEASE_LOOK_MS);
  try {
    return await call(lapsed.signal);
  } catch (err) {
    if (lapsed.signal.aborted) throw notRenewing(runId, serve.host, 'stopped');
    throw err;
  } finally {
    clearInterval(timer);
  }
}
