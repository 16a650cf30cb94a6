import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import type { PolicyOverrides } from '../core/policy.js';
import type { RunMode } from '../core/run.js';
import type { Store } from '../store/store.js';
import type { TerminalAnswer, TerminalCall } from '../core/worker-protocol.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { BEARER, RESPONSES, jsonBody } from './routes.js';
import {
  ApproveBody,
  AskBody,
  BlockBody,
  CommentBody,
  CompleteBody,
  CreateBody,
  FailBody,
  LinkBody,
  NoteBody,
} from './schemas.js';
import type { Json } from '../core/events.js';
import type { BlockKind } from '../core/status.js';

/** What the worker routes tell the host, which routes each signal by the run's mode. */
export interface WorkerSignals {
  call(
    runId: number,
    kind: 'progress' | 'heartbeat',
    note: string | undefined,
    mode: RunMode,
  ): void;
  terminal(runId: number): void;
}

const TAG = 'worker';

/** Reports a run's result, fenced by its token; a repeat gets the answer the first got. */
export type ReportResult = (tokenHash: string, call: TerminalCall) => Promise<TerminalAnswer>;

/** The one way a result is reported, from the worker routes and from a pull claim alike. */
export function resultReporter(
  store: Store,
  signals: WorkerSignals,
  config: () => PolicyOverrides,
  host: string,
): ReportResult {
  return async (tokenHash, call) => {
    const answer = await store.workerTerminal(tokenHash, call, { host, config: config() });
    signals.terminal(answer.run_id);
    return answer;
  };
}

/**
 * The worker door over HTTP (SPEC §5): every call carries the run token and is fenced by the
 * store; a run that is no longer current gets 409 `stale_run`.
 */
export function workerRoutes(
  store: Store,
  signals: WorkerSignals,
  config: () => PolicyOverrides,
  host = 'api',
): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  app.use('*', requireAuth(store, 'run'));
  const hash = (c: { get(key: 'runTokenHash'): string | undefined }): string =>
    c.get('runTokenHash') ?? '';

  app.openapi(
    createRoute({
      method: 'get',
      path: '/context',
      summary: "the worker's task, parents' results, previous attempts, comments",
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
    }),
    async (c) => c.json(await store.workerContext(hash(c)), 200),
  );

  for (const kind of ['heartbeat', 'progress'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/${kind}`,
        summary:
          kind === 'progress'
            ? 'report progress: resets the stall clock'
            : 'prove liveness only: does not count as progress',
        tags: [TAG],
        security: BEARER,
        responses: RESPONSES,
        request: { body: jsonBody(NoteBody) },
      }),
      async (c) => {
        const { note } = c.req.valid('json');
        const run = await store.workerTouch(hash(c), kind);
        signals.call(run.id, kind, note, run.mode);
        return c.json(
          { run_id: run.id, task_id: run.task_id, attempt: run.attempt, state: run.state },
          200,
        );
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/comment',
      summary: 'comment on the own task',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(CommentBody) },
    }),
    async (c) => c.json(await store.workerComment(hash(c), c.req.valid('json').body), 200),
  );

  const terminal = resultReporter(store, signals, config, host);
  const results = [
    { path: '/complete', op: 'complete', summary: 'finish the task with a result' },
    {
      path: '/request-review',
      op: 'request_review',
      summary: 'hand the result to a person for review',
    },
  ] as const;
  for (const r of results) {
    app.openapi(
      createRoute({
        method: 'post',
        path: r.path,
        summary: r.summary,
        tags: [TAG],
        security: BEARER,
        responses: RESPONSES,
        request: { body: jsonBody(CompleteBody) },
      }),
      async (c) => {
        const b = c.req.valid('json');
        const call: TerminalCall = {
          op: r.op,
          summary: b.summary,
          ...(b.metadata !== undefined ? { metadata: b.metadata as Json } : {}),
          ...(r.op === 'complete' && b.created !== undefined ? { created: b.created } : {}),
        };
        return c.json(await terminal(hash(c), call), 200);
      },
    );
  }
  app.openapi(
    createRoute({
      method: 'post',
      path: '/fail',
      summary: 'give up this attempt (counted as a failure)',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(FailBody) },
    }),
    async (c) =>
      c.json(await terminal(hash(c), { op: 'fail', reason: c.req.valid('json').reason }), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/block',
      summary: 'block the task with a reason for a person',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(BlockBody) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(
        await terminal(hash(c), { op: 'block', reason: b.reason, kind: b.kind as BlockKind }),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/approve',
      summary: 'a review run: approve the work (the task is done)',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(ApproveBody) },
    }),
    async (c) =>
      c.json(await terminal(hash(c), { op: 'approve', summary: c.req.valid('json').summary }), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/request-changes',
      summary: 'a review run: send the work back with what to change',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(FailBody) },
    }),
    async (c) =>
      c.json(
        await terminal(hash(c), { op: 'request_changes', reason: c.req.valid('json').reason }),
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/ask',
      summary: 'ask a person a question: the task waits blocked (needs_input) for the answer',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(AskBody) },
    }),
    async (c) =>
      c.json(await terminal(hash(c), { op: 'ask', question: c.req.valid('json').question }), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/create',
      summary: 'create a child task on the same board',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(CreateBody) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(await store.workerCreate(hash(c), b as never, { config: config() }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/link',
      summary: 'link the own task with a task it created',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(LinkBody) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(await store.workerLink(hash(c), b.parent, b.child), 200);
    },
  );
  return app;
}
