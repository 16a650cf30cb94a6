import { resultReporter } from '../api/worker-routes.js';
import type { WorkerSignals } from '../api/worker-routes.js';
import { bookLeftoverReports, keptReportBooker } from './kept-reports.js';
import type { KeptRun } from './kept-reports.js';
import { keepIdsPastFolders } from './id-floor.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { dispatcher as dispatcherActor } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import { listenError } from './listen-error.js';
import { WardenError } from '../core/errors.js';
import { hostLeaseTimes } from '../core/host-lease.js';
import type { RunMode } from '../core/run.js';
import type { WardenConfig } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import { createApi } from '../api/app.js';
import type { ApiLog } from '../api/request-log.js';
import type { RunModeEndings } from '../endings/modes.js';
import type { Dispatcher, PassCause } from '../dispatcher/dispatcher.js';
import { LeaseKeeper } from '../dispatcher/lease-keeper.js';
import type { Store } from '../store/store.js';
import { PullSupervisor } from '../supervisor/pull.js';
import { LlmProxy } from '../proxy/proxy.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { sweepArchivedWorktrees } from './worktrees.js';
import { collectGarbage, gcSummary } from './gc.js';
import { GcSchedule } from './gc-schedule.js';
import type { HostInstruments } from './instruments.js';
import { fireSchedules } from './schedules.js';
import { Notifier, dashboardBase, notifyPolicyFromEnv } from './notify.js';
import { defaultHostId, releaseHome, takeHome } from './home-lock.js';
import { ClaimWaiters } from './claim-waiters.js';
import { SpawnedMode } from './modes.js';
import { checkServeLock, releaseServeLock, writeServeLock } from './serve-lock.js';
import { homeDispatcher, homeSupervisor } from './wiring.js';
import { writeWardenShim } from './worker-env.js';

/** How often `serve` looks for archived tasks' worktrees to remove. */
const WORKTREE_SWEEP_MS = 10_000;

/** How a host runs. */
export interface HostOptions {
  store: Store;
  home: HomePaths;
  config: WardenConfig;
  clock: Clock;
  hostId?: string;
  port: number;
  bind: string;
  tickMs: number;
  maxWorkers: number;
  progressFlushMs?: number;
  /** `/metrics` answers without a token (`serve --metrics-open`). */
  metricsOpen?: boolean;
  /** Run the dispatcher (false: supervise and serve the API only). */
  dispatch?: boolean;
  /** How long a pull worker's lease lasts without a renewal (SPEC §4: 30 s). */
  leaseTtlMs?: number;
  /**
   * Several hosts on one PostgreSQL (SPEC §3): this host's lease TTL and the home's host
   * secret. Without it the host takes the home for itself (SQLite: one `serve` per home).
   */
  hostLease?: { ttlMs: number; secret: string };
  /** `serve --gc-every`: gc every `everyMs`, pruning tasks finished `olderThanMs` ago. */
  gc?: { everyMs: number; olderThanMs: number };
  log?: (line: string) => void;
  /** Where what a person should hear of even at `--log-level warn` goes (default: `log`). */
  warn?: (line: string) => void;
  /** What this host measures of itself for `/metrics` (its store is measured by the caller). */
  instruments?: HostInstruments;
  /** Where the API logs failed requests (default: pino on standard error). */
  apiLog?: ApiLog;
}

/**
 * One `warden serve`: the supervisor, the dispatcher and the HTTP API over one store. Stopping
 * it never stops workers: they keep running and the next `serve` adopts them.
 */
export class Host {
  readonly hostId: string;
  /** Books a report a worker kept in its run's folder while serve did not answer. */
  private readonly keptReport: (run: KeptRun) => Promise<void>;
  private readonly supervisor: Supervisor;
  private readonly pull: PullSupervisor;
  private readonly dispatcher: Dispatcher;
  private readonly lease: LeaseKeeper | null = null;
  private readonly gc: GcSchedule | null = null;
  /** How each mode's runs are stopped and heard. */
  private readonly modes: Record<RunMode, RunModeEndings>;
  private workWaiters: (() => void)[] = [];
  /** Pull workers' long-polls, woken one at a time (claim-waiters.ts). */
  private readonly claimWaiters = new ClaimWaiters();
  private server: ServerType | null = null;
  private timer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private stopping = false;
  /** The stop under way or done (`stop`). */
  private stopped: Promise<void> | null = null;
  /** Why the last tick failed, said once until one runs through: the disk, or the store. */
  private tickFailing: 'storage' | 'store' | null = null;
  private url = '';
  /** The model-activity proxy under `/llm/` (issue #13). */
  private readonly proxy: LlmProxy;
  /** Webhook deliveries (issue #15), on their own timer. */
  private readonly notifier: Notifier;

