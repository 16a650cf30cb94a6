import { hashToken } from '../os/token.js';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { WardenError } from '../core/errors.js';
import type { LeaseInfo } from '../store/run-types.js';
import type { Store, TokenInfo } from '../store/store.js';
import { errorResponse } from './errors.js';

/** What the auth middleware learns about the caller. */
export interface AuthVariables {
  /** The hash of a run token (`wrun_…`), for worker routes. */
  runTokenHash?: string;
  /** A person's or worker's named token. */
  token?: TokenInfo;
  /** The lease a worker's request names, read with its token (`AuthOptions.leaseOf`). */
  lease?: { id: string; checked: LeaseInfo | WardenError };
}

/** How a route's requests are checked beyond their token. */
export interface AuthOptions {
  /**
   * The lease a worker route's request names, when it is cheap to tell before the route runs:
   * then the token and the lease are one read (`Store.findTokenAndLease`), and the lease's
   * answer is left in `lease` for the route to give once it has checked the rest.
   */
  leaseOf?: (c: Context) => Promise<string | undefined>;
}

/** The dashboard's session cookie. */
export const SESSION_COOKIE = 'warden_session';
/** The header every write from the dashboard sends (SameSite cookies plus this: no CSRF). */
export const CSRF_HEADER = 'x-warden-csrf';

function bearer(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

/** The answer to a request with no credential at all. */
function missing(): WardenError {
  return new WardenError('unauthorized', 'missing bearer token; send Authorization: Bearer TOKEN');
}

/**
 * Refuses a request with a body to the API that carries no credential at all (no bearer
 * token, no session cookie) before anything reads the body: every API route needs one, and a
 * stranger's body is not parsed, nor its type or size judged (a 401, not a 415 or 400). Each
 * route's own guard then checks the credential; a bodiless request (GET) goes to it directly,
 * so an unknown path still answers 404.
 */
export const credentialsFirst: MiddlewareHandler = async (c, next) => {
  const bodiless = c.req.method === 'GET' || c.req.method === 'HEAD';
  if (
    !bodiless &&
    bearer(c.req.header('authorization')) === null &&
    !getCookie(c, SESSION_COOKIE)
  ) {
    return errorResponse(c, missing());
  }
  await next();
};

/**
 * Token auth on every route it guards (SPEC §9). `run` routes take a run token, `admin`
 * routes a person's admin token, `worker` routes a pull worker's token.
 */
export function requireAuth(
  store: Store,
  kind: 'run' | 'admin' | 'worker',
  options: AuthOptions = {},
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const token = bearer(c.req.header('authorization'));
    const cookie = kind === 'admin' ? getCookie(c, SESSION_COOKIE) : undefined;
    if (token === null && cookie !== undefined) {
      // The dashboard's session. Writes must also carry a header a cross-site form cannot send.
      const info = await store.findSession(hashToken(cookie));
      if (!info)
        return errorResponse(
          c,
          new WardenError(
            'unauthorized',
            'your session has expired; run `warden open` to log in again',
          ),
        );
      if (c.req.method !== 'GET' && c.req.header(CSRF_HEADER) !== '1') {
        return errorResponse(
          c,
          new WardenError('forbidden', `browser writes must send the ${CSRF_HEADER} header`),
        );
      }
      c.set('token', info);
      return next();
    }
    if (token === null) return errorResponse(c, missing());
    if (kind === 'run') {
      if (!token.startsWith('wrun_')) {
        return errorResponse(
          c,
          new WardenError(
            'unauthorized',
            'worker routes take a run token (WARDEN_RUN_TOKEN, which starts wrun_); this is not one',
          ),
        );
      }
      c.set('runTokenHash', hashToken(token));
      return next();
    }
    const hash = hashToken(token);
    const leaseId = kind === 'worker' ? await options.leaseOf?.(c) : undefined;
    const found = leaseId === undefined ? null : await store.findTokenAndLease(hash, leaseId);
    const info = found ? found.token : leaseId === undefined ? await store.findToken(hash) : null;
    if (!info || info.kind !== kind) {
      return errorResponse(
        c,
        new WardenError(
          'unauthorized',
          kind === 'admin'
            ? 'unknown or not an admin token'
            : 'unknown or not a worker token; make one with `warden token create NAME --profile P`',
        ),
      );
    }
    c.set('token', info);
    if (found && leaseId !== undefined) c.set('lease', { id: leaseId, checked: found.lease });
    return next();
  };
}
