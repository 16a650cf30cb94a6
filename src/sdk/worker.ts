import { hostname } from 'node:os';
import { ErrorCode, WardenError } from '../core/errors.js';
import type { Json } from '../core/events.js';
import type { BlockKind } from '../core/status.js';
import type { NewTask, Task } from '../core/task.js';
import type {
  Cancellation,
  ClaimAnswer,
  TerminalAnswer,
  WorkerContext,
} from '../core/worker-protocol.js';
import { keyedCreate } from './call-key.js';
import { callApi } from './http.js';
import { CLIENT_DEFAULTS, PULL_DEFAULTS } from '../core/defaults.js';

/** What a handler returns: the task's result. Throwing fails the attempt instead. */
export interface JobResult {
  /** What was done, for people and for child tasks. */
  summary: string;
  metadata?: Json;
  /** Hand the result to a person for review instead of finishing the task. */
  review?: boolean;
}

/** One claimed run, as a handler sees it. */
export interface Job {
  /** The task, its parents' results, previous attempts and recent comments. */
  context: WorkerContext;
  task: Task;
  runId: number;
  attempt: number;
  /**
   * Fires when the run is cancelled (a person stopped it, it stalled) or when the worker's
   * lease was lost; the handler should stop soon. Its reason says which.
   */
  signal: AbortSignal;
  /** Reports progress: resets the stall clock. */
  progress(note?: string): Promise<void>;
  /** Proves liveness only; does not count as progress. */
  heartbeat(note?: string): Promise<void>;
  comment(text: string): Promise<void>;
  /** Creates a child task on the same board (`after_me`: it waits for this task). */
  createTask(input: NewTask & { after_me?: boolean }): Promise<Task>;
  /** Blocks the task for a person; the handler should return right after. */
  block(reason: string, kind?: BlockKind): Promise<void>;
  /**
   * Asks a person a question: the task waits blocked until `warden answer`, and the next
   * attempt's context starts with the question and its answer. Return right after.
   */
  ask(question: string): Promise<void>;
}

/** Options of `createWorker`. */
export interface WorkerOptions {
  /** The API of a `warden serve`, e.g. `http://127.0.0.1:7420`. */
  url: string;
  /** A worker token (`warden token create NAME --profile P`). */
  token: string;
  /** The profiles to serve; default: every profile the token may serve. */
  profiles?: string[];
  /** Runs handled at once. @default 1 */
  concurrency?: number;
  /** Works one run; return its result, or throw to fail the attempt. */
  handler: (job: Job) => Promise<JobResult | void>;
  /** What this worker calls itself on the board. @default `hostname:pid` */
  name?: string;
  /** How long one claim waits for work on the server. @default 20000 */
  claimWaitMs?: number;
  /** Told about errors the worker recovers from (a lost lease, an unanswered call). */
  onError?: (err: Error) => void;
}

/** A running pull worker. */
export interface WardenWorker {
  /** Opens a lease and starts claiming; resolves once the lease is open. */
  start(): Promise<void>;
  /** Stops claiming, waits for running handlers, closes the lease. Idempotent. */
  stop(): Promise<void>;
  /** The current lease, once started. */
  readonly leaseId: string | null;
}

/**
 * A finished run's result on its way to `serve`. When no claim is under way as a handler
 * finishes (always so with one slot), the result rides the claim that its freed slot starts,
 * one request for both; otherwise it goes alone, to its own worker route.
 */
interface Report {
  runId: number;
  token: string;
  path: '/complete' | '/request-review' | '/fail';
  body: { summary: string; metadata?: Json } | { reason: string };
  controller: AbortController;
}

/** A report as the claim carries it. */
function carried(r: Report): Record<string, unknown> {
  const op = { '/complete': 'complete', '/request-review': 'request_review', '/fail': 'fail' };
  return { op: op[r.path], token: r.token, ...r.body };
}

interface LeaseAnswer {
  lease_id: string;
  renew_every_ms: number;
  cancel?: Cancellation[];
}

interface Active {
  runId: number;
  controller: AbortController;
  done: Promise<void>;
}

