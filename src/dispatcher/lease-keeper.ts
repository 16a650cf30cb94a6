import { hashToken } from '../os/token.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { HostLeaseView, hostLeaseTimes } from '../core/host-lease.js';
import type { PolicyOverrides } from '../core/policy.js';
import type { Store } from '../store/store.js';
import { deadlinesAt } from '../supervisor/freeze.js';
import type { FreezeDeadlines } from '../supervisor/freeze.js';
import type { Supervisor } from '../supervisor/supervisor.js';

/** What keeping a host lease needs. */
export interface LeaseKeeperOptions {
  store: Store;
  hostId: string;
  /** The home's host secret; only its hash is stored. */
  secret: string;
  ttlMs: number;
  clock: Clock;
  config: PolicyOverrides;
  supervisor: Supervisor;
  log?: (line: string) => void;
  /** Called when another host's runs were ended here and their tasks are ready again. */
  onReaped?: () => void;
}

/**
 * Keeps one host's lease when several hosts share a PostgreSQL (SPEC §3 "Several hosts"):
 * renews it every TTL/6, moves its workers' freeze deadlines forward after each renewal while
 * their runs are still its own, and ends the runs of hosts whose lease lapsed — but only once
 * its own renewals have gone a full TTL without a gap.
 */
export class LeaseKeeper {
  readonly view: HostLeaseView;
  private readonly secretHash: string;
  private timer: NodeJS.Timeout | null = null;
  private reapTimer: NodeJS.Timeout | null = null;
  private reapFailing = false;
  private renewing: Promise<void> | null = null;
  private reaping = false;
  private failing = false;
  private checkOwed = false;
  private gaps = 0;

  constructor(private readonly opts: LeaseKeeperOptions) {
    this.view = new HostLeaseView(hostLeaseTimes(opts.ttlMs));
    this.secretHash = hashToken(opts.secret);
  }

  /** The deadlines workers get now: freeze when the lease may lapse, kill TTL + 60 s later. */
  deadlines(): FreezeDeadlines {
    const { clock } = this.opts;
    const freezeAt = this.view.freezeAt() ?? clock.monotonic();
    return deadlinesAt(freezeAt, freezeAt + this.view.times.killAfterFrozenMs, () =>
      clock.monotonic(),
    );
  }

  /**
   * Counts the gaps in this host's lease: a run claimed in an earlier epoch may have been
   * reaped and started elsewhere since, so it is not started here.
   */
  get epoch(): number {
    return this.gaps;
  }

  /**
   * Every gap starts a new epoch, even while an earlier check is still owed: a run claimed
   * while that check was under way may have been reaped during this gap too.
   */
  private owe(): void {
    this.gaps++;
    this.checkOwed = true;
  }

  /**
   * The machine was suspended: the monotonic clock did not count it, so the lease's own view
   * cannot be trusted. It is good again only after a renewal, which is a gap.
   */
  resumed(): void {
    this.view.forget();
    this.owe();
  }

  /** Whether the lease is good now: work may start. */
  valid(): boolean {
    return this.view.valid(this.opts.clock.monotonic());
  }

  /**
   * Takes the lease for this host id (refusing, `conflict`, one held by another live host) and
   * then renews it on a timer.
   */
  async start(): Promise<void> {
    await this.renewOnce();
    this.timer = setInterval(() => void this.renew(), this.view.times.renewEveryMs);
    // Reaping has a timer of its own, not the serve's tick: a tick waits behind the
    // supervisor's and pull workers' writes and stops at their first failure, and under load
    // that held a lapsed host's runs for seconds past its TTL (issue #11).
    this.reapTimer = setInterval(() => void this.reapSoon(), this.view.times.reapEveryMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.reapTimer) clearInterval(this.reapTimer);
    this.timer = null;
    this.reapTimer = null;
  }

  /** One look for lapsed hosts; a failure is logged once and the next look comes on time. */
  private async reapSoon(): Promise<void> {
    try {
      await this.reapLapsed();
      if (this.reapFailing) this.opts.log?.('host reaping: the store answers again');
      this.reapFailing = false;
    } catch (err) {
      if (!this.reapFailing) this.opts.log?.(`host reaping: ${String(err)}`);
      this.reapFailing = true;
    }
  }

  /** One renewal, never two at once; failures are logged and the next try comes on time. */
  renew(): Promise<void> {
    this.renewing ??= this.renewOnce()
      .then(() => {
        if (this.failing) this.opts.log?.('host lease: renewed again');
        this.failing = false;
      })
      .catch((err: unknown) => {
        if (!this.failing) this.opts.log?.(`host lease: renewal failed: ${String(err)}`);
        this.failing = true;
      })
      .finally(() => (this.renewing = null));
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    const { store, supervisor } = this.opts;
    const sentAt = this.opts.clock.monotonic();
    const answer = await store.renewHostLease(this.opts.hostId, this.secretHash, this.opts.ttlMs);
    const gap = this.view.renewed(sentAt);
    if (answer.lapsed)
      this.opts.log?.('host lease: it had lapsed; checking which runs are still ours');
    // Before anything is thawed: whatever was ended elsewhere meanwhile is killed, frozen.
    // The check is owed until it succeeds: a later renewal without a gap must not thaw
    // workers that a failed check never looked at.
    if (gap || answer.lapsed) this.owe();
    if (this.checkOwed) {
      await supervisor.dropLost();
      this.checkOwed = false;
    }
    supervisor.refreshLiveness();
  }

  /** Ends the runs of hosts whose lease lapsed, if this host has been steady for a TTL. */
  async reapLapsed(): Promise<void> {
    const { store, hostId } = this.opts;
    if (this.reaping || !this.view.mayReap(this.opts.clock.monotonic())) return;
    this.reaping = true;
    try {
      for (const lapsed of await store.lapsedHosts()) {
        if (lapsed.host_id === hostId) continue;
        const reaped = await store.reapHost(lapsed.host_id, hostId, { config: this.opts.config });
        if (!reaped) continue;
        const silent = Date.now() - reaped.host.renewed_at;
        this.opts.log?.(
          `host ${lapsed.host_id} stopped renewing its lease ${formatDuration(Math.max(0, silent))} ago; ended its runs ${reaped.runs.map((r) => r.run_id).join(', ') || '(none)'} as host_lost`,
        );
        if (reaped.runs.length > 0) this.opts.onReaped?.();
      }
    } finally {
      this.reaping = false;
    }
  }
}
