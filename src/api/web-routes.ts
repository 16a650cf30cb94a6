import { LOGIN_DEFAULTS } from '../core/defaults.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { WardenError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { SESSION_COOKIE } from './auth.js';
import { hashToken, newSecret } from '../os/token.js';

/** Where `vite build` puts the dashboard. */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

function page(title: string, message: string): string {
  const esc = (s: string): string => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)}</title><body style="font:16px system-ui;margin:3rem;max-width:40rem"><h1>${esc(title)}</h1><p role="alert">${esc(message)}</p></body></html>`;
}

/** `?task=ID` for a task id as a link carries it, or nothing for anything else. */
function taskQuery(task: string | undefined): string {
  return task !== undefined && /^[1-9]\d{0,15}$/.test(task) ? `?task=${task}` : '';
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
    const session = newSecret(null);
    try {
      await store.exchangeLoginCode(
        hashToken(code),
        hashToken(session),
        LOGIN_DEFAULTS.session_ttl_ms,
      );
    } catch (err) {
      const message = err instanceof WardenError ? err.message : 'the login failed';
      return c.html(page('Cannot log in', message), 401);
    }
    setCookie(c, SESSION_COOKIE, session, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: secure(),
      maxAge: LOGIN_DEFAULTS.session_ttl_ms / 1000,
    });
    // `warden open --task ID`: the page opens that task's drawer, as a notification's link does.
    return c.redirect(`/${taskQuery(c.req.query('task'))}`, 303);
  });

  app.post('/logout', async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie !== undefined) await store.endSession(hashToken(cookie));
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
      // A notification's link (`/?task=ID`) opened before logging in: the login comes back to it.
      const task = taskQuery(c.req.query('task'));
      const open =
        task === '' ? 'warden open' : `warden open --task ${task.slice('?task='.length)}`;
      return c.html(page('warden', `Log in with the link \`${open}\` prints.`), 401);
    }
    c.header('cache-control', 'no-store');
    return c.html(readFileSync(index, 'utf8'));
  });

  app.use('/assets/*', serveStatic({ root: WEB_ROOT }));
  return app;
}
