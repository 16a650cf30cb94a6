import type { MiddlewareHandler } from 'hono';
import { requestIdOf } from './errors.js';

/** Where the API writes what went wrong: serve's pino logger fits. */
export interface ApiLog {
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * Logs every answer of status 500 or more with its cause and the request id that the
 * answer carries (`X-Request-Id`, and `request_id` in the error body), so that "see the
 * serve log" leads somewhere. Bodies, queries and headers are never logged: they can hold
 * tokens and secrets.
 */
export function logFailures(log: ApiLog): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.status < 500) return;
    log.error(
      {
        request_id: requestIdOf(c),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        err: c.error ?? null,
      },
      `${c.req.method} ${c.req.path} answered ${c.res.status}: ${c.error?.message ?? 'no error was thrown'}`,
    );
  };
}