  /** What the worker routes tell this host of a worker's calls. */
  private readonly signals: WorkerSignals = {
    call: (runId, kind, note, mode) => this.modes[mode].noteCall(runId, kind, note),
    terminal: (runId) => {
      // A run this host's supervisor holds is kicked at once, with no read; any other is
      // a pull run, which its report closed (or another host's, left to that host).
      const mode = this.supervisor.holds(runId) ? 'spawned' : 'pull';
      void this.modes[mode]
        .reported(runId)
        .catch((err: unknown) => this.opts.log?.(`run ${runId}: ${String(err)}`));
    },
  };

  constructor(private readonly opts: HostOptions) {
    this.hostId = opts.hostId ?? defaultHostId();
    // A report a worker kept while serve did not answer goes the way one over the API does.
    const report = resultReporter(opts.store, this.signals, () => opts.config.policy, this.hostId);
    this.keptReport = keptReportBooker(opts.store, report, this.hostId, (line) => opts.log?.(line));
    this.supervisor = homeSupervisor(opts, this.hostId, {
      keptReport: this.keptReport,
      ...(opts.progressFlushMs !== undefined ? { progressFlushMs: opts.progressFlushMs } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      onRunEnded: () => this.wake(),
      onClosed: ({ runId, taskId, outcome, runDir, elsewhere }) => {
        // A run another host closed (its lease lapsed) keeps the outcome stored there, and
        // its detection was that host's: not measured here under a placeholder outcome.
        if (!elsewhere) opts.instruments?.ended(runDir, outcome);
        opts.log?.(
          elsewhere
            ? `run ${runId} of task ${taskId} had been ended elsewhere; its processes here are gone`
            : `run ${runId} of task ${taskId} ended ${outcome}`,
        );
      },
      onResume: () => this.lease?.resumed(),
      ...(opts.hostLease
        ? {
            freeze: {
              deadlines: () => this.keeper().deadlines(),
              valid: () => this.keeper().valid(),
              epoch: () => this.keeper().epoch,
              pollSeconds: hostLeaseTimes(opts.hostLease.ttlMs).watchEveryMs / 1000,
            },
          }
        : {}),
    });
    if (opts.hostLease) {
      this.lease = new LeaseKeeper({
        store: opts.store,
        hostId: this.hostId,
        secret: opts.hostLease.secret,
        ttlMs: opts.hostLease.ttlMs,
        clock: opts.clock,
        config: opts.config.policy,
        supervisor: this.supervisor,
        ...(opts.log ? { log: opts.log } : {}),
        onReaped: () => this.wake(),
      });
    }
    const changed = (ms: number): Promise<void> => this.changed(ms);
    this.pull = new PullSupervisor({
      store: opts.store,
      host: this.hostId,
      clock: opts.clock,
      config: opts.config.policy,
      changed,
      ...(opts.leaseTtlMs !== undefined ? { leaseTtlMs: opts.leaseTtlMs } : {}),
      ...(opts.progressFlushMs !== undefined ? { progressFlushMs: opts.progressFlushMs } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      onRunEnded: () => this.wake('pull-ended'),
    });
    this.modes = {
      spawned: new SpawnedMode(
        this.supervisor,
        { store: opts.store, host: this.hostId, clock: opts.clock, changed },
        this.lease !== null,
      ),
      pull: this.pull,
    };
    if (opts.gc) {
      const { everyMs, olderThanMs } = opts.gc;
      this.gc = new GcSchedule({
        everyMs,
        clock: opts.clock,
        run: () => this.collect(olderThanMs),
      });
    }
    this.notifier = new Notifier({
      store: opts.store,
      host: this.hostId,
      policy: notifyPolicyFromEnv(),
      baseUrl: () => (this.url === '' ? null : dashboardBase(this.url)),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.warn ? { warn: opts.warn } : {}),
    });
    this.proxy = new LlmProxy({
      store: opts.store,
      clock: opts.clock,
      prices: () => opts.config.prices,
      actor: dispatcherActor(this.hostId),
      stillRunning: (runId) => this.supervisor.isRunning(runId),
      log: (line) => opts.log?.(line),
      hooks: {
        activity: (run, state) => {
          if (run.mode === 'spawned') this.supervisor.noteModel(run.id, state);
          else this.pull.noteCall(run.id, 'progress');
        },
        end: async (run, outcome, reason) => {
          if (run.mode === 'pull') {
            // Awaited by the proxy: the fence is written before the worker sees the answer.
            await opts.store
              .getRun(run.id)
              .then((full) => this.pull.endings.fence(full, outcome, reason))
              .catch((err: unknown) => opts.log?.(`run ${run.id}: ${String(err)}`));
          } else if (run.host_id === this.hostId) {
            this.supervisor.endFor(run.id, outcome, reason);
          }
        },
      },
    });
    this.dispatcher = homeDispatcher(opts, this.hostId, this.supervisor, {
      maxWorkers: () => opts.maxWorkers,
      wardenEnv: () => ({ WARDEN_URL: this.url }),
      ...(this.lease ? { lease: this.lease } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.warn ? { warn: opts.warn } : {}),
      ...(opts.instruments ? { measure: opts.instruments } : {}),
    });
  }

  private keeper(): LeaseKeeper {
    if (!this.lease) throw new Error('this host keeps no lease');
    return this.lease;
  }

  /** Where the API listens. */
  get apiUrl(): string {
    return this.url;
  }

  /** Takes the home, adopts what survived a restart, opens the API and starts the loop. */
  async start(): Promise<void> {
    const { store } = this.opts;
    // Several hosts: the lease is this host's claim (refused while another live host holds
    // the id); one host alone takes the home.
    if (this.lease) {
      checkServeLock(this.opts.home);
      // Pull requests wait until the leases have had their time (below), so none lapses for
      // the time serve was down; a serve refused its host id gives them none.
      this.pull.grace.holdUntilStart();
      // Bound first, so a serve that cannot listen leaves no lease behind.
      await this.listen();
      await this.lease.start().catch(async (err: unknown) => {
        await this.closeServer();
        throw err;
      });
      await this.pull.grace.atStart();
      writeServeLock(this.opts.home, this.hostId, this.url);
    } else {
      // No lease: one host on the home's SQLite file.
      await takeHome(store, this.hostId, null, this.opts.home.db);
      await this.pull.grace.atStart();
      await this.listen();
    }
    try {
      writeWardenShim(this.opts.home.root);
      await store.describeHost(this.hostId, { url: this.url, max_workers: this.opts.maxWorkers });
      await keepIdsPastFolders(store, this.opts.home, (line) => this.opts.log?.(line));
      await store.writeEvent(dispatcherActor(this.hostId), {
        kind: 'host_started',
        payload: { host: this.hostId, pid: process.pid, url: this.url },
      });
      await this.supervisor.adoptAll();
      await bookLeftoverReports(
        store,
        this.keptReport,
        this.opts.home.runs,
        (id) => this.supervisor.holds(id),
        (line) => this.opts.log?.(line),
      );
    } catch (err) {
      // A serve that failed to start keeps nothing running: no renewals, no API, no claim on
      // the home (its workers stay, frozen once the lease runs out, for the next serve).
      this.lease?.stop();
      await this.closeServer();
      if (this.lease) releaseServeLock(this.opts.home);
      throw err;
    }
    // Adopted runs are still this host's: their workers may run (thaw, if frozen).
    this.supervisor.refreshLiveness();
    // Another process's commit: a pass only if it can start anything here (dispatcher.ts).
    this.unwatch = store.watchChanges((change) =>
      this.wake(change.profiles ? 'remote-profiles' : 'remote'),
    );
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs);
    // A span in which serve did not run costs no pull worker its lease (lease-grace.ts), and
    // no run its silence (own-absences.ts).
    this.pull.grace.watch();
    this.supervisor.absences.watch();
    this.notifier.start();
    // The first tick runs behind the start: its dispatch pass repeats while wake-ups arrive,
    // and with busy hosts beside it on one PostgreSQL they may never stop arriving.
    void this.tick();
  }

