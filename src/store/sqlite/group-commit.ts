import { setImmediate as nextTurn } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { asError } from '../../core/errors.js';
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

/**
 * Tells the callers of a group (or of a read) what came of their work, once it may be told;
 * given a `failure`, the sync that had to come first failed and that is what they are told.
 */
type Answer = (failure?: Error) => void;

/** Why a group's transaction ended without its COMMIT: the last member's error, if it threw. */
function failure(outcomes: readonly Outcome[]): unknown {
  const last = outcomes.at(-1);
  return last && !last.ok ? last.err : new Error('SQLite rolled the transaction back');
}

function answer(job: Job, value: unknown): Answer {
  return (failed) => (failed === undefined ? job.resolve(value) : job.reject(failed));
}

function refuse(jobs: readonly Job[], err: unknown): Answer {
  return (failed) => {
    for (const j of jobs) j.reject(failed ?? err);
  };
}

/** Puts every commit so far on disk: on the spot, or off the event loop. */
export interface Durable {
  now(): void;
  later(): Promise<void>;
}

/**
 * While syncs off the event loop see no other work arrive, a sync is made on the spot; every
 * this many commits one goes off the loop again, to see whether work arrives now.
 */
const PROBE_EVERY = 16;

/** The one savepoint a member runs in; members never nest, so one name serves. */
const MEMBER = 'warden_member';

/**
 * Group commit on the one SQLite connection of a process. Work runs one piece at a time in
 * the order it was asked for. A write opens a group: `BEGIN IMMEDIATE`, then it and every
 * piece of work queued behind it (writes and reads, up to `limits`, and those that arrive
 * within one more turn of the event loop) each run to completion inside a SAVEPOINT of that
 * one transaction, and the group ends with one `COMMIT`, so one sync makes all of them
 * durable. Given `durable`, that sync follows the COMMIT (wal-sync.ts): off the event loop
 * while other work arrives during such syncs, the next group running meanwhile; on the spot
 * while none does (`syncOnTheSpot`). Without it the COMMIT itself syncs
 * (`synchronous=FULL`). No member is answered before its group is on disk: acknowledged
 * means on disk, and a read is not answered before everything committed when it ran is
 * (it may have seen it). A member that throws is rolled back to its savepoint and its
 * neighbours' writes stay; a failed COMMIT (or SQLite rolling the whole transaction back)
 * fails every member; a failed sync fails everyone waiting for it and every write after.
 */
export class GroupCommit {
  private readonly jobs: Job[] = [];
  private pumping: Promise<void> | null = null;
  /** A job has been taken from the queue and not yet answered. */
  private busy = false;
  /** Groups committed, and how many of them are known to be on disk. */
  private committed = 0;
  private synced = 0;
  /** Answers held until the groups committed before them are on disk, in commit order. */
  private readonly unsynced: { upTo: number; answer: Answer }[] = [];
  private syncing: Promise<void> | null = null;
  /** A sync failed: what is written since may not be on disk, so nothing more is taken. */
  private broken: { err: Error } | null = null;
  /** Whether the next sync goes off the event loop: work arrived during the last one that did. */
  private offLoop = true;
  /** Work asked for while a sync off the loop ran. */
  private arrived = false;
  /** Commits synced on the spot since the last sync off the loop. */
  private onTheSpot = 0;

  constructor(
    private readonly db: Sqlite,
    private readonly statements: SqlDb,
    private readonly limits: GroupLimits,
    /** Takes the write lock, retrying while another process holds it. */
    private readonly beginImmediate: () => Promise<void>,
    /** Puts every commit so far on disk; null when each COMMIT does (`synchronous=FULL`). */
    private readonly durable: Durable | null = null,
  ) {}

