import { mkdtempSync, rmSync } from 'node:fs';
import type { RunReason } from '../../src/core/run.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { dispatcher, person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import type { WardenEvent } from '../../src/core/events.js';
import type { Run } from '../../src/core/run.js';
import type { NewTask, Task } from '../../src/core/task.js';
import type { HostControl } from '../../src/api/admin-routes.js';
import { createApi } from '../../src/api/app.js';
import type { ApiLog } from '../../src/api/request-log.js';
import { hashToken as sha256 } from '../../src/os/token.js';
import type { WorkerSignals } from '../../src/api/worker-routes.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Claim } from '../../src/store/run-types.js';
import type { EndResult, StopIntent } from '../../src/core/ending.js';
import { PullSupervisor } from '../../src/supervisor/pull.js';

/** The person who owns the board and the admin token. */
export const ana = person('ana');

/** Twenty minutes: past the longest first backoff (60 s ± 20 %) with room to spare. */
export const PAST_BACKOFF = 20 * 60 * 1000;

/** One call the worker routes made to the host's supervisor hooks. */
export interface SignalCall {
  runId: number;
  kind: 'progress' | 'heartbeat';
  note: string | undefined;
}

/** What a request answered: status and parsed JSON body (null when not JSON). */
export interface Answer {
  status: number;
  body: unknown;
  text: string;
}

/** The `{ error: { code, message } }` body every refusal carries. */
export interface ErrorAnswer {
  error: { code: string; message: string };
}

/** Everything a refused request must leave as it was. */
export interface Snapshot {
  tasks: Task[];
  runs: Run[][];
  events: WardenEvent[];
}

export interface RequestOptions {
  /** The bearer token; omitted means no Authorization header. */
  token?: string;
  /** A JSON body, serialised here. */
  json?: unknown;
  /** A raw body sent as is (with a JSON content type). */
  raw?: string;
  /** Bytes sent as they are, with no Content-Type but the one `headers` gives. */
  bytes?: Uint8Array;
  headers?: Record<string, string>;
}

/** A fresh store, an API over it and recording host hooks, for one test. */
export interface Harness {
  store: SqliteStore;
  /** The SQLite file of `store`. */
  dbPath: string;
  clock: ManualClock;
  app: OpenAPIHono;
  /** The pull supervisor `app` answers pull routes with (a new one at `restartApi`). */
  pull: PullSupervisor;
  /** The admin token's secret, as a person would send it. */
  adminToken: string;
  signals: { calls: SignalCall[]; terminals: number[] };
  stops: { taskId: number; by: string; intent: StopIntent }[];
  /** What the recording `control.stop` answers (default null: no run on this host). */
  stopAnswer: EndResult | null;
  request(method: string, path: string, options?: RequestOptions): Promise<Answer>;
  /** Replaces `app` with a new one over the same store, as a `serve` restart does. */
  restartApi(): void;
  /** Adds a task assigned to profile `p` (added on first use) and claims its run. */
  claimNew(input?: Partial<NewTask>): Promise<Claim>;
  /** Claims the next ready runs (the clock must be past any backoff). */
  claimAgain(): Promise<Claim[]>;
  /** Fences `claim`'s run as stalled, closes it and claims attempt + 1 of the same task. */
  supersede(claim: Claim): Promise<Claim>;
  snapshot(taskIds: readonly number[]): Promise<Snapshot>;
  /** `stale_run` events written so far. */
  staleEvents(): Promise<WardenEvent[]>;
  cleanup(): Promise<void>;
}

/**
 * Builds a harness; call `cleanup()` in `afterEach`. `log` receives the API's failures;
 * `metricsOpen` is `serve --metrics-open`; `board` adds the dashboard's data routes
 * (`/board`, `/health`, `/runs/{id}/log`, `/stream`, `/boards/...`), as `serve` always does.
 */
