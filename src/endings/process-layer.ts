import type { ProcessIdentity } from '../core/run.js';
import { groupAlive, isSameProcessAlive, signalGroup } from '../os/procfs.js';

/**
 * What ending a spawned run needs from the operating system, injected so the last guard of
 * "never two workers" (a group that survives SIGKILL) can be tested with processes that refuse
 * to die.
 */
export interface ProcessLayer {
  /** Whether any live process is left in the group. */
  groupAlive(pgid: number): boolean;
  /** Signals every process of the group; false if it is already gone. */
  signalGroup(pgid: number, signal: 'SIGTERM' | 'SIGKILL'): boolean;
  /** Whether the process this identity names is still there. */
  isSameProcessAlive(identity: ProcessIdentity): boolean;
}

/** The real processes, read from Linux `/proc` and signalled with kill(2). */
export const procfsLayer: ProcessLayer = { groupAlive, signalGroup, isSameProcessAlive };
