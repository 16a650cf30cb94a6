import type { Clock } from '../core/clock.js';
import { WardenError } from '../core/errors.js';
import type { WardenConfig } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import { Dispatcher } from '../dispatcher/dispatcher.js';
import type { DispatcherOptions } from '../dispatcher/dispatcher.js';
import type { Store } from '../store/store.js';
import { Supervisor } from '../supervisor/supervisor.js';
import type { Containment, SupervisorOptions } from '../supervisor/supervision.js';
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
 * `WARDEN_CONTAINMENT`: how a run's processes are kept together beyond its process group.
 * `auto` (or unset): a cgroup v2 per run where the machine allows, else by their environment;
 * `environ`: by their environment only. Anything else is refused at start.
 */
export function containmentFromEnv(value = process.env.WARDEN_CONTAINMENT): Containment {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'environ') return 'environ';
  throw new WardenError(
    'setup',
    `WARDEN_CONTAINMENT=${value}: unknown; use auto (a cgroup per run where allowed) or environ`,
  );
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
    containment: containmentFromEnv(),
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
    worktreeRoot: parts.home.worktrees,
    ...extra,
  });
}
