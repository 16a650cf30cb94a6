import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { WardenError } from '../core/errors.js';
import type { PolicyOverrides } from '../core/policy.js';
import type { Store } from '../store/store.js';
import { adminRoutes } from './admin-routes.js';
import { credentialsFirst, requireAuth } from './auth.js';
import type { HostControl } from './admin-routes.js';
import { incomingOf, jsonBodies, tooLarge } from './body.js';
import { errorResponse, onError } from './errors.js';
import { metricsRoutes } from './metrics.js';
import { logFailures } from './request-log.js';
import type { ApiLog } from './request-log.js';
import { pullRoutes } from './pull-routes.js';
import { taskRoutes } from './task-routes.js';
import { applyRoutes } from './apply-routes.js';
import { bulkRoutes } from './bulk-routes.js';
import { scheduleRoutes } from './schedule-routes.js';
import { notifyRoutes } from './notify-routes.js';
import { inboxRoutes } from './inbox-routes.js';
import { personRoutes } from './person-routes.js';
import { boardRoutes } from './board-routes.js';
import type { BoardContext } from './board-routes.js';
import { timelineRoutes } from './timeline-routes.js';
import { webRoutes } from './web-routes.js';
import type { PullControl } from './pull-routes.js';
import { resultReporter, workerRoutes } from './worker-routes.js';
import type { WorkerSignals } from './worker-routes.js';

/** Largest request body the API reads. */
export const MAX_BODY_BYTES = 256 * 1024;

/** What the HTTP API is built from. */
export interface ApiDeps {
  store: Store;
  host: string;
  signals: WorkerSignals;
  control: HostControl;
  config: () => PolicyOverrides;
  /** Whether this host's dispatcher loop is running, for `/metrics`. */
  dispatching: () => boolean;
  /** Workers this host's supervisor watches now, for `/metrics` (default: none). */
  workers?: () => number;
  /** `serve --metrics-open`: `/metrics` answers without a token. */
  metricsOpen?: boolean;
  /** What this host measures in memory, for `/metrics` (src/serve/instruments.ts). */
  measured?: Registry;
  /** Pull mode; absent when the host serves no pull workers. */
  pull?: PullControl;
  /** The dashboard's data routes; absent in tests that do not need them. */
  board?: BoardContext;
  /**
   * Tells the host that a request changed what may be dispatched; `pull-ended` when all it did
   * was end pull workers' runs.
   */
  wake?: (cause?: 'pull-ended') => void;
  /** Where failed requests (status 500) are logged; default: pino on standard error. */
  log?: ApiLog;
}

/**
 * Writes that can make work ready (or free a slot): changes made here commit on the host's
 * own connection, which `data_version` does not report, so they wake the dispatcher directly.
 */
function changesWork(method: string, path: string): boolean {
  if (method === 'GET') return false;
  if (
    path.startsWith('/api/v1/pull/') ||
    /^\/api\/v1\/worker\/(progress|heartbeat|comment)$/.test(path)
  )
    return false;
  return path.startsWith('/api/v1/');
}

/**
 * The versioned HTTP API of `warden serve` (SPEC §6): token auth on every route but
 * `/healthz` (and `/metrics` with `serve --metrics-open`), JSON errors with stable codes, and an OpenAPI document from the same schemas
 * that validate requests.
 */
export function createApi(deps: ApiDeps): OpenAPIHono {
  const app = new OpenAPIHono();
  app.onError(onError);
  const log = deps.log ?? pino({ base: { host: deps.host } }, pino.destination(2));
  // Client ids are kept when they are short and plain, so a caller can match its own logs.
  app.use('*', requestId({ limitLength: 64 }));
  app.use('*', logFailures(log));
  // Served by Node, jsonBodies reads and counts the body itself; otherwise Hono's limit does.
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => errorResponse(c, tooLarge(MAX_BODY_BYTES)),
  });
  const bounded: MiddlewareHandler = (c, next) => (incomingOf(c) ? next() : limit(c, next));
  app.use('/api/*', credentialsFirst);
  app.use('/api/*', bounded);
  app.use('/api/*', jsonBodies(MAX_BODY_BYTES));
  app.use('/api/*', async (c, next) => {
    await next();
    if (c.res.status < 400 && changesWork(c.req.method, c.req.path)) deps.wake?.();
  });
  // For probes: a bare `ok` and nothing else, with no token (SPEC §6).
  app.get('/healthz', (c) => c.text('ok'));
  app.route(
    '/',
    metricsRoutes({
      store: deps.store,
      host: { workers: deps.workers ?? (() => 0), dispatching: deps.dispatching },
      open: deps.metricsOpen ?? false,
      ...(deps.measured ? { measured: deps.measured } : {}),
    }),
  );
  app.route('/api/v1/worker', workerRoutes(deps.store, deps.signals, deps.config, deps.host));
  if (deps.pull) {
    const results = {
      report: resultReporter(deps.store, deps.signals, deps.config, deps.host),
      changed: () => deps.wake?.('pull-ended'),
      failed: (err: unknown) =>
        log.error({ err }, `a report carried on a pull claim failed: ${String(err)}`),
    };
    app.route('/api/v1/pull', pullRoutes(deps.store, deps.pull, results));
  }
  app.route('/api/v1', adminRoutes(deps.store, deps.control));
  app.route('/api/v1', taskRoutes(deps.store));
  app.route('/api/v1', applyRoutes(deps.store));
  app.route('/api/v1', bulkRoutes(deps.store));
  app.route('/api/v1', scheduleRoutes(deps.store));
  app.route('/api/v1', notifyRoutes(deps.store));
  app.route('/api/v1', inboxRoutes(deps.store));
  app.route('/api/v1', personRoutes(deps.store, deps.config));
  if (deps.board) app.route('/api/v1', boardRoutes(deps.store, deps.board));
  app.route('/api/v1', timelineRoutes(deps.store));
  app.route(
    '/',
    webRoutes(deps.store, () => false),
  );
  app.use('/api/v1/openapi.json', requireAuth(deps.store, 'admin'));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
  });
  app.doc('/api/v1/openapi.json', {
    openapi: '3.0.0',
    info: { title: 'warden', version: '1' },
  });
  app.notFound((c) =>
    errorResponse(c, new WardenError('not_found', `no route ${c.req.method} ${c.req.path}`)),
  );
  return app;
}
