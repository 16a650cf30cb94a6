import { setImmediate as nextTurn } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { SqlDb } from '../sql/driver.js';
import type { Sqlite } from './connect.js';
import { snapshot } from './snapshot-reads.js';

/** How long a group may hold the write lock, and how many members it takes at most. */
export interface GroupLimits {
  /** Members of one group; the rest wait for the next. */
  maxMembers: number;
  /** Milliseconds from a group's BEGIN after which no member joins it. */
  maxMs: number;
}

/** One queued piece of work on the connection. */
interface Job {
  /** Needs the write lock (`BEGIN IMMEDIATE`); otherwise it only reads. */
  write: boolean;
  /** A lone read outside any transaction runs without one (a single statement). */
  bare: boolean;
  body: (db: SqlDb) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** What a member of a group came to; said to its caller once the group has committed. */
type Outcome = { job: Job; ok: true; value: unknown } | { job: Job; ok: false; err: unknown };

/** Why a group's transaction ended without its COMMIT: the last member's error, if it threw. */
function failure(outcomes: readonly Outcome[]): unknown {
  const last = outcomes.at(-1);
  return last && !last.ok ? last.err : new Error('SQLite rolled the transaction back');
}

function answer(job: Job, value: unknown): () => void {
  return () => job.resolve(value);
}

/** The one savepoint a member runs in; members never nest, so one name serves. */
const MEMBER = 'warden_member';

/**
 * Group commit on the one SQLite connection of a process. Work runs one piece at a time in
 * the order it was asked for. A write opens a group: `BEGIN IMMEDIATE`, then it and every
 * piece of work queued behind it (writes and reads, up to `limits`, and those that arrive
 * within one more turn of the event loop) each run to completion inside a SAVEPOINT of that
 * one transaction, and the group ends with one `COMMIT`, so one fsync
 * (`synchronous=FULL`) makes all of them durable. No member is answered before the COMMIT
 * has returned: acknowledged still means on disk, and a read never hands out a write that
 * is not. A member that throws is rolled back to its savepoint and its neighbours' writes
 * stay; a failed COMMIT (or SQLite rolling the whole transaction back) fails every member.
 */
export class GroupCommit {
  private readonly jobs: Job[] = [];
  private pumping: Promise<void> | null = null;
  /** A job has been taken from the queue and not yet answered. */
  private busy = false;

  constructor(
    private readonly db: Sqlite,
    private readonly statements: SqlDb,
    private readonly limits: GroupLimits,
    /** Takes the write lock, retrying while another process holds it. */
    private readonly beginImmediate: () => Promise<void>,
  ) {}

  /** Queues `body`; resolves with its result once it is committed (or, alone, has run). */
  submit<T>(write: boolean, bare: boolean, body: (db: SqlDb) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ write, bare, body, resolve: resolve as (value: unknown) => void, reject });
      this.pumping ??= this.pump();
    });
  }

  /** Whether nothing is running or waiting, so the connection may close at once. */
  get idle(): boolean {
    return !this.busy && this.jobs.length === 0;
  }

  /** Resolves when everything queued so far has run and been answered. */
  async drained(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    try {
      for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
        this.busy = true;
        const answer = job.write ? await this.group(job) : await this.alone(job);
        this.busy = false;
        answer();
      }
    } finally {
      // In the same step as the empty queue was seen, so a job queued next starts a new pump.
      this.pumping = null;
    }
  }

  /** A read with no group open: a deferred snapshot (or a bare statement), as before. */
  private async alone(job: Job): Promise<() => void> {
    try {
      if (job.bare) return answer(job, await job.body(this.statements));
      return answer(job, await snapshot(this.db, this.statements, job.body));
    } catch (err) {
      return () => job.reject(err);
    }
  }

  /** Runs a group that `first` opens; returns how to answer its members once it has ended. */
  private async group(first: Job): Promise<() => void> {
    try {
      await this.beginImmediate();
    } catch (err) {
      return () => first.reject(err);
    }
    const began = performance.now();
    const outcomes: Outcome[] = [];
    let job: Job | undefined = first;
    try {
      for (; job; job = await this.nextMember(outcomes, began)) {
        outcomes.push(await this.member(job));
        job = undefined;
        // SQLite gave up the whole transaction (a full disk, an I/O error): nothing of the
        // group is stored, so no member may be told otherwise.
        if (!this.db.inTransaction) throw failure(outcomes);
      }
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      const failed = job ? [job, ...outcomes.map((o) => o.job)] : outcomes.map((o) => o.job);
      return () => {
        for (const j of failed) j.reject(err);
      };
    }
    return () => {
      for (const o of outcomes) {
        if (o.ok) o.job.resolve(o.value);
        else o.job.reject(o.err);
      }
    };
  }

  /**
   * The next piece of work to run in the open group, or undefined to commit it now. When the
   * queue is empty the group waits one turn of the event loop, so requests that have arrived
   * meanwhile (parsed in that turn) join it instead of each paying an fsync of their own.
   */
  private async nextMember(outcomes: readonly Outcome[], began: number): Promise<Job | undefined> {
    const full = () =>
      outcomes.length >= this.limits.maxMembers || performance.now() - began >= this.limits.maxMs;
    if (full()) return undefined;
    if (this.jobs.length === 0) {
      await nextTurn();
      if (full()) return undefined;
    }
    return this.jobs.shift();
  }

  /** Runs one member inside its savepoint; a member that throws is undone alone. */
  private async member(job: Job): Promise<Outcome> {
    this.db.exec(`SAVEPOINT ${MEMBER}`);
    try {
      const value = await job.body(this.statements);
      this.db.exec(`RELEASE ${MEMBER}`);
      return { job, ok: true, value };
    } catch (err) {
      // The savepoint is gone only when SQLite has rolled back everything, which the group sees.
      if (this.db.inTransaction) this.db.exec(`ROLLBACK TO ${MEMBER}; RELEASE ${MEMBER}`);
      return { job, ok: false, err };
    }
  }
}
