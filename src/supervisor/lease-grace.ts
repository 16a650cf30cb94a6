import type { Clock } from '../core/clock.js';
import { PULL_DEFAULTS } from '../core/defaults.js';
import { formatDuration } from '../core/duration.js';
import { ErrorCode, WardenError } from '../core/errors.js';
import type { EpochMs, Millis } from '../core/glossary.js';
import { isUnreachable } from '../store/storage-errors.js';
import type { Store } from '../store/store.js';
import { Absences } from './absences.js';

/** What `LeaseGrace` needs from its host. */
export interface LeaseGraceOptions {
  store: Store;
  clock: Clock;
  /** How long a pull worker's lease lasts without a renewal. */
  ttlMs: Millis;
  log?: (line: string) => void;
}

/**
 * A pull worker's lease lapses for its worker's silence, never for `serve`'s or the store's: no
 * worker can renew through a `serve` that does not run, a store that does not answer, or a
 * `serve` that is down (SPEC §3: a suspend shifts every deadline; a restart is never counted
 * against a task). Three cases, each made good before any lease is read again:
 * - `serve` did not run for a while (`Absences`): every live lease moves on by that span, and a
 *   pull run's silence and runtime leave it out (`credited`);
 * - the store could not be reached (`storeFailed`): once it answers, every open lease gets a TTL;
 * - `serve` starts (`atStart`): every open lease gets a TTL, as how long it was down is unknown.
 */
export class LeaseGrace {
  /** This `serve`'s absences, once it watches for them (`watch`). */
  private absences: Absences | null = null;
  private beats: NodeJS.Timeout | null = null;
  /** The open leases being given their time; null when none are. */
  private catchingUp: Promise<void> | null = null;
  /**
   * The store could not be reached, and the leases have not had their TTL since: until they
   * have, no lease may be read (`present` refuses).
   */
  private storeAway = false;
  /** How often the store was seen unreachable: one seen during a grace calls for another. */
  private awaySeen = 0;
  /** Why the last attempt to give the leases their time failed, for whoever waits on it. */
  private lastFailure = '';

  constructor(private readonly opts: LeaseGraceOptions) {}

  /**
   * From now on notes, a few times a second, that `serve` runs, so that a span in which it did
   * not is seen (`present`). `serve` calls it as it starts; a host that never does (tests that
   * move a clock by hand) sees no absences.
   */
  watch(): void {
    if (this.absences !== null) return;
    this.absences = new Absences(() => this.opts.clock.now(), PULL_DEFAULTS.absence_ms);
    // A beat that finds the store still away says nothing: the tick says it once.
    const beat = (): void => void this.present()?.catch(() => undefined);
    this.beats = setInterval(beat, PULL_DEFAULTS.beat_every_ms);
    this.beats.unref();
  }

  /**
   * Stops the beats of `watch`, and the watch: a serve shutting down is not absent, and a pull
   * request answered meanwhile took the shutdown's seconds for one, and failed to move the
   * leases on in a store already closed (a trial's every SIGTERM logged it).
   */
  stop(): void {
    if (this.beats !== null) clearInterval(this.beats);
    this.beats = null;
    this.absences = null;
  }

  /** Lets the pull requests that wait for `atStart` go on. */
  private started: (() => void) | null = null;

  /**
   * Until `atStart`, whatever reads a lease's expiry waits (`present`): a serve that listens
   * before it knows it may start (several hosts: its host id may be held) gives the leases
   * their time only once it does, and answers no pull request before.
   */
  holdUntilStart(): void {
    this.catchingUp = new Promise<void>((resolve) => {
      this.started = resolve;
    });
  }

  /**
   * As `serve` starts, before it answers pull requests: every open lease gets a TTL from now to
   * be renewed in. A dead worker's runs end a TTL after the start rather than at it. Only a
   * serve that starts does it: one refused (its host id held, its port taken) gave every
   * worker's lease its time too, on every host.
   */
  async atStart(): Promise<void> {
    try {
      const n = await this.opts.store.graceLeases(this.opts.ttlMs);
      if (n > 0) this.opts.log?.(this.given(n, 'while serve was down'));
    } catch (err) {
      // The start goes on: what fails here fails again, and is said, at its next write.
      this.opts.log?.(`giving the pull leases time at the start failed: ${String(err)}`);
    } finally {
      this.started?.();
      this.started = null;
      this.catchingUp = null;
    }
  }

