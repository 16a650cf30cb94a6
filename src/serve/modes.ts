import type { Clock } from '../core/clock.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import type { Run } from '../core/run.js';
import { stopElsewhere } from '../endings/elsewhere.js';
import type { RunModeEndings } from '../endings/modes.js';
import type { ChangeSignal } from '../endings/wait.js';
import type { Store } from '../store/store.js';
import type { Supervisor } from '../supervisor/supervisor.js';

/**
 * Spawned runs as `serve` ends and hears them: this host's own through its supervisor; with
 * several hosts, another host's by fencing it here and letting its host end it.
 */
export class SpawnedMode implements RunModeEndings {
  readonly mode = 'spawned' as const;

  constructor(
    private readonly supervisor: Supervisor,
    private readonly deps: { store: Store; host: string; clock: Clock; changed: ChangeSignal },
    /** Whether other hosts share the store (a run of another host can be stopped from here). */
    private readonly shared: boolean,
  ) {}

  stop(run: Run, by: string, intent: StopIntent): Promise<EndResult | null> {
    if (run.host_id === this.deps.host) return this.supervisor.stop(run.task_id, by, intent);
    if (!this.shared) return Promise.resolve(null);
    return stopElsewhere(this.deps, run, by, intent);
  }

  noteCall(runId: number, kind: 'progress' | 'heartbeat', note?: string): void {
    this.supervisor.noteCall(runId, kind, note);
  }

  reported(runId: number): Promise<void> {
    this.supervisor.noteTerminal(runId);
    return Promise.resolve();
  }
}
