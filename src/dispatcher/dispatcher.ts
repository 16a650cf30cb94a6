import { setMaxListeners } from 'node:events';
import { formatDuration } from '../core/duration.js';
import { asError } from '../core/errors.js';
import type { Claim } from '../store/run-types.js';
import type { Store } from '../store/store.js';
import type { HostInstruments } from '../serve/instruments.js';
import type { Supervisor } from '../supervisor/supervisor.js';

/** How long a pass may run before the log says so. */
const SLOW_PASS_MS = 60_000;

/** What a dispatcher needs from its host. */
export interface DispatcherOptions {
  store: Store;
  supervisor: Supervisor;
  host: string;
  /** Most live runs on this host, re-read every pass. */
  maxWorkers: () => number;
  workspaceRoot: string;
  /** Where tasks' git worktrees go (HOME/worktrees). */
  worktreeRoot?: string;
  /** Variables every worker of this host gets (`WARDEN_URL`). */
  wardenEnv: () => Record<string, string>;
  /**
   * Several hosts: the host's lease. Work starts only while it is good, and a claim made before
   * a gap in it (its epoch) is not started after.
   */
  lease?: { valid(): boolean; readonly epoch: number };
  log?: (line: string) => void;
  /** Where a pass that will not end is said (default: `log`). */
  warn?: (line: string) => void;
  /** How long a pass may run before the log says so once. @default 60000 */
  slowPassMs?: number;
  /** Told of each worker started, for `/metrics` (src/serve/instruments.ts). */
  measure?: Pick<HostInstruments, 'dispatched'>;
}

/**
 * Why a pass is asked for:
 * - `change`: anything that may have made work (a write here or elsewhere, a run of this host
 *   ended);
 * - `pull-ended`: a pull worker's run ended (its report, its lease lost). It frees a slot and
 *   may make work ready, but only a spawned profile's run can start here;
 * - `remote`: another process's commit (another host's, on PostgreSQL) that changed no
 *   profile. It may have made work, but while no spawned profile exists none can start here,
 *   and it did not add one;
 * - `remote-profiles`: another process's commit that may have changed a profile (SQLite's
 *   `data_version` cannot say what changed). While no spawned profile was known to exist, the
 *   pass first reads whether one does now;
 * - `tick`: the host's timer.
 */
export type PassCause = 'change' | 'remote' | 'remote-profiles' | 'pull-ended' | 'tick';

/**
 * Claims what may start now (admission and claim in one transaction in the store) and starts
 * the workers. Passes never overlap; a wake-up during a pass runs another pass after it. A run
 * whose worktree must be made starts aside: the pass does not wait for its git.
 *
 * A board worked only by pull workers has no profile this host can start a run of, yet each of
 * its runs that ends asks for a pass: a look at the store per task, for nothing (issue #16).
 * So each tick reads whether any spawned profile exists, and while none does, the passes pull
 * endings ask for are skipped. A local change makes that answer unknown again (a profile may
 * have been added), so the pass a new spawned profile needs is never left to the next tick; a
 * spawned profile known to exist stays known until the tick reads otherwise.
 *
 * On PostgreSQL every commit of every other host wakes this one. Each used to make a pass, and
 * each pass an admission transaction: with three hosts of pull workers, several claims for
 * nothing per task, in the turn the real claims wait for. While no spawned profile is known to
 * exist, another host's commit that changed no profile makes no pass, and one that may have
 * changed one reads the profiles first (no turn), and claims only if a spawned one exists now.
 */
export class Dispatcher {
  private running: Promise<void> | null = null;
  private again = false;
  /** Whether a spawned profile exists, as the last tick read it; null: unknown since. */
  private spawnable: boolean | null = null;
  /** Counts the wake-ups that made `spawnable` unknown, so a read older than one is dropped. */
  private changes = 0;
  /** The next pass reads whether a spawned profile exists before it claims (another process's commit). */
  private readFirst = false;
  /** When the pass under way began (monotonic ms), and whether its slowness was said. */
  private passStarted = 0;
  private slowSaid = false;

  /** Starts under way apart from the pass: worktrees being made. */
  private readonly aside = new Set<Promise<void>>();
  /** The first failure of a start made aside since `settled` last looked. */
  private asideFailure: Error | undefined;
  /** Aborted when `serve` stops: kills the git of worktrees being made. */
  private readonly stopping = new AbortController();

  constructor(private readonly opts: DispatcherOptions) {
    // Every start under way listens for the stop (supervisor/starts.ts): more than ten at once
    // are no leak.
    setMaxListeners(0, this.stopping.signal);
  }

  /** Runs a pass now, or right after the one in progress, unless it cannot start anything. */
  async pass(cause: PassCause = 'change'): Promise<void> {
    if (cause === 'change') {
      // It may have added a spawned profile; one known to exist stays known (a claim made
      // after the last one was removed finds nothing, and the next tick reads again), so the
      // next commit of another process claims without reading the profiles first.
      if (this.spawnable === false) this.spawnable = null;
      this.changes++;
    } else if (cause === 'remote' || cause === 'remote-profiles') {
      if (this.spawnable === true) return this.run();
      // A commit that changed no profile leaves what the last read found as it was.
      if (this.spawnable === false && cause === 'remote') return;
      if (cause === 'remote-profiles') this.changes++;
      this.readFirst = true;
      return this.run();
    } else if (cause === 'tick') {
      await this.readSpawnable();
    }
    if (cause !== 'change' && this.spawnable === false) return;
    return this.run();
  }

