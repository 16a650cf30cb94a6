/**
 * The one admission function (SPEC §4): which ready tasks may start now under the host's,
 * the profiles' and the concurrency groups' caps. Runs still `ending` count as live.
 */

/** A dispatchable task, already in dispatch order (priority, then age). */
export interface Candidate {
  taskId: number;
  profile: string;
  /** The profile's concurrency group, if any. */
  group: string | null;
}

/** A concurrency group's cap: board-wide, or per host. */
export interface GroupCap {
  max: number;
  scope: 'board' | 'host';
}

/** The caps in force, re-read every tick. */
export interface Caps {
  /** Most live runs on this host (`max_workers`). */
  host: number;
  /** Per profile `max_concurrency`; missing or null means no cap of its own. */
  profiles: ReadonlyMap<string, number | null>;
  groups: ReadonlyMap<string, GroupCap>;
}

/** Live runs (running or ending) by what they count against. */
export interface Load {
  host: number;
  profiles: Map<string, number>;
  /** Board-wide counts per group. */
  groups: Map<string, number>;
  /** This host's counts per group, for groups with `scope: host`. */
  hostGroups: Map<string, number>;
}

/** An empty load. */
export function emptyLoad(): Load {
  return { host: 0, profiles: new Map(), groups: new Map(), hostGroups: new Map() };
}

function count(map: Map<string, number>, key: string): number {
  return map.get(key) ?? 0;
}

/** Why a candidate cannot start now, or null if it can. */
export function blockedBy(c: Candidate, load: Load, caps: Caps): string | null {
  if (load.host >= caps.host) return `host cap full (${load.host}/${caps.host} max_workers)`;
  const profileMax = caps.profiles.get(c.profile) ?? null;
  if (profileMax !== null && count(load.profiles, c.profile) >= profileMax) {
    return `profile ${c.profile} cap full (${count(load.profiles, c.profile)}/${profileMax} max_concurrency)`;
  }
  if (c.group !== null) {
    const cap = caps.groups.get(c.group);
    if (cap) {
      const used =
        cap.scope === 'host' ? count(load.hostGroups, c.group) : count(load.groups, c.group);
      if (used >= cap.max)
        return `group ${c.group} cap full (${used}/${cap.max}, scope ${cap.scope})`;
    }
  }
  return null;
}

/**
 * Picks, in order, up to `limit` candidates that fit, counting each admitted one against the
 * caps before looking at the next. A candidate that does not fit never delays one behind it
 * that does. `load` is updated in place.
 */
export function admit(
  candidates: readonly Candidate[],
  load: Load,
  caps: Caps,
  limit = Number.POSITIVE_INFINITY,
): Candidate[] {
  const admitted: Candidate[] = [];
  for (const c of candidates) {
    if (admitted.length >= limit || load.host >= caps.host) break;
    if (blockedBy(c, load, caps) !== null) continue;
    admitted.push(c);
    load.host += 1;
    load.profiles.set(c.profile, count(load.profiles, c.profile) + 1);
    if (c.group !== null) {
      load.groups.set(c.group, count(load.groups, c.group) + 1);
      load.hostGroups.set(c.group, count(load.hostGroups, c.group) + 1);
    }
  }
  return admitted;
}