  private listen(): Promise<void> {
    const app = createApi({
      store: this.opts.store,
      host: this.hostId,
      config: () => this.opts.config.policy,
      dispatching: () => this.timer !== null && this.opts.dispatch !== false,
      workers: () => this.supervisor.size,
      metricsOpen: this.opts.metricsOpen ?? false,
      ...(this.opts.instruments ? { measured: this.opts.instruments.registry } : {}),
      ...(this.opts.apiLog ? { log: this.opts.apiLog } : {}),
      signals: this.signals,
      control: { stop: (taskId, by, intent) => this.stopTask(taskId, by, intent) },
      pull: {
        pull: this.pull,
        host: this.hostId,
        leaseTtlMs: this.pull.leaseTtlMs,
        waitForWork: (ms, profiles) => this.claimWaiters.wait(ms, profiles),
      },
      wake: (cause) => this.wake(cause),
      board: {
        runsDir: this.opts.home.runs,
        dispatching: () => this.timer !== null && this.opts.dispatch !== false,
        changed: (ms) => this.changed(ms),
      },
    });
    return new Promise((resolve, reject) => {
      const proxy = this.proxy;
      // The proxy answers `/llm/` on the bare Node request, before Hono: it streams both ways
      // and forwards headers unchanged, which a fetch-style Request and Response would not.
      const createServer = ((options: http.ServerOptions, listener: http.RequestListener) =>
        http.createServer(options, (req, res) => {
          if (LlmProxy.owns(req.url)) void proxy.handle(req, res);
          else listener(req, res);
        })) as unknown as typeof http.createServer;
      const server = serve(
        { fetch: app.fetch, port: this.opts.port, hostname: this.opts.bind, createServer },
        (info: AddressInfo) => {
          const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
          this.url = `http://${host}:${info.port}`;
          resolve();
        },
      );
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(listenError(err, this.opts.port, this.opts.bind)),
      );
      this.server = server;
    });
  }

  private closeServer(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      (this.server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  }

  /** Settles at the next wake-up (something may have changed) or after `ms`. */
  private changed(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.workWaiters.push(done);
    });
  }

  /** Ends a task's run for a person, by its mode; null when the task has no run here to end. */
  private async stopTask(
    taskId: number,
    by: string,
    intent: StopIntent,
  ): Promise<EndResult | null> {
    const task = await this.opts.store.getTask(taskId);
    if (task.current_run_id === null) return null;
    const run = await this.opts.store.getRun(task.current_run_id);
    if (run.state === 'ended') return null;
    return this.modes[run.mode].stop(run, by, intent);
  }

  /**
   * Looks for dispatchable work now (a task became ready, a slot freed); `pull-ended` when a pull
   * worker's run ended, which can start nothing here while no spawned profile exists.
   */
  wake(cause: Exclude<PassCause, 'tick'> = 'change'): void {
    // Whatever changed may have ended a run or edited a profile: the proxy reads them again.
    this.proxy.invalidate();
    // Long-polling pull workers and event streams look again too.
    this.lookAgain();
    if (this.stopping || this.opts.dispatch === false) return;
    void this.dispatcher
      .pass(cause)
      .catch((err: unknown) => this.opts.log?.(`dispatch: ${String(err)}`));
  }

  /** Pull long-polls look for work again, one after another (claim-waiters.ts); streams too. */
  private lookAgain(): void {
    this.claimWaiters.changed();
    for (const w of this.workWaiters.splice(0)) w();
  }

  private async tick(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.supervisor.tick();
      await this.pull.tick();
      // A stop that began meanwhile (its wait for the runs outlasts a tick's) starts nothing.
      if (this.stopping) return;
      // Work whose delay just ran out has no event of its own: long-polls look again.
      this.lookAgain();
      // Transient blocks whose cooldown passed go back in line before the pass that may start them.
      const released = await this.opts.store.releaseTransientBlocks({
        host: this.hostId,
        config: this.opts.config.policy,
      });
      if (released > 0) this.wake();
      // Due schedules make their tasks before the pass that may start them (issue #14).
      if ((await fireSchedules(this.opts.store, this.hostId, this.opts.log)) > 0) this.wake();
      if (this.opts.dispatch !== false) await this.dispatcher.pass('tick');
      // Behind the tick, not in it: a pass over many folders must not hold up supervision.
      void this.gc?.tick();
      void this.sweepWorktrees();
      if (this.tickFailing === 'storage') {
        // A full or read-only disk still lets reads through: a tick that wrote nothing new
        // says nothing of whether there is room again.
        this.opts.log?.(
          'tick: ran through again; the storage error above may come back at the next write (is there room again? `df -h`)',
        );
      } else if (this.tickFailing !== null) this.opts.log?.('tick: the store answers again');
      this.tickFailing = null;
    } catch (err) {
      // Said once per outage, not five times a second.
      if (this.tickFailing === null)
        this.opts.log?.(`tick: ${(err as Error).stack ?? String(err)}`);
      this.tickFailing = err instanceof WardenError && err.code === 'storage' ? 'storage' : 'store';
      // A store that went away: no pull lease lapses for the time it did not answer.
      this.pull.grace.storeFailed(err);
    }
  }

  private sweptAt = 0;
  private sweeping = false;
  /** Archived tasks whose worktree the sweep could not remove, with what it said (once). */
  private readonly unremoved = new Map<number, string>();

  /**
   * Removes the worktrees of this host's archived tasks (archived from the dashboard, the API or
   * another host; `warden archive` on this host removes them at once): every 10 s at most,
   * never two at a time, behind the tick.
   */
  private async sweepWorktrees(): Promise<void> {
    const now = this.opts.clock.monotonic();
    if (this.sweeping || now - this.sweptAt < WORKTREE_SWEEP_MS) return;
    this.sweeping = true;
    this.sweptAt = now;
    try {
      await sweepArchivedWorktrees(
        this.opts.store,
        this.hostId,
        dispatcherActor(this.hostId),
        (line) => this.opts.log?.(line),
        this.unremoved,
      );
    } catch (err) {
      this.opts.log?.(`worktrees: ${String(err)}`);
    } finally {
      this.sweeping = false;
    }
  }

  /** One gc pass of `serve --gc-every`, said in the log. */
  private async collect(olderThanMs: number): Promise<void> {
    try {
      const report = await collectGarbage({
        store: this.opts.store,
        home: this.opts.home,
        clock: this.opts.clock,
        olderThanMs,
        dryRun: false,
        actor: dispatcherActor(this.hostId),
      });
      // A pass that found nothing says nothing: it runs every --gc-every.
      const removed = report.events + report.runs.length + report.workspaces.length > 0;
      if (removed) this.opts.log?.(`gc: ${gcSummary(report, (ms) => new Date(ms).toISOString())}`);
    } catch (err) {
      this.opts.log?.(`gc: ${(err as Error).stack ?? String(err)}`);
    }
  }

  /**
   * Stops the loop and the API, writes the last progress and gives up the home. Workers are
   * left running. Idempotent: a second call (SIGINT after SIGTERM) waits for the first, so the
   * store is not closed under it.
   */
  stop(): Promise<void> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.pull.grace.stop();
    // Several hosts: the lease is left to run out (not released), so a `serve` restarting
    // within the TTL takes it over and keeps its workers; otherwise they are frozen and reaped.
    this.lease?.stop();
    this.unwatch?.();
    // Every step is taken even if one before it fails (the store away at shutdown): a failed
    // flush skipped closing the API and the proxy, and ended serve on an unhandled rejection.
    const step = async (what: string, fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        this.opts.log?.(`stop: ${what}: ${String(err)}`);
      }
    };
    // Worktrees being made stop (their git killed) and their runs go back in line.
    await step('the starts', () => this.dispatcher.stop());
    await step('notifications', () => this.notifier.stop());
    this.claimWaiters.releaseAll();
    for (const w of this.workWaiters.splice(0)) w();
    await step('the runs', () => this.supervisor.idle());
    await step('the last progress', () => this.supervisor.flush());
    this.supervisor.close();
    await step("the pull runs' last progress", () => this.pull.flush());
    await step('the API', () => this.closeServer());
    this.proxy.close();
    if (!this.lease) await step('the home', () => releaseHome(this.opts.store, this.hostId));
    // Several hosts: serve.json stays, its process gone: the home knows its host is down
    // while that host's lease runs out (a record removed had doctor and the CLI take the
    // host, still renewing on paper, for a live serve).
    await step('the host_stopped event', () =>
      this.opts.store.writeEvent(dispatcherActor(this.hostId), {
        kind: 'host_stopped',
        payload: { host: this.hostId, pid: process.pid, runs_left_running: this.supervisor.size },
      }),
    );
  }
}