  /** Reads whether a spawned profile exists, kept unless a wake-up came during the read. */
  private async readSpawnable(): Promise<boolean> {
    const seen = this.changes;
    const spawnable = (await this.opts.store.listProfiles()).some((p) => p.mode === 'spawned');
    if (seen === this.changes) this.spawnable = spawnable;
    return spawnable;
  }

  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      this.sayIfSlow();
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          // Each pass is timed alone: passes back to back on a busy host are no slow pass.
          this.passStarted = performance.now();
          await this.once();
          this.saidEnd();
        } while (this.again);
      } finally {
        this.running = null;
        this.saidEnd();
      }
    })();
    return this.running;
  }

  /**
   * Passes never overlap, so one that never ends (a store call that never answers) would stop
   * every start of this host in silence: the wake-ups that find it still under way say so, once.
   */
  private sayIfSlow(): void {
    const ran = performance.now() - this.passStarted;
    if (this.slowSaid || ran < (this.opts.slowPassMs ?? SLOW_PASS_MS)) return;
    this.slowSaid = true;
    (this.opts.warn ?? this.opts.log)?.(
      `dispatch: a pass has been under way for ${formatDuration(Math.round(ran))}; no run starts on this host until it ends (a store call that does not answer?)`,
    );
  }

  /** After a pass said to be slow: says it ended, at the same level. */
  private saidEnd(): void {
    if (!this.slowSaid) return;
    this.slowSaid = false;
    const ran = Math.round(performance.now() - this.passStarted);
    (this.opts.warn ?? this.opts.log)?.(
      `dispatch: the slow pass ended after ${formatDuration(ran)}`,
    );
  }

  private async once(): Promise<number> {
    const { lease } = this.opts;
    if (this.stopping.signal.aborted) return 0;
    if (lease && !lease.valid()) return 0;
    if (this.readFirst) {
      this.readFirst = false;
      if (!(await this.readSpawnable())) return 0;
    }
    const epoch = lease?.epoch ?? 0;
    const max = this.opts.maxWorkers();
    // Every slot is taken by a run this host watches: a wake-up (another host's write, on
    // PostgreSQL) cannot make room, so it costs no admission transaction.
    if (this.opts.supervisor.size >= max) return 0;
    const claims = await this.opts.supervisor.claim(
      () =>
        this.opts.store.claimRuns(
          { host: this.opts.host, maxWorkers: max, limit: max, mode: 'spawned' },
          this.opts.workspaceRoot,
          this.opts.worktreeRoot ?? null,
        ),
      epoch,
    );
    let started = 0;
    try {
      for (const claim of claims) {
        started++;
        // A worktree is made by git, which can take a minute on a large repository: it is
        // made aside, and the pass goes on to the next claim (the next pass too).
        if (claim.profile.worktree !== null) this.startAside(claim);
        else await this.startOne(claim);
      }
    } finally {
      // Claims never reached (a failure above) are the tick's to find and book.
      this.opts.supervisor.unreserve(claims.slice(started).map((c) => c.run.id));
    }
    return claims.length;
  }

  private async startOne(claim: Claim): Promise<void> {
    const from = performance.now();
    await this.opts.supervisor.start(claim, this.opts.wardenEnv(), this.stopping.signal);
    // A start that ended its run instead (a spawn that failed, a worktree refused or stopped)
    // started nothing: it is no dispatch to time, and its ending says why.
    if (!this.opts.supervisor.isRunning(claim.run.id)) return;
    this.opts.measure?.dispatched(
      claim.profile.name,
      claim.ready_at,
      claim.run.started_at,
      performance.now() - from,
    );
    this.opts.log?.(
      `started run ${claim.run.id} (attempt ${claim.run.attempt}) of task ${claim.task.id}`,
    );
  }

  private startAside(claim: Claim): void {
    const start: Promise<void> = this.startOne(claim)
      .catch((err: unknown) => {
        // A failure in the pass's own loop fails the pass; one aside fails `settled`.
        this.asideFailure ??= asError(err);
        this.opts.log?.(`dispatch: run ${claim.run.id}: ${(err as Error).stack ?? String(err)}`);
      })
      .finally(() => this.aside.delete(start));
    this.aside.add(start);
  }

  /**
   * Waits for the pass under way and every start made aside (`dispatch --once`); fails with the
   * pass's failure, or the first start's made aside.
   */
  async settled(): Promise<void> {
    let failure: Error | undefined;
    await this.running?.catch((err: unknown) => (failure = asError(err)));
    while (this.aside.size > 0) await Promise.all(this.aside);
    failure ??= this.asideFailure;
    this.asideFailure = undefined;
    if (failure !== undefined) throw failure;
  }

  /**
   * For `serve` stopping: no pass starts anything more, the git of worktrees being made is
   * killed (their runs end `host_lost`, not counted against their tasks), and this waits for
   * every start under way to be done, even after a failed pass (logged already).
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.settled().catch(() => undefined);
  }
}
