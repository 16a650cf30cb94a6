import type { Clock } from '../core/clock.js';
import { PULL_DEFAULTS } from '../core/defaults.js';
import type { Millis } from '../core/glossary.js';
import { Absences } from './absences.js';

/**
 * The spans in which `serve` itself did not run while the machine was awake: the process
 * stopped (Ctrl-Z, a debugger, `docker pause`) or its event loop held. The monotonic clock on
 * which spawned runs are judged counts them, yet nothing a worker sent could be heard then: its
 * `progress` calls waited in the socket or were given up. So no spawned run's silence counts
 * them (`onAbsence`), as no pull run's does (lease-grace.ts). A suspend needs nothing here: the
 * monotonic clock does not count one.
 */
export class OwnAbsences {
  private absences: Absences | null = null;
  private beats: NodeJS.Timeout | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly onAbsence: (ms: Millis) => void,
  ) {}

  /**
   * From now on notes, a few times a second, that `serve` runs. `serve` calls it as it starts;
   * a supervisor on a clock moved by hand sees no absences unless its test calls it.
   */
  watch(): void {
    if (this.absences !== null) return;
    this.absences = new Absences(() => this.clock.monotonic(), PULL_DEFAULTS.absence_ms);
    this.beats = setInterval(() => this.beat(), PULL_DEFAULTS.beat_every_ms);
    this.beats.unref();
  }

  /** Stops the beats of `watch`. */
  stop(): void {
    if (this.beats !== null) clearInterval(this.beats);
    this.beats = null;
  }

  /**
   * Notes that `serve` runs now: the timer's beats, and each look right before it judges a run
   * (after a stop, the tick's timer or an awaited answer may come before the beats').
   */
  beat(): void {
    const absence = this.absences?.beat() ?? null;
    if (absence !== null) this.onAbsence(absence.ms);
  }
}
