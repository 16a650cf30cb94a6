/**
 * The benchmarks drive the built warden (`dist/`), as `bin/warden.js` does, but are
 * type-checked against `src/`: types come from `src` (erased when Node strips them), values
 * from `dist` (loaded at run time, so a type check does not need a build first).
 */
import type * as ActorModule from '../../src/core/actor.js';
import type * as ClockModule from '../../src/config/clock.js';
import type * as OpenModule from '../../src/store/sqlite/open.js';
import type * as CgroupModule from '../../src/os/cgroup.js';
import type * as ProcfsModule from '../../src/os/procfs.js';
import type * as SpawnModule from '../../src/supervisor/spawn.js';
import type * as StandbyModule from '../../src/supervisor/standby.js';

const DIST = new URL('../../dist/', import.meta.url);

async function load<T>(path: string): Promise<T> {
  try {
    return (await import(new URL(path, DIST).href)) as T;
  } catch (err) {
    throw new Error(`cannot load dist/${path}; run \`npm run build\` first`, { cause: err });
  }
}

/** The parts of warden the benchmarks use. */
export interface Warden {
  openSqliteStore: (typeof OpenModule)['openSqliteStore'];
  systemClock: (typeof ClockModule)['systemClock'];
  person: (typeof ActorModule)['person'];
  isSameProcessAlive: (typeof ProcfsModule)['isSameProcessAlive'];
  signalGroup: (typeof ProcfsModule)['signalGroup'];
  spawnWorker: (typeof SpawnModule)['spawnWorker'];
  makeStandby: (typeof StandbyModule)['makeStandby'];
  readCgroupFile: (typeof SpawnModule)['readCgroupFile'];
  cgroupMembers: (typeof CgroupModule)['cgroupMembers'];
  removeCgroup: (typeof CgroupModule)['removeCgroup'];
}

/** Loads warden's modules from `dist/`. */
export async function loadWarden(): Promise<Warden> {
  const [open, clock, actor, procfs, spawn, standby, cgroup] = await Promise.all([
    load<typeof OpenModule>('store/sqlite/open.js'),
    load<typeof ClockModule>('config/clock.js'),
    load<typeof ActorModule>('core/actor.js'),
    load<typeof ProcfsModule>('os/procfs.js'),
    load<typeof SpawnModule>('supervisor/spawn.js'),
    load<typeof StandbyModule>('supervisor/standby.js'),
    load<typeof CgroupModule>('os/cgroup.js'),
  ]);
  return {
    openSqliteStore: open.openSqliteStore,
    systemClock: clock.systemClock,
    person: actor.person,
    isSameProcessAlive: procfs.isSameProcessAlive,
    signalGroup: procfs.signalGroup,
    spawnWorker: spawn.spawnWorker,
    makeStandby: standby.makeStandby,
    readCgroupFile: spawn.readCgroupFile,
    cgroupMembers: cgroup.cgroupMembers,
    removeCgroup: cgroup.removeCgroup,
  };
}
