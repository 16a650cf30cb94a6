/*
 * Who may call each route of `warden serve` (issue #11, "Must show"; SPEC §6, §9): one table,
 * a row per route and a column per credential, held here and printed in docs/security.md
 * between marker comments. Every cell is a real request against the real app over a real
 * SQLite store: an allowed credential gets past the guard (never 401 or 403), a refused one
 * gets the exact status and code and leaves every row of the database as it was. The table
 * must list every route the app has, read from its OpenAPI registry and its router.
 *
 * After changing ROWS, `UPDATE_ROUTE_ACCESS=1 npx vitest run test/api/route-access.test.ts`
 * rewrites the table in docs/security.md; without it a table that differs fails the test.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenInfo } from '../../src/store/store.js';
import type { Claim } from '../../src/store/run-types.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../../src/api/auth.js';
import { WEB_ROOT } from '../../src/api/web-routes.js';
import { hashToken as sha256, newSecret } from '../../src/os/token.js';
import { dbSnapshot } from '../helpers/db.js';
import type { Harness } from './harness.js';
import { ana, expectError, makeHarness } from './harness.js';

/** The columns: who calls. */
const CREDENTIALS = ['none', 'admin', 'session', 'session_no_csrf', 'worker', 'run'] as const;
type Credential = (typeof CREDENTIALS)[number];

const HEADINGS: Record<Credential, string> = {
  none: 'none',
  admin: 'admin token',
  session: 'session',
  session_no_csrf: `session, no \`${CSRF_HEADER}\``,
  worker: 'worker token',
  run: 'run token',
};

/**
 * A cell: `yes` (past the guard: the route's own answer, whatever it is, but never 401 or 403),
 * or the exact refusal: a JSON error with its status and code, or an HTML page with its status.
 */
type Cell =
  'yes' | '401 unauthorized' | '403 forbidden' | '404 not_found' | '401 page' | '503 page';

/** What one cell sends: a path with real ids, and a body the route would accept. */
interface Req {
  path: string;
  json?: unknown;
}

/** One harness's world: ids the rows send, and the secrets the credentials send. */
interface Fixture {
  h: Harness;
  adminId: number;
  worker: TokenInfo;
  /** A ready task nobody runs, and another to link it with. */
  taskId: number;
  otherId: number;
  /** A running run; a worker row claims a new one once a terminal call has spent it. */
  claim: Claim;
}

interface Row {
  method: string;
  /** As the docs write it: `{id}` for a parameter, `*` for any path under it. */
  path: string;
  /** Which case of the route the row is, when a route has more than one row. */
  variant?: string;
  /** Not a route: what a path the app does not have answers. */
  unknown?: boolean;
  cells: Record<Credential, Cell>;
  /** What every credential gets while the dashboard is not built (`npm run build`). */
  unbuilt?: Cell;
  note?: string;
  send(f: Fixture): Req | Promise<Req>;
}

const U = '401 unauthorized';
const only = (cell: Cell, ...who: Credential[]): Record<Credential, Cell> => ({
  none: who.includes('none') ? cell : U,
  admin: who.includes('admin') ? cell : U,
  session: who.includes('session') ? cell : U,
  session_no_csrf: who.includes('session_no_csrf') ? cell : U,
  worker: who.includes('worker') ? cell : U,
  run: who.includes('run') ? cell : U,
});
const all = (cell: Cell): Record<Credential, Cell> => only(cell, ...CREDENTIALS);
const ANYONE = all('yes');
const PEOPLE_READ = only('yes', 'admin', 'session', 'session_no_csrf');
const PEOPLE_WRITE: Record<Credential, Cell> = {
  ...only('yes', 'admin', 'session'),
  session_no_csrf: '403 forbidden',
};

let codes = 0;
/** A fresh one-time login code of the admin token, as `warden open` makes. */
async function loginCode(f: Fixture): Promise<string> {
  const code = `code-${(codes += 1)}`;
  await f.h.store.createLoginCode(f.adminId, sha256(code), 60_000);
  return code;
}

