import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { WardenError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { SESSION_COOKIE, sha256 } from './auth.js';

/** Where `vite build` puts the dashboard. */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** How long a dashboard session lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;

function page(title: string, message: string): string {
  const esc = (s: string): string => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)}</title><body style="font:16px system-ui;margin:3rem;max-width:40rem"><h1>${esc(title)}</h1><p role="alert">${esc(message)}</p></body></html>`;
}

/**
 * The dashboard's own routes (SPEC §6): log in with a one-time code (`warden open`), log out,
 * and the built page itself. The page holds no token: it is authorised by an HttpOnly,
 * SameSite=Strict session cookie.
 */
export function webRoutes(store: Store, secure: () => boolean): Hono {
  const app = new Hono();

  app.get('/login', async (c) => {
    const code = c.req.query('code') ?? '';
    const session = randomBytes(32).toString('base64url');
    try {
      await store.exchangeLoginCode(sha256(code), sha256(session), SESSION_TTL_MS);
    } catch (err) {
      const message = err instanceof WardenError ? err.message : 'the login failed';
      return c.html(page('Cannot log in', message), 401);
    }
    setCookie(c, SESSION_COOKIE, session, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: secure(),
      maxAge: SESSION_TTL_MS / 1000,
    });
    return c.redirect('/', 303);
  });

  app.post('/logout', async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie !== undefined) await store.endSession(sha256(cookie));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });

  app.get('/', (c) => {
    const index = join(WEB_ROOT, 'index.html');
    if (!existsSync(index)) {
      return c.html(
        page('Dashboard not built', 'Run `npm run build` to build the dashboard, then reload.'),
        503,
      );
    }
    if (getCookie(c, SESSION_COOKIE) === undefined) {
      return c.html(page('warden', 'Log in with the link `warden open` prints.'), 401);
    }
    c.header('cache-control', 'no-store');
    return c.html(readFileSync(index, 'utf8'));
  });

  app.use('/assets/*', serveStatic({ root: WEB_ROOT }));
  return app;
}