  /**
   * The host's tick, or a pull request, failed. Only a store that could not be reached
   * (PostgreSQL down or cut off) earns the leases their TTL once it answers (`present`): a
   * failure for a bug, with the store there, must not keep every lease alive.
   */
  storeFailed(err: unknown): void {
    if (!isUnreachable(err)) return;
    this.storeAway = true;
    this.awaySeen += 1;
  }

  /**
   * Notes that `serve` runs now (its beats, its tick, and every pull request before it reads a
   * lease: after a suspend a request can come before the beats' timer, which runs on the
   * monotonic clock). After an absence, or once an unreachable store answers again, the leases
   * are first given their time: what this returns then settles once they have it, and whatever
   * reads a lease's expiry waits for it. It rejects (`unavailable`) if they could not be given
   * it: the store may answer the very next query, and a lease read then would be taken as lapsed.
   * Null otherwise, so a request pays nothing.
   */
  present(): Promise<void> | null {
    const absence = this.absences?.beat() ?? null;
    if (absence !== null) {
      const seconds = (absence.ms / 1000).toFixed(1);
      this.give(
        () => this.opts.store.extendLeases(absence.ms),
        // With no pull lease there is nothing to say here: the supervisor says it of its runs.
        (n) =>
          n === 0
            ? null
            : `serve did not run for ${seconds} s (suspended, stopped, or its event loop held); ${n} pull lease(s) moved on by that, and pull runs' silences do not count it`,
        (err) => {
          // A store that went away meanwhile: every open lease gets a TTL instead, once it answers.
          this.storeFailed(err);
          return `serve did not run for ${seconds} s; moving the pull leases on failed: ${String(err)}`;
        },
      );
    } else if (this.storeAway && this.catchingUp === null) {
      this.give(
        async () => {
          const seen = this.awaySeen;
          const n = await this.opts.store.graceLeases(this.opts.ttlMs);
          if (this.awaySeen === seen) this.storeAway = false;
          return n;
        },
        (n) => `the store answers again: ${this.given(n, 'while it did not')}`,
        (err) => {
          // Tried at every beat until the store answers, quietly (the tick says it once). A
          // store that answers with another failure (a bug, a read-only replica) must not
          // hold every pull request back: it is said, and the leases are read as they are.
          if (isUnreachable(err)) return null;
          this.storeAway = false;
          return `giving the pull leases time after the store's outage failed: ${String(err)}`;
        },
      );
    }
    const catchingUp = this.catchingUp;
    if (catchingUp === null) return null;
    return catchingUp.then(() => {
      if (this.storeAway) throw this.awayError();
    });
  }

  /** Why no lease can be read yet. */
  private awayError(): WardenError {
    return new WardenError(
      ErrorCode.unavailable,
      `the store does not answer (${this.lastFailure || 'no answer'}); once it does, every pull lease gets ${formatDuration(this.opts.ttlMs)} to be renewed in; try again`,
    );
  }

  /** `at` moved on by the time `serve` was absent since: for a pull run's silence and runtime. */
  credited(at: EpochMs): EpochMs {
    return at + (this.absences?.since(at) ?? 0);
  }

  /** What a grace of a TTL did, for the log. */
  private given(n: number, why: string): string {
    return `${n} pull lease(s) given ${formatDuration(this.opts.ttlMs)} from now to be renewed in, as none could be ${why}`;
  }

  /** Gives the leases their time after whatever is under way, and says what it did. */
  private give(
    write: () => Promise<number>,
    done: (n: number) => string | null,
    failed: (err: unknown) => string | null,
  ): void {
    const giving = (this.catchingUp ?? Promise.resolve())
      .then(write)
      .then(
        (n) => {
          const line = done(n);
          if (line !== null) this.opts.log?.(line);
        },
        (err: unknown) => {
          this.lastFailure = err instanceof Error ? err.message : String(err);
          const line = failed(err);
          if (line !== null) this.opts.log?.(line);
        },
      )
      .finally(() => {
        if (this.catchingUp === giving) this.catchingUp = null;
      });
    this.catchingUp = giving;
  }
}
