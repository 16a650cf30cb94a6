import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { pino } from 'pino';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { WardenError } from '../../src/core/errors.js';
import { onError } from '../../src/api/errors.js';
import { logFailures } from '../../src/api/request-log.js';
import type { Harness } from './harness.js';
import { ana, makeHarness } from './harness.js';

// Every 500 is logged with its cause under a request id that the answer carries (issue #11).

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
});

interface LogLine {
  level: number;
  request_id?: string;
  method?: string;
  path?: string;
  status?: number;
  err?: { message: string; stack: string };
  msg: string;
}

function readLog(path: string): LogLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

describe('a request that fails inside serve', () => {
  it('answers 500 with a request id, and the log holds the cause under that id', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'warden-log-'));
    onTestFinished(() => rmSync(logDir, { recursive: true, force: true }));
    const logPath = join(logDir, 'serve.log');
    const dest = pino.destination({ dest: logPath, sync: true });
    onTestFinished(() => dest.end());
    h = await makeHarness({ log: pino(dest) });
    const task = await h.store.createTask({ title: 't' }, ana);
    // A real fault under the API: the comments table is gone from the database file.
    const db = new Database(h.dbPath);
    db.exec('ALTER TABLE comments RENAME TO comments_gone');
    db.close();

    const a = await h.request('POST', `/api/v1/tasks/${task.id}/comments`, {
      token: h.adminToken,
      json: { body: 'hello' },
    });
    expect(a.status).toBe(500);
    const error = (a.body as { error: { code: string; message: string; request_id: string } })
      .error;
    expect(error.code).toBe('internal');
    expect(error.request_id).toMatch(/^[\w-]{8,64}$/);
    expect(error.message).toBe(
      `internal error; see the serve log (request id ${error.request_id})`,
    );

    const lines = readLog(logPath).filter((l) => l.request_id === error.request_id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      method: 'POST',
      path: `/api/v1/tasks/${task.id}/comments`,
      status: 500,
    });
    expect(lines[0]?.err?.message).toMatch(/no such table: comments/);
    expect(lines[0]?.err?.stack).toContain('at ');
    // Neither the token nor the body reached the log.
    const text = readFileSync(logPath, 'utf8');
    expect(text).not.toContain(h.adminToken);
    expect(text).not.toContain('hello');
  });

  it('every answer carries X-Request-Id; a plain id from the client is kept', async () => {
    h = await makeHarness();
    const res = await h.app.request('/api/v1/tasks', {
      headers: { authorization: `Bearer ${h.adminToken}` },
    });
    expect(res.headers.get('x-request-id')).toMatch(/^[\w-]{8,64}$/);
    const own = await h.app.request('/api/v1/nothing', {
      headers: { 'x-request-id': 'client-42' },
    });
    expect(own.status).toBe(404);
    expect(own.headers.get('x-request-id')).toBe('client-42');
    // An id that could forge log lines or run long is replaced.
    for (const bad of ['a b', 'x'.repeat(65), 'id"}{']) {
      const r = await h.app.request('/api/v1/nothing', { headers: { 'x-request-id': bad } });
      expect(r.headers.get('x-request-id')).not.toBe(bad);
    }
  });
});

describe('a failure of the store itself (503, 507)', () => {
  it('is logged once a minute, not at each of the retries that meet it; other 500s each time', async () => {
    const lines: string[] = [];
    let now = 0;
    const app = new Hono();
    app.onError(onError);
    app.use(
      '*',
      logFailures({ error: (_fields, message) => lines.push(message) }, () => now),
    );
    app.get('/full', () => {
      throw new WardenError('storage', 'the disk is full');
    });
    app.get('/bug', () => {
      throw new Error('a bug');
    });
    for (let i = 0; i < 5; i++) expect((await app.request('/full')).status).toBe(507);
    expect(lines).toEqual(['GET /full answered 507: the disk is full']);
    await app.request('/bug');
    await app.request('/bug');
    expect(lines).toHaveLength(3);
    now += 61_000;
    await app.request('/full');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('GET /full answered 507: the disk is full (and 4 more like it since)');
  });
});
