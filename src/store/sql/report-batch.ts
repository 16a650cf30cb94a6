import type { Random } from '../../core/backoff.js';
import { STORE_DEFAULTS } from '../../core/defaults.js';
import type { TerminalAnswer, TerminalCall } from '../../core/worker-protocol.js';
import type { PolicyContext } from '../run-types.js';
import { Batcher } from './batcher.js';
import type { SqlDb, TxOptions } from './driver.js';
import { EventBatch } from './event-batch.js';
import { report, runsOfTokens } from './worker.js';
import type { Refused } from './worker.js';

/** The store's write transaction, with the time it happens at. */
type Write = <T>(fn: (db: SqlDb, now: number) => Promise<T>, options?: TxOptions) => Promise<T>;

/** A worker's terminal call, as `SqlStore.workerTerminal` takes it. */
export interface ReportCall {
  tokenHash: string;
  call: TerminalCall;
  close?: (PolicyContext & { host: string; random: Random }) | undefined;
}

/** What a report came to: its answer, or the fence's refusal. */
export type Reported = { ok: true; value: TerminalAnswer } | Refused;

/** How one report of a batch ended: as it came to, or with the error it threw. */
type Settled = { ok: true; value: Reported } | { ok: false; err: unknown };

/**
 * Several reports in one transaction, each as `report` makes it alone, in order. PostgreSQL
 * reads their runs in one statement first (`runsOfTokens`), and the runs they close are
 * written with their tasks in one statement (`EventBatch.holdRelease`): a group of reports
 * costs about as many statements as one. A report's own read is used only while no statement
 * but held writes has been sent since it was made; after that, and when the runs could not be
 * read together, each report reads its own, as alone.
 */
export async function reportMany(
  db: SqlDb,
  now: number,
  calls: readonly ReportCall[],
): Promise<Reported[]> {
  const hashes = calls.map((c) => c.tokenHash);
  const batch = db instanceof EventBatch ? db : null;
  // A report alone reads its run by its token, through the unique index: no array to unpack.
  const together =
    calls.length > 1 &&
    db.dialect === 'postgres' &&
    batch !== null &&
    new Set(hashes).size === calls.length;
  const reads = together ? await runsOfTokens(db, hashes) : undefined;
  const readAt = batch?.statements;
  const out: Reported[] = [];
  for (const c of calls) {
    const fresh = reads !== undefined && batch?.statements === readAt;
    const known = fresh ? (reads.get(c.tokenHash) ?? null) : undefined;
    out.push(await report(db, now, c.tokenHash, c.call, c.close, known));
  }
  return out;
}

/**
 * Workers' reports on PostgreSQL, those that arrive together written together (issue #16): a
 * pull claim carrying the results of a worker's slots, or reports of several workers while a
 * transaction is under way. Reports asked for in one turn of the event loop wait for it to
 * end and go in one batch (`reportMany`); those that arrive while a batch is written go in
 * the next. A batch in which a report throws (a conflict, input it refuses) is rolled back and
 * each of its reports made again alone, so that one answers with its own error and the
 * others are not lost with it.
 */
export class ReportBatches {
  private readonly batches: Batcher<ReportCall, Settled>;

  constructor(private readonly write: Write) {
    this.batches = new Batcher((calls) => this.serve(calls), STORE_DEFAULTS.report_batch_max, true);
  }

  async report(call: ReportCall): Promise<Reported> {
    const settled = await this.batches.submit(call);
    if (!settled.ok) throw settled.err;
    return settled.value;
  }

  private async serve(calls: ReportCall[]): Promise<Settled[]> {
    try {
      const values = await this.write((db, now) => reportMany(db, now, calls));
      return values.map((value) => ({ ok: true, value }));
    } catch (err) {
      if (calls.length === 1) return [{ ok: false, err }];
      const alone: Settled[] = [];
      for (const c of calls) alone.push(...(await this.serve([c])));
      return alone;
    }
  }
}
