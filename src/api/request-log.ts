import type { MiddlewareHandler } from 'hono';
import { requestIdOf } from './errors.js';

/** Where the API writes what went wrong: serve's pino logger fits. */
export interface ApiLog {
  error(fields: Record<string, unknown>, message: string): void;
}

/** How long the same 503 or 507 failure is not logged again. */
const REPEAT_MS = 60_000;

/**
 * Logs every answer of status 500 or more (the same 503 or 507 at most once a minute) with its cause and the request id that the
 * answer carries (`X-Request-Id`, and `request_id` in the error body), so that "see the
 * serve log" leads somewhere. Bodies, queries and headers are never logged: they can hold
 * tokens and secrets.
 */
export function logFailures(log: ApiLog, now: () => number = Date.now): MiddlewareHandler {
  // The store's outage (503) or full disk (507) fails every write alike, and each worker's
  // retries ask again every few seconds: the same failure is logged once a minute, not per
  // answer (a trial's log had 51 stacks of a full disk in 2 minutes from 3 workers).
  const said = new Map<string, { at: number; since: number }>();
  return async (c, next) => {
    await next();
    if (c.res.status < 500) return;
    let more = '';
    if (c.res.status === 503 || c.res.status === 507) {
      const key = `${c.res.status} ${c.error?.message ?? ''}`;
      const last = said.get(key);
      if (last !== undefined && now() - last.at < REPEAT_MS) {
        last.since += 1;
        return;
      }
      if (said.size > 100) said.clear();
      said.set(key, { at: now(), since: 0 });
      if (last !== undefined && last.since > 0) more = ` (and ${last.since} more like it since)`;
    }
    log.error(
      {
        request_id: requestIdOf(c),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        err: c.error ?? null,
      },
      `${c.req.method} ${c.req.path} answered ${c.res.status}: ${c.error?.message ?? 'no error was thrown'}${more}`,
    );
  };
}