/** A running run, claimed anew if the last one was spent by a terminal call. */
async function running(f: Fixture): Promise<Claim> {
  if ((await f.h.store.getRun(f.claim.run.id)).state !== 'running') f.claim = await f.h.claimNew();
  return f.claim;
}

/** The path of a schedule that exists (a removal by an earlier cell is made good again). */
async function schedulePath(f: Fixture, suffix: string): Promise<string> {
  const names = (await f.h.store.listSchedules()).map((s) => s.name);
  if (!names.includes('probe')) {
    await f.h.store.addSchedule({ name: 'probe', cron: '@daily', template: { title: 'p' } }, ana);
  }
  return `/api/v1/schedules/probe${suffix}`;
}

/** The path of a webhook subscription that exists (made again after a removal). */
async function subscriptionPath(f: Fixture, suffix: string): Promise<string> {
  const [sub] = await f.h.store.listSubscriptions();
  const id = sub?.id ?? (await f.h.store.addSubscription({ url: 'http://127.0.0.1:9/p' }, ana)).id;
  return `/api/v1/notify/subscriptions/${id}${suffix}`;
}

async function freshLease(f: Fixture): Promise<string> {
  return (await f.h.store.openLease(f.worker, 'probe', undefined, 30_000)).id;
}

const people = (method: string, path: string, send: Row['send']): Row => ({
  method,
  path: `/api/v1${path}`,
  cells: method === 'GET' ? PEOPLE_READ : PEOPLE_WRITE,
  send,
});
const worker = (method: string, path: string, json?: (c: Claim, f: Fixture) => unknown): Row => ({
  method,
  path: `/api/v1/worker${path}`,
  cells: only('yes', 'run'),
  async send(f) {
    const c = await running(f);
    return { path: `/api/v1/worker${path}`, ...(json ? { json: await json(c, f) } : {}) };
  },
});
const pull = (path: string, send: Row['send']): Row => ({
  method: 'POST',
  path: `/api/v1/pull${path}`,
  cells: only('yes', 'worker'),
  send,
});

