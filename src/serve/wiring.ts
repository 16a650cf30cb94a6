import type { Clock } from '../core/clock.js';
import type { WardenConfig } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import { Dispatcher } from '../dispatcher/dispatcher.js';
import type { DispatcherOptions } from '../dispatcher/dispatcher.js';
import type { Store } from '../store/store.js';
import { Supervisor } from '../supervisor/supervisor.js';
import type { SupervisorOptions } from '../supervisor/supervision.js';
import { workerBaseEnv, writeWardenShim } from './worker-env.js';

/**
 * The one wiring of a host's parts over a home, shared by `serve`, `dispatch --once` and a
 * `stop` with no `serve` running, so each runs workers the same way.
 */

/** What every composition starts from: a home, its config and its store. */
export interface HomeParts {
  store: Store;
  home: HomePaths;
  config: WardenConfig;
  clock: Clock;
}

/**
 * The supervisor of host `hostId` over the home. Workers get `HOME/bin/warden` first on their
 * PATH; it is written when the first worker starts.
 */
export function homeSupervisor(
  parts: HomeParts,
  hostId: string,
  extra: Partial<SupervisorOptions> = {},
): Supervisor {
  let binDir: string | null = null;
  return new Supervisor({
    store: parts.store,
    host: hostId,
    clock: parts.clock,
    config: parts.config.policy,
    runsDir: parts.home.runs,
    baseEnv: (inherit) => workerBaseEnv((binDir ??= writeWardenShim(parts.home.root)), inherit),
    ...extra,
  });
}

/** The dispatcher of host `hostId`, starting workers through `supervisor`. */
export function homeDispatcher(
  parts: HomeParts,
  hostId: string,
  supervisor: Supervisor,
  extra: Pick<DispatcherOptions, 'maxWorkers' | 'wardenEnv'> & Partial<DispatcherOptions>,
): Dispatcher {
  return new Dispatcher({
    store: parts.store,
    supervisor,
    host: hostId,
    workspaceRoot: parts.home.workspaces,
    ...extra,
  });
}
