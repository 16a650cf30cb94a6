import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Histogram, Registry } from 'prom-client';

/** Buckets of the dispatch and detection latencies, in seconds (SPEC §8's targets fall inside). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30, 60];

/** Buckets of a store operation, in seconds. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * What this `serve` process measures of itself for `/metrics` (docs/operations.md): the
 * figures only this host can see, counted in memory since it started. Board figures, the
 * same on every host, are read from the store at each scrape instead (src/api/metrics.ts).
 */
export class HostInstruments {
  /** Where the measurements live; `/metrics` merges it with the store's figures. */
  readonly registry = new Registry();
  private readonly dispatchLatency = new Histogram({
    name: 'warden_dispatch_latency_seconds',
    help: "From a task being ready (its last change, or its delay running out) to its worker process started, by this host's dispatcher.",
    labelNames: ['profile'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly detectionLatency = new Histogram({
    name: 'warden_detection_latency_seconds',
    help: "From a worker's exit (its shim's exit record) to its run ended, on this host.",
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly stallWarnings = new Counter({
    name: 'warden_stall_warnings_total',
    help: 'Stall warnings this host wrote (a run alive but silent past stall_warn_after).',
    registers: [this.registry],
  });
  private readonly storeTime = new Histogram({
    name: 'warden_store_operation_seconds',
    help: "Time of this host's store operations (one transaction each, waiting for the lock included), by operation.",
    labelNames: ['operation'],
    buckets: STORE_BUCKETS,
    registers: [this.registry],
  });

  /**
   * A worker this host's dispatcher started: `readyAt` and `claimedAt` on the store's clock,
   * `spawnMs` measured here from the claim to the process running.
   */
  dispatched(profile: string, readyAt: number, claimedAt: number, spawnMs: number): void {
    const ms = Math.max(0, claimedAt - readyAt) + Math.max(0, spawnMs);
    this.dispatchLatency.observe({ profile }, ms / 1000);
  }

  /**
   * A spawned run this host closed. When its worker had exited by itself or been killed, the
   * shim's exit record in `runDir` says when; a run whose exit was never recorded (its record
   * lost, a host lost) is not measured.
   */
  ended(runDir: string, outcome: string, nowMs: number = Date.now()): void {
    let exitedAt: number;
    try {
      exitedAt = statSync(join(runDir, 'exit')).mtimeMs;
    } catch {
      return;
    }
    this.detectionLatency.observe({ outcome }, Math.max(0, nowMs - exitedAt) / 1000);
  }

  /** This host wrote a stall warning. */
  stallWarned(): void {
    this.stallWarnings.inc();
  }

  /** A store operation took `ms`. */
  storeOperation(operation: string, ms: number): void {
    this.storeTime.observe({ operation }, ms / 1000);
  }
}