const ROWS: readonly Row[] = [
  { method: 'GET', path: '/healthz', cells: ANYONE, send: () => ({ path: '/healthz' }) },
  {
    method: 'GET',
    path: '/metrics',
    cells: PEOPLE_READ,
    send: () => ({ path: '/metrics' }),
  },
  {
    method: 'GET',
    path: '/metrics',
    variant: '`serve --metrics-open`',
    cells: ANYONE,
    note: 'opens this route alone',
    send: () => ({ path: '/metrics' }),
  },
  {
    method: 'GET',
    path: '/login',
    variant: 'a fresh code',
    cells: ANYONE,
    note: 'the one-time code of `warden open` is the credential; sets the session cookie',
    send: async (f) => ({ path: `/login?code=${await loginCode(f)}` }),
  },
  {
    method: 'GET',
    path: '/login',
    variant: 'a used, expired or forged code',
    cells: all('401 page'),
    send: () => ({ path: '/login?code=forged' }),
  },
  {
    method: 'POST',
    path: '/logout',
    cells: ANYONE,
    note: 'ends the session the cookie names, if any',
    send: () => ({ path: '/logout' }),
  },
  {
    method: 'GET',
    path: '/',
    cells: { ...all('401 page'), session: 'yes', session_no_csrf: 'yes' },
    unbuilt: '503 page',
    note: 'a static page holding no data; without a cookie, a page saying how to log in',
    send: () => ({ path: '/' }),
  },
  {
    method: 'GET',
    path: '/assets/*',
    cells: ANYONE,
    note: "the dashboard's static files",
    send: () => {
      const dir = join(WEB_ROOT, 'assets');
      const file = existsSync(dir) ? readdirSync(dir)[0] : undefined;
      return { path: `/assets/${file ?? 'not-built.js'}` };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/openapi.json',
    cells: PEOPLE_READ,
    send: () => ({ path: '/api/v1/openapi.json' }),
  },

  people('GET', '/tasks', () => ({ path: '/api/v1/tasks' })),
  people('POST', '/tasks', () => ({ path: '/api/v1/tasks', json: { title: 'made by a probe' } })),
  people('POST', '/apply', () => ({
    path: '/api/v1/apply',
    json: { tasks: [{ name: 'probe', title: 'made by a probe' }] },
  })),
  people('POST', '/tasks/bulk', () => ({
    path: '/api/v1/tasks/bulk',
    json: { verb: 'retry', status: 'blocked' },
  })),
  people('GET', '/tasks/{id}', (f) => ({ path: `/api/v1/tasks/${f.taskId}` })),
  people('GET', '/tasks/{id}/diff', (f) => ({ path: `/api/v1/tasks/${f.taskId}/diff` })),
  people('PATCH', '/tasks/{id}', (f) => ({
    path: `/api/v1/tasks/${f.taskId}`,
    json: { priority: 2 },
  })),
  people('POST', '/tasks/{id}/move', async (f) => ({
    path: `/api/v1/tasks/${(await f.h.store.createTask({ title: 'to block' }, ana)).id}/move`,
    json: { verb: 'block', reason: 'probe' },
  })),
  people('POST', '/tasks/{id}/comments', (f) => ({
    path: `/api/v1/tasks/${f.taskId}/comments`,
    json: { body: 'hello' },
  })),
  people('POST', '/tasks/{id}/links', (f) => ({
    path: `/api/v1/tasks/${f.taskId}/links`,
    json: { parent: f.otherId },
  })),
  people('POST', '/tasks/{id}/answer', (f) => ({
    path: `/api/v1/tasks/${f.taskId}/answer`,
    json: { answer: 'blue' },
  })),
  people('POST', '/tasks/{id}/approve', (f) => ({ path: `/api/v1/tasks/${f.taskId}/approve` })),
  people('POST', '/tasks/{id}/request-changes', (f) => ({
    path: `/api/v1/tasks/${f.taskId}/request-changes`,
    json: { reason: 'smaller, please' },
  })),
  people('POST', '/tasks/{id}/stop', async (f) => ({
    path: `/api/v1/tasks/${(await running(f)).task.id}/stop`,
    json: {},
  })),
  people('GET', '/events', () => ({ path: '/api/v1/events' })),
  people('GET', '/board', () => ({ path: '/api/v1/board' })),
  people('GET', '/health', () => ({ path: '/api/v1/health' })),
  people('GET', '/inbox', () => ({ path: '/api/v1/inbox' })),
  people('GET', '/report', () => ({ path: '/api/v1/report' })),
  people('GET', '/runs/{id}/log', (f) => ({ path: `/api/v1/runs/${f.claim.run.id}/log` })),
  people('GET', '/runs/{id}/timeline', (f) => ({
    path: `/api/v1/runs/${f.claim.run.id}/timeline`,
  })),
  {
    ...people('GET', '/stream', () => ({ path: '/api/v1/stream' })),
    note: 'server-sent events',
  },
  people('POST', '/boards/{name}/pause', () => ({ path: '/api/v1/boards/default/pause' })),
  people('POST', '/boards/{name}/resume', () => ({ path: '/api/v1/boards/default/resume' })),
  people('POST', '/profiles/{name}/pause', () => ({ path: '/api/v1/profiles/spare/pause' })),
  people('POST', '/profiles/{name}/resume', () => ({ path: '/api/v1/profiles/spare/resume' })),
  people('GET', '/schedules', () => ({ path: '/api/v1/schedules' })),
  people('POST', '/schedules', () => ({
    path: '/api/v1/schedules',
    json: { name: 'made-by-a-probe', cron: '@daily', template: { title: 'probe' } },
  })),
  people('GET', '/schedules/{name}', async (f) => ({ path: await schedulePath(f, '') })),
  people('POST', '/schedules/{name}/pause', async (f) => ({
    path: await schedulePath(f, '/pause'),
  })),
  people('POST', '/schedules/{name}/resume', async (f) => ({
    path: await schedulePath(f, '/resume'),
  })),
  people('DELETE', '/schedules/{name}', async (f) => ({ path: await schedulePath(f, '') })),
  people('GET', '/notify/subscriptions', () => ({ path: '/api/v1/notify/subscriptions' })),
  people('POST', '/notify/subscriptions', () => ({
    path: '/api/v1/notify/subscriptions',
    json: { url: 'http://127.0.0.1:9/probe' },
  })),
  people('GET', '/notify/subscriptions/{id}', async (f) => ({
    path: await subscriptionPath(f, ''),
  })),
  people('POST', '/notify/subscriptions/{id}/test', async (f) => ({
    path: await subscriptionPath(f, '/test'),
  })),
  people('DELETE', '/notify/subscriptions/{id}', async (f) => ({
    path: await subscriptionPath(f, ''),
  })),
  people('GET', '/notify/dead', () => ({ path: '/api/v1/notify/dead' })),
  people('POST', '/notify/dead/{id}/resend', () => ({ path: '/api/v1/notify/dead/1/resend' })),

  worker('GET', '/context'),
  worker('POST', '/heartbeat', () => ({ note: 'alive' })),
  worker('POST', '/progress', () => ({ note: 'step 1' })),
  worker('POST', '/comment', () => ({ body: 'hello' })),
  worker('POST', '/complete', () => ({ summary: 'done' })),
  worker('POST', '/request-review', () => ({ summary: 'look' })),
  worker('POST', '/fail', () => ({ reason: 'broke' })),
  worker('POST', '/block', () => ({ reason: 'why', kind: 'needs_input' })),
  worker('POST', '/ask', () => ({ question: 'which colour?' })),
  worker('POST', '/approve', () => ({ summary: 'good' })),
  worker('POST', '/request-changes', () => ({ reason: 'smaller' })),
  worker('POST', '/create', () => ({ title: 'child' })),
  worker('POST', '/link', async (c, f) => {
    const child = await f.h.store.workerCreate(
      sha256(c.token),
      { title: 'linked' },
      { config: {} },
    );
    return { parent: c.task.id, child: child.id };
  }),

  pull('/leases', () => ({ path: '/api/v1/pull/leases', json: { name: 'probe' } })),
  pull('/leases/{id}/renew', async (f) => ({
    path: `/api/v1/pull/leases/${await freshLease(f)}/renew`,
    json: {},
  })),
  pull('/leases/{id}/close', async (f) => ({
    path: `/api/v1/pull/leases/${await freshLease(f)}/close`,
  })),
  pull('/claim', async (f) => ({
    path: '/api/v1/pull/claim',
    json: { lease_id: await freshLease(f), max: 1, wait_ms: 0 },
  })),

  {
    method: 'GET',
    path: '/nope',
    unknown: true,
    cells: all('404 not_found'),
    send: () => ({ path: '/nope' }),
  },
  {
    method: 'GET',
    path: '/api/v1/nope',
    unknown: true,
    cells: all('404 not_found'),
    send: () => ({ path: '/api/v1/nope' }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/tasks/{id}',
    unknown: true,
    cells: { ...only('404 not_found', 'admin', 'session'), session_no_csrf: '403 forbidden' },
    note: 'a known path with a method it does not take',
    send: (f) => ({ path: `/api/v1/tasks/${f.taskId}` }),
  },
  {
    method: 'POST',
    path: '/api/v1/worker/nope',
    unknown: true,
    cells: only('404 not_found', 'run'),
    send: () => ({ path: '/api/v1/worker/nope', json: {} }),
  },
  {
    method: 'POST',
    path: '/api/v1/pull/nope',
    unknown: true,
    cells: only('404 not_found', 'worker'),
    send: () => ({ path: '/api/v1/pull/nope', json: {} }),
  },
];

// ---- The table in docs/security.md ----

const DOC = join(import.meta.dirname, '../../docs/security.md');
const BEGIN = '<!-- route-access: begin (written from test/api/route-access.test.ts) -->';
const END = '<!-- route-access: end -->';

function renderCell(cell: Cell): string {
  if (cell === 'yes') return 'yes';
  const [status, what] = cell.split(' ');
  return what === 'page' ? `${status} (page)` : `${status} \`${what}\``;
}

function renderTable(rows: readonly Row[]): string {
  const head = ['route', ...CREDENTIALS.map((c) => HEADINGS[c]), 'notes'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    let route = `\`${row.method} ${row.path}\``;
    if (row.variant !== undefined) route += `, ${row.variant}`;
    if (row.unknown) route += ' (no such route)';
    const notes = [row.note, row.unbuilt && `${renderCell(row.unbuilt)} to all until built`];
    const cells = CREDENTIALS.map((c) => renderCell(row.cells[c]));
    lines.push(`| ${[route, ...cells, notes.filter(Boolean).join('; ')].join(' | ')} |`);
  }
  return lines.join('\n');
}

describe('docs/security.md', () => {
  it('prints this table of who may call each route', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    expect(start, `docs/security.md has no ${BEGIN}`).toBeGreaterThanOrEqual(0);
    expect(end, `docs/security.md has no ${END}`).toBeGreaterThan(start);
    const table = `\n${renderTable(ROWS)}\n`;
    if (process.env.UPDATE_ROUTE_ACCESS === '1') {
      writeFileSync(DOC, doc.slice(0, start + BEGIN.length) + table + doc.slice(end));
      return;
    }
    expect(
      doc.slice(start + BEGIN.length, end),
      'the table in docs/security.md differs from ROWS: rerun with UPDATE_ROUTE_ACCESS=1',
    ).toBe(table);
  });
});

// ---- The requests ----

const WORKER_TOKEN = 'wdn_route_access_pull_worker';

async function makeFixture(options: { metricsOpen?: boolean } = {}): Promise<Fixture> {
  const h = await makeHarness({ board: true, ...options });
  await h.store.addProfile('agent', { mode: 'pull' }, ana);
  // Paused and resumed by the probes of the profile routes, so no claim of `agent` minds.
  await h.store.addProfile('spare', { mode: 'pull' }, ana);
  const worker = await h.store.addToken(
    { name: 'pullers', kind: 'worker', hash: sha256(WORKER_TOKEN), profiles: ['agent'] },
    ana,
  );
  const admin = await h.store.findToken(sha256(h.adminToken));
  if (!admin) throw new Error('the harness has no admin token');
  return {
    h,
    adminId: admin.id,
    worker,
    taskId: (await h.store.createTask({ title: 'a task' }, ana)).id,
    otherId: (await h.store.createTask({ title: 'another' }, ana)).id,
    claim: await h.claimNew(),
  };
}

/** The headers `who` sends; a session is a new one each time (`POST /logout` ends it). */
async function credentialHeaders(
  who: Credential,
  f: Fixture,
  method: string,
): Promise<Record<string, string>> {
  switch (who) {
    case 'none':
      return {};
    case 'admin':
      return { authorization: `Bearer ${f.h.adminToken}` };
    case 'worker':
      return { authorization: `Bearer ${WORKER_TOKEN}` };
    case 'run':
      return { authorization: `Bearer ${f.claim.token}` };
    case 'session':
    case 'session_no_csrf': {
      const session = newSecret(null);
      await f.h.store.exchangeLoginCode(sha256(await loginCode(f)), sha256(session), 3_600_000);
      const headers: Record<string, string> = { cookie: `${SESSION_COOKIE}=${session}` };
      if (who === 'session' && method !== 'GET') headers[CSRF_HEADER] = '1';
      return headers;
    }
  }
}

interface Answer {
  status: number;
  type: string;
  text: string;
}

async function call(f: Fixture, method: string, req: Req, headers: Record<string, string>) {
  const body = req.json === undefined ? undefined : JSON.stringify(req.json);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await f.h.app.request(req.path, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const type = res.headers.get('content-type') ?? '';
  // A stream that was let in never ends by itself: its first answer is what is checked.
  if (type.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, type, text: '' } satisfies Answer;
  }
  return { status: res.status, type, text: await res.text() } satisfies Answer;
}

function expectCell(cell: Cell, a: Answer, what: string): void {
  if (cell === 'yes') {
    expect([401, 403], `${what} was refused: ${a.text}`).not.toContain(a.status);
    expect(a.status, `${what}: ${a.text}`).toBeLessThan(500);
    return;
  }
  const [status, code] = cell.split(' ') as [string, string];
  if (code === 'page') {
    expect(a.status, `${what}: ${a.text}`).toBe(Number(status));
    expect(a.type, what).toMatch(/^text\/html/);
    expect(a.text, `${what} served the dashboard`).not.toMatch(/<script/i);
    return;
  }
  let body: unknown = null;
  try {
    body = JSON.parse(a.text);
  } catch {
    // expectError says what came instead.
  }
  expectError({ status: a.status, body, text: `${what}: ${a.text}` }, Number(status), code);
}

const built = existsSync(join(WEB_ROOT, 'index.html'));
const label = (row: Row): string =>
  `${row.method} ${row.path}${row.variant !== undefined ? `, ${row.variant}` : ''}`;

let open: Fixture;
beforeAll(async () => {
  open = await makeFixture({ metricsOpen: true });
});
afterAll(async () => {
  await open.h.cleanup();
});

describe.each(CREDENTIALS)('with credential %s', (who) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await makeFixture();
  });
  afterAll(async () => {
    // Let a cancelled stream take its last look before the store closes.
    await new Promise((resolve) => setTimeout(resolve, 30));
    await f.h.cleanup();
  });

  for (const row of ROWS) {
    it(label(row), async () => {
      const world = row.variant === '`serve --metrics-open`' ? open : f;
      const cell = row.unbuilt !== undefined && !built ? row.unbuilt : row.cells[who];
      const req = await row.send(world);
      const headers = await credentialHeaders(who, world, row.method);
      const before = dbSnapshot(world.h.dbPath);
      const answer = await call(world, row.method, req, headers);
      const what = `${row.method} ${req.path} with ${who}`;
      expectCell(cell, answer, what);
      if (cell !== 'yes') {
        expect(dbSnapshot(world.h.dbPath), `${what} changed the database`).toEqual(before);
      }
    });
  }
});

