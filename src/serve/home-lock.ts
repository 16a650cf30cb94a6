import { hostname } from 'node:os';
import { WardenError } from '../core/errors.js';
import { holdsHome } from '../os/home-holder.js';
import { identify } from '../os/procfs.js';
import type { HostRecord } from '../store/run-types.js';
import type { Store } from '../store/store.js';

/** The default host id: this machine's name. */
export function defaultHostId(): string {
  return hostname() || 'localhost';
}

function homeTaken(holders: readonly HostRecord[]): WardenError {
  const h = holders[0];
  const who = h
    ? `host ${h.host_id}, pid ${h.process?.pid ?? '?'}, since ${new Date(h.started_at).toISOString()}`
    : 'another process';
  return new WardenError(
    'conflict',
    `warden serve is already running for this home (${who}); stop it first, or use its API`,
  );
}

/**
 * Takes the home for this process (SQLite: one `serve` per home, its database `dbFile`).
 * Refuses, naming the holder, while another live process holds it; takes over from holders
 * that are gone, or that hold another home (`holdsHome`).
 */
export async function takeHome(
  store: Store,
  hostId: string,
  url: string | null,
  dbFile: string | null,
): Promise<void> {
  const me = identify(process.pid);
  if (!me) throw new Error('cannot read this process from /proc');
  for (let i = 0; i < 3; i++) {
    const holders = await store.activeHosts();
    const alive = holders.filter((h) => holdsHome(h.process, dbFile));
    if (alive.length > 0) throw homeTaken(alive);
    const taken = await store.claimHome({ host_id: hostId, process: me, url }, holders);
    if (taken.ok) return;
  }
  throw homeTaken(await store.activeHosts());
}

/** Gives the home back (the process that took it). */
export async function releaseHome(store: Store, hostId: string): Promise<void> {
  const me = identify(process.pid);
  if (me) await store.releaseHome(hostId, me);
}

/** Runs `fn` while this process holds the home for `hostId` (its database `dbFile`, SQLite). */
export async function withHome<T>(
  store: Store,
  hostId: string,
  dbFile: string | null,
  fn: () => Promise<T>,
): Promise<T> {
  await takeHome(store, hostId, null, dbFile);
  try {
    return await fn();
  } finally {
    await releaseHome(store, hostId);
  }
}