export async function makeHarness(
  options: { log?: ApiLog; metricsOpen?: boolean; board?: boolean } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-api-'));
  const clock = new ManualClock();
  const dbPath = join(dir, 'warden.db');
  const store = await openSqliteStore(dbPath, clock, { create: true });
  await store.addBoard('default', ana);
  const adminToken = 'wadm_test-secret-of-ana';
  await store.addToken({ name: 'ana', kind: 'admin', hash: sha256(adminToken) }, ana);

  const signalLog = { calls: [] as SignalCall[], terminals: [] as number[] };
  const signals: WorkerSignals = {
    call: (runId, kind, note) => {
      signalLog.calls.push({ runId, kind, note });
    },
    terminal: (runId) => {
      signalLog.terminals.push(runId);
    },
  };
  let profileAdded = false;
  // `control.stop` runs only once a test calls the API, by when `h` exists.
  const control: HostControl = {
    stop: (taskId, by, intent) => {
      h.stops.push({ taskId, by, intent });
      return Promise.resolve(h.stopAnswer);
    },
  };
  // A fresh API, as a restarted `serve` has: nothing kept in memory (`restartApi`).
  const makeApp = (pull: PullSupervisor): OpenAPIHono =>
    createApi({
      store,
      host: 'h1',
      signals,
      control,
      config: () => ({}),
      dispatching: () => true,
      workers: () => 3,
      ...(options.log ? { log: options.log } : {}),
      ...(options.metricsOpen ? { metricsOpen: true } : {}),
      ...(options.board
        ? {
            board: {
              runsDir: join(dir, 'runs'),
              dispatching: () => true,
              // A stream's next look comes soon, so a cancelled one ends before the store closes.
              changed: (ms: number) =>
                new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 10))),
            },
          }
        : {}),
      pull: {
        pull,
        leaseTtlMs: 30_000,
        host: 'h1',
        // Long-polls end at once here: tests move the clock, not the wall.
        waitForWork: (ms) =>
          new Promise((resolve) => setTimeout(() => resolve(null), Math.min(ms, 10))),
      },
    });
  const newPull = (): PullSupervisor =>
    new PullSupervisor({ store, host: 'h1', clock, config: {} });
  const pull = newPull();
  const app = makeApp(pull);

  const h: Harness = {
    store,
    dbPath,
    clock,
    app,
    pull,
    adminToken,
    signals: signalLog,
    stops: [],
    stopAnswer: null,
    restartApi() {
      h.pull.grace.stop();
      h.pull = newPull();
      h.app = makeApp(h.pull);
    },
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.json !== undefined) body = JSON.stringify(options.json);
      if (options.raw !== undefined) body = options.raw;
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const sent = options.bytes ?? body;
      const res = await h.app.request(path, {
        method,
        headers,
        ...(sent !== undefined ? { body: sent } : {}),
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON: callers look at `text`.
      }
      return { status: res.status, body: parsed, text };
    },
    async claimNew(input = {}) {
      if (!profileAdded) {
        await store.addProfile('p', { argv: ['true'] }, ana);
        profileAdded = true;
      }
      const task = await store.createTask({ title: 'work', assignee: 'p', ...input }, ana);
      const claims = await store.claimRuns(
        { host: 'h1', maxWorkers: 10, limit: 10, mode: 'spawned' },
        join(dir, 'ws'),
      );
      const claim = claims.find((c) => c.task.id === task.id);
      if (!claim) throw new Error(`task ${task.id} was not claimed`);
      return claim;
    },
    claimAgain() {
      return store.claimRuns(
        { host: 'h1', maxWorkers: 10, limit: 10, mode: 'spawned' },
        join(dir, 'ws'),
      );
    },
    async supersede(claim) {
      const reason: RunReason = { rule: 'stall_timeout', message: 'silent for 60m' };
      expect(await store.beginEnding(claim.run.id, 'stalled', reason, dispatcher('h1'))).toBe(true);
      await store.finishRun(
        claim.run.id,
        { outcome: 'stalled', reason },
        { host: 'h1', config: {} },
      );
      clock.advance(PAST_BACKOFF);
      const next = (await h.claimAgain()).find((c) => c.task.id === claim.task.id);
      if (!next) throw new Error(`task ${claim.task.id} was not claimed again`);
      expect(next.run.attempt).toBe(claim.run.attempt + 1);
      return next;
    },
    async snapshot(taskIds) {
      const tasks: Task[] = [];
      const runs: Run[][] = [];
      for (const id of taskIds) {
        tasks.push(await store.getTask(id));
        runs.push(await store.listRuns(id));
      }
      return { tasks, runs, events: await store.listEvents({}) };
    },
    staleEvents() {
      return store.listEvents({ kinds: ['stale_run'] });
    },
    async cleanup() {
      h.pull.grace.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  return h;
}

/** Asserts an error answer: its status, its stable code and (optionally) its message. */
export function expectError(
  answer: Answer,
  status: number,
  code: string,
  message?: RegExp,
): ErrorAnswer {
  expect(answer.status, answer.text).toBe(status);
  const body = answer.body as ErrorAnswer;
  expect(body).toEqual({ error: { code, message: expect.any(String) as unknown } });
  expect(body.error.message.length).toBeGreaterThan(0);
  if (message) expect(body.error.message).toMatch(message);
  return body;
}

/** Asserts a refused request left tasks and runs alone and wrote exactly `newEvents` events. */
export function expectUnchanged(before: Snapshot, after: Snapshot, newEvents = 0): void {
  expect(after.tasks).toEqual(before.tasks);
  expect(after.runs).toEqual(before.runs);
  expect(after.events.slice(0, before.events.length)).toEqual(before.events);
  expect(after.events.length - before.events.length).toBe(newEvents);
  for (const e of after.events.slice(before.events.length)) expect(e.kind).toBe('stale_run');
}