  /** Queues `body`; resolves with its result once it is committed (or, alone, has run). */
  submit<T>(write: boolean, bare: boolean, body: (db: SqlDb) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.broken) return reject(this.broken.err);
      if (this.syncing) this.arrived = true;
      this.jobs.push({ write, bare, body, resolve: resolve as (value: unknown) => void, reject });
      this.pumping ??= this.pump();
    });
  }

  /** Whether nothing is running or waiting, so the connection may close at once. */
  get idle(): boolean {
    return !this.busy && this.jobs.length === 0 && this.unsynced.length === 0;
  }

  /** Resolves when everything queued so far has run and been answered. */
  async drained(): Promise<void> {
    while (this.pumping || this.syncing) await (this.pumping ?? this.syncing);
  }

  /**
   * Resolves once everything committed so far is on disk (at once when it is): for a read made
   * elsewhere (the read-only connections), which may have seen it, before it is answered.
   */
  durableSoFar(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.whenSynced((failed) => (failed === undefined ? resolve() : reject(failed)));
    });
  }

  private async pump(): Promise<void> {
    try {
      for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
        if (this.broken) {
          job.reject(this.broken.err);
          continue;
        }
        this.busy = true;
        const answer = job.write ? await this.group(job) : await this.alone(job);
        this.busy = false;
        // The next group runs while this one's sync does; its answer waits for the sync.
        this.whenSynced(answer);
      }
    } finally {
      // In the same step as the empty queue was seen, so a job queued next starts a new pump.
      this.pumping = null;
    }
  }

  /** Gives `answer` once every group committed until now is on disk. */
  private whenSynced(answer: Answer): void {
    if (this.broken) return answer(this.broken.err);
    if (!this.durable || this.synced >= this.committed) return answer();
    if (this.syncing) this.arrived = true;
    this.unsynced.push({ upTo: this.committed, answer });
    this.syncing ??= this.syncAll(this.durable);
  }

  /**
   * Right after a COMMIT: syncs on the spot when the last sync off the event loop saw no other
   * work arrive (one client at a time: the thread pool's hand-off only adds to each answer's
   * wait), so whenSynced answers at once. Otherwise leaves the sync to `syncAll`, off the
   * loop, so requests are read and the next group runs meanwhile.
   */
  private syncOnTheSpot(): void {
    if (!this.durable || this.offLoop || this.syncing) return;
    if (++this.onTheSpot >= PROBE_EVERY) {
      this.onTheSpot = 0;
      this.offLoop = true;
      return;
    }
    try {
      this.durable.now();
    } catch (err) {
      this.broken = { err: asError(err) };
      throw err;
    }
    this.synced = this.committed;
  }

  /**
   * Syncs until no answer waits: each sync covers every commit made before it started, so
   * commits that come while one runs share the next.
   */
  private async syncAll(durable: Durable): Promise<void> {
    try {
      while (this.unsynced.length > 0 && !this.broken) {
        const upTo = this.committed;
        this.arrived = false;
        try {
          await durable.later();
        } catch (err) {
          this.broken = { err: asError(err) };
          break;
        }
        this.synced = upTo;
        this.offLoop = this.arrived;
        while (this.unsynced[0] && this.unsynced[0].upTo <= upTo) this.unsynced.shift()?.answer();
      }
      const failed = this.broken?.err;
      for (const waiting of this.unsynced.splice(0)) waiting.answer(failed);
    } finally {
      this.syncing = null;
    }
  }

  /** A read with no group open: a deferred snapshot (or a bare statement), as before. */
  private async alone(job: Job): Promise<Answer> {
    try {
      if (job.bare) return answer(job, await job.body(this.statements));
      return answer(job, await snapshot(this.db, this.statements, job.body));
    } catch (err) {
      return refuse([job], err);
    }
  }

  /** Runs a group that `first` opens; returns how to answer its members once it has ended. */
  private async group(first: Job): Promise<Answer> {
    try {
      await this.beginImmediate();
    } catch (err) {
      return refuse([first], err);
    }
    const began = performance.now();
    const outcomes: Outcome[] = [];
    let job: Job | undefined = first;
    try {
      for (;;) {
        for (; job; job = await this.nextMember(outcomes, began)) {
          outcomes.push(await this.member(job));
          job = undefined;
          // SQLite gave up the whole transaction (a full disk, an I/O error): nothing of the
          // group is stored, so no member may be told otherwise.
          if (!this.db.inTransaction) throw failure(outcomes);
        }
        // One group runs ahead of the disk, no further: it takes members while the group
        // before it is synced, and commits once that is done, with those that came meanwhile.
        if (!(await this.afterPriorSync())) break;
        job = this.full(outcomes, began) ? undefined : this.jobs.shift();
        if (!job) break;
      }
      this.db.exec('COMMIT');
      this.committed++;
      this.syncOnTheSpot();
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      return refuse(job ? [job, ...outcomes.map((o) => o.job)] : outcomes.map((o) => o.job), err);
    }
    return (failed) => {
      for (const o of outcomes) {
        if (failed !== undefined) o.job.reject(failed);
        else if (o.ok) o.job.resolve(o.value);
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
    if (this.full(outcomes, began)) return undefined;
    if (this.jobs.length === 0) {
      await nextTurn();
      if (this.full(outcomes, began)) return undefined;
    }
    return this.jobs.shift();
  }

  /** Whether a group has all the members, or all the time, it may take. */
  private full(outcomes: readonly Outcome[], began: number): boolean {
    return (
      outcomes.length >= this.limits.maxMembers || performance.now() - began >= this.limits.maxMs
    );
  }

  /**
   * Waits until every group committed before is on disk, then one turn of the event loop (the
   * answers that sync released go out first, and requests read meanwhile may join); false at
   * once when nothing was waiting. A failed sync fails the group.
   */
  private async afterPriorSync(): Promise<boolean> {
    if (!this.durable || this.synced >= this.committed) return false;
    await this.durableSoFar();
    await nextTurn();
    return true;
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