// ---- The table lists every route the app has ----

describe('the table', () => {
  it('lists every route of the app, and only those', async () => {
    const f = await makeFixture();
    try {
      const app = f.h.app;
      const braces = (path: string): string => path.replace(/:(\w+)/g, '{$1}');
      const listed = new Set(ROWS.filter((r) => !r.unknown).map((r) => `${r.method} ${r.path}`));
      const routes = new Set<string>();
      for (const d of app.openAPIRegistry.definitions)
        if (d.type === 'route') routes.add(`${d.route.method.toUpperCase()} ${d.route.path}`);
      for (const r of app.routes)
        if (r.method !== 'ALL') routes.add(`${r.method} ${braces(r.path)}`);
      // `app.use` paths (guards, and handlers such as the static files): each must lead to a
      // row, or the table would miss what it serves.
      const prefixes = app.routes.filter((r) => r.method === 'ALL').map((r) => braces(r.path));
      const covers = (prefix: string, path: string): boolean =>
        prefix === path || (prefix.endsWith('/*') && path.startsWith(prefix.slice(0, -1)));
      const paths = [...listed].map((r) => r.split(' ')[1] ?? '');
      expect({
        routes_not_in_the_table: [...routes].filter((r) => !listed.has(r)),
        app_use_paths_with_no_row: prefixes.filter((p) => !paths.some((path) => covers(p, path))),
        rows_the_app_does_not_have: [...listed].filter(
          (r) => !routes.has(r) && !prefixes.includes(r.split(' ')[1] ?? ''),
        ),
      }).toEqual({
        routes_not_in_the_table: [],
        app_use_paths_with_no_row: [],
        rows_the_app_does_not_have: [],
      });
    } finally {
      await f.h.cleanup();
    }
  });
});