/** A reason an abort signal carries. */
export class JobCancelled extends Error {
  override readonly name = 'JobCancelled';
  constructor(
    readonly kind: 'cancelled' | 'lease_lost',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A pull worker (SPEC §4): one lease for all its runs, renewed on its own timer so a busy
 * handler never loses it; claims by long-polling; reports each handler's result; cancels a
 * handler (its `signal`) when the server says so or when the lease is lost.
 *
 * @example
 * const worker = createWorker({
 *   url: 'http://127.0.0.1:7420',
 *   token: process.env.WARDEN_WORKER_TOKEN!,
 *   concurrency: 4,
 *   handler: async (job) => {
 *     await job.progress('starting');
 *     return { summary: `handled ${job.task.title}` };
 *   },
 * });
 * await worker.start();
 */
export function createWorker(options: WorkerOptions): WardenWorker {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const active = new Map<number, Active>();
  const acks = new Set<number>();
  /** Reports waiting for the next claim, and reports on their way alone. */
  const waiting: Report[] = [];
  const sending = new Set<Promise<void>>();
  /** A claim request is under way. */
  let claiming = false;
  /**
   * A `serve` too old to know a claim's `claim_id` and `reports` refused one (400): from then
   * on claims are sent as it knows them, and results go alone.
   */
  let oldServe = false;
  let leaseId: string | null = null;
  let renewEvery: number = CLIENT_DEFAULTS.renew_every_ms;
  let renewTimer: NodeJS.Timeout | null = null;
  let running = false;
  let loop: Promise<void> | null = null;
  let wakeLoop: (() => void) | null = null;
  let stopping = new AbortController();
  const report = (err: unknown): void =>
    options.onError?.(err instanceof Error ? err : new Error(String(err)));

  const api = <T>(
    path: string,
    body: unknown,
    token = options.token,
    retryForMs: number = CLIENT_DEFAULTS.retry_for_ms,
    signal?: AbortSignal,
  ): Promise<T> => callApi<T>(options.url, token, 'POST', path, body, retryForMs, signal);

  async function openLease(): Promise<void> {
    const lease = await api<LeaseAnswer>('/api/v1/pull/leases', {
      name,
      ...(options.profiles ? { profiles: options.profiles } : {}),
    });
    leaseId = lease.lease_id;
    renewEvery = lease.renew_every_ms;
  }

  function abortAll(kind: JobCancelled['kind'], message: string): void {
    for (const a of active.values()) a.controller.abort(new JobCancelled(kind, message));
  }

  /**
   * Renews the lease; a call while one is under way waits for that one. The renewal timer and
   * a claim that heard `stale_run` both renew, and each, hearing the lease lost, opened a new
   * one: a trial's workers held two leases, one never renewed, which lapsed with its runs.
   */
  let renewing: Promise<void> | null = null;
  function renew(): Promise<void> {
    renewing ??= renewOnce().finally(() => {
      renewing = null;
    });
    return renewing;
  }

  async function renewOnce(): Promise<void> {
    if (leaseId === null) return;
    const sent = [...acks];
    try {
      const answer = await api<LeaseAnswer>(
        `/api/v1/pull/leases/${leaseId}/renew`,
        { acks: sent },
        options.token,
        renewEvery,
      );
      for (const id of sent) acks.delete(id);
      for (const c of answer.cancel ?? []) {
        const a = active.get(c.run_id);
        if (a)
          a.controller.abort(
            new JobCancelled('cancelled', `run ${c.run_id} ${c.outcome}: ${c.reason}`),
          );
        else acks.add(c.run_id);
      }
    } catch (err) {
      if (err instanceof WardenError && err.code === ErrorCode.stale_run) {
        // The lease lapsed (this process was paused, or the server could not be reached).
        abortAll('lease_lost', err.message);
        report(err);
        leaseId = null;
        if (running) await openLease().catch(report);
        return;
      }
      report(err);
    }
  }

  function jobFor(
    claim: ClaimAnswer['claims'][number],
    signal: AbortSignal,
    onBlocked: () => void,
  ): Job {
    // As long as a result's report (SPEC §3: a `serve` restart must not turn a live job into a
    // failure), and given up at once when the job is cancelled or its lease lost.
    const worker = <T>(path: string, body: unknown): Promise<T> =>
      api<T>(
        `/api/v1/worker${path}`,
        body,
        claim.token,
        CLIENT_DEFAULTS.report_retry_for_ms,
        signal,
      );
    return {
      context: claim.context,
      task: claim.context.task,
      runId: claim.run_id,
      attempt: claim.attempt,
      signal,
      progress: async (note) =>
        void (await worker('/progress', note === undefined ? {} : { note })),
      heartbeat: async (note) =>
        void (await worker('/heartbeat', note === undefined ? {} : { note })),
      comment: async (text) => void (await worker('/comment', { body: text })),
      createTask: (input) => worker<Task>('/create', keyedCreate(input)),
      block: async (reason, kind = 'needs_input') => {
        onBlocked();
        await worker('/block', { reason, kind });
      },
      ask: async (question) => {
        onBlocked();
        await worker('/ask', { question });
      },
    };
  }

  /** `serve` refused a report: a stale run is one the handler must let go of. */
  function refused(r: Report, err: unknown): void {
    if (err instanceof WardenError && err.code === ErrorCode.stale_run) {
      r.controller.abort(new JobCancelled('lease_lost', err.message));
      acks.add(r.runId);
    }
    report(err);
  }

  /** Sends a report on its own, retried until `serve` answers (a result must not be lost). */
  function sendAlone(r: Report): Promise<void> {
    const sent = api<TerminalAnswer>(
      `/api/v1/worker${r.path}`,
      r.body,
      r.token,
      CLIENT_DEFAULTS.report_retry_for_ms,
    ).then(
      () => undefined,
      (err: unknown) => refused(r, err),
    );
    sending.add(sent);
    return sent.finally(() => sending.delete(sent));
  }

  /** Hands a finished run's result on: to the next claim when it can ride one, else alone. */
  function finish(r: Report): Promise<void> {
    if (!oldServe && running && !claiming && leaseId !== null) {
      waiting.push(r);
      return Promise.resolve();
    }
    return sendAlone(r);
  }

  async function work(
    claim: ClaimAnswer['claims'][number],
    controller: AbortController,
  ): Promise<void> {
    let blocked = false;
    const job = jobFor(claim, controller.signal, () => (blocked = true));
    const reportOf = (path: Report['path'], body: Report['body']): Report => ({
      runId: claim.run_id,
      token: claim.token,
      path,
      body,
      controller,
    });
    try {
      const result = await options.handler(job);
      if (controller.signal.aborted) return;
      if (blocked) return;
      const r = result ?? { summary: '' };
      await finish(
        reportOf(r.review ? '/request-review' : '/complete', {
          summary: r.summary,
          ...(r.metadata !== undefined ? { metadata: r.metadata } : {}),
        }),
      );
    } catch (err) {
      if (controller.signal.aborted || blocked) return;
      await finish(
        reportOf('/fail', {
          reason: (err instanceof Error ? err.message : String(err)) || 'the handler failed',
        }),
      );
    } finally {
      if (controller.signal.aborted) acks.add(claim.run_id);
    }
  }

  async function claimLoop(): Promise<void> {
    while (running) {
      const free = concurrency - active.size;
      if (free <= 0 || leaseId === null) {
        // No claim to ride: whatever waits goes alone.
        for (const r of waiting.splice(0)) void sendAlone(r);
        await new Promise<void>((resolve) => {
          wakeLoop = resolve;
          setTimeout(resolve, 1000).unref();
        });
        continue;
      }
      const reports = waiting.splice(0);
      // One claim carries at most as many as serve takes; the rest go alone.
      for (const r of reports.splice(PULL_DEFAULTS.max_claim)) void sendAlone(r);
      let answer: ClaimAnswer;
      claiming = true;
      try {
        answer = await callApi<ClaimAnswer>(
          options.url,
          options.token,
          'POST',
          '/api/v1/pull/claim',
          {
            lease_id: leaseId,
            // The same on every retry of this call: a claim whose answer was lost is answered
            // again with the same runs, not new ones nobody would work on.
            ...(oldServe ? {} : { claim_id: crypto.randomUUID() }),
            max: Math.min(free, PULL_DEFAULTS.max_claim),
            wait_ms: options.claimWaitMs ?? CLIENT_DEFAULTS.claim_wait_ms,
            ...(reports.length > 0 ? { reports: reports.map(carried) } : {}),
          },
          CLIENT_DEFAULTS.claim_retry_for_ms,
          stopping.signal,
        );
      } catch (err) {
        // Whether or not `serve` took them, the reports go again alone: a repeated report
        // gets the answer the first one got.
        for (const r of reports) void sendAlone(r);
        if (!oldServe && err instanceof WardenError && err.code === ErrorCode.invalid)
          oldServe = true;
        if (!running) break;
        report(err);
        if (err instanceof WardenError && err.code === ErrorCode.stale_run) await renew();
        else await new Promise((r) => setTimeout(r, 1000));
        continue;
      } finally {
        claiming = false;
      }
      answer.reports?.forEach((outcome, i) => {
        const r = reports[i];
        if (!r || outcome.ok) return;
        // `again`: serve itself failed on it; alone, the report is retried until it answers.
        if (outcome.again) void sendAlone(r);
        else refused(r, new WardenError(outcome.error.code as ErrorCode, outcome.error.message));
      });
      for (const claim of answer.claims) {
        const controller = new AbortController();
        const done = work(claim, controller).finally(() => {
          active.delete(claim.run_id);
          wakeLoop?.();
        });
        active.set(claim.run_id, { runId: claim.run_id, controller, done });
      }
    }
  }

  return {
    get leaseId() {
      return leaseId;
    },
    async start() {
      if (running) return;
      running = true;
      stopping = new AbortController();
      await openLease();
      renewTimer = setInterval(() => void renew(), renewEvery);
      loop = claimLoop();
    },
    async stop() {
      if (!running) return;
      running = false;
      stopping.abort();
      wakeLoop?.();
      await Promise.all([...active.values()].map((a) => a.done));
      if (renewTimer) clearInterval(renewTimer);
      await loop?.catch(report);
      // Every result is in before the lease closes (closing ends what it still holds).
      for (const r of waiting.splice(0)) void sendAlone(r);
      while (sending.size > 0) await Promise.all(sending);
      if (leaseId !== null) {
        await api(
          `/api/v1/pull/leases/${leaseId}/close`,
          {},
          options.token,
          CLIENT_DEFAULTS.close_retry_for_ms,
        ).catch(report);
        leaseId = null;
      }
    },
  };
}
