import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Task } from '../../src/core/task.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';
import { adminApi } from '../helpers/admin-api.js';

/**
 * Keyset paging of `GET /api/v1/tasks` (`after` = the previous page's `next`) on both
 * backends: with tasks created between pages, at every priority, no task is skipped or listed
 * twice, and the pages keep the listing's order.
 */
const PG_URL = process.env.WARDEN_TEST_PG_URL;
const TOKEN = 'wadm_test-secret-of-ana';
const ana = person('ana');

interface Backend {
  name: string;
  open(dir: string): Promise<{ store: Store; close: () => Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    open: async (dir) => {
      const store = await openSqliteStore(join(dir, 'warden.db'), new ManualClock(), {
        create: true,
      });
      return { store, close: () => store.close() };
    },
  },
  ...(PG_URL
    ? [
        {
          name: 'PostgreSQL',
          open: async () => {
            const schema = `warden_test_${randomBytes(6).toString('hex')}`;
            const store = await openPgStore({ url: PG_URL, schema, max: 4 }, new ManualClock());
            return {
              store,
              close: async () => {
                await store.close();
                const c = new pg.Client({ connectionString: PG_URL });
                await c.connect();
                await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
                await c.end();
              },
            };
          },
        },
      ]
    : []),
];

/** The listing's order: priority high to low, then id. */
function inOrder(tasks: readonly Task[]): boolean {
  return tasks.every((t, i) => {
    const prev = tasks[i - 1];
    return (
      prev === undefined ||
      prev.priority > t.priority ||
      (prev.priority === t.priority && prev.id < t.id)
    );
  });
}

describe.each(BACKENDS)('task list keyset paging on $name', (backend) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-paging-'));
  let store: Store;
  let close: () => Promise<void>;
  let app: OpenAPIHono;

  beforeAll(async () => {
    ({ store, close } = await backend.open(dir));
    app = await adminApi(store, dir, TOKEN);
  });
  afterAll(async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: await res.json() };
  };

  const page = async (query: string): Promise<{ tasks: Task[]; next: string | null }> => {
    const { status, body } = await get(`/api/v1/tasks?${query}`);
    expect(status, query).toBe(200);
    return body as { tasks: Task[]; next: string | null };
  };

  it('lists every task once while tasks are created between pages', async () => {
    const before: Task[] = [];
    for (let i = 0; i < 40; i++) {
      before.push(await store.createTask({ title: `before ${i}`, priority: i % 3 }, ana));
    }
    const seen: Task[] = [];
    let next: string | null = null;
    let made = 0;
    do {
      const got: { tasks: Task[]; next: string | null } = await page(
        `limit=7${next === null ? '' : `&after=${next}`}`,
      );
      seen.push(...got.tasks);
      next = got.next;
      // New tasks at every priority: above, at and below the cursor's.
      for (const priority of [2, 1, 0, 5, -1]) {
        await store.createTask({ title: `during ${made++}`, priority }, ana);
      }
    } while (next !== null);
    const ids = seen.map((t) => t.id);
    expect(new Set(ids).size, 'no task listed twice').toBe(ids.length);
    for (const t of before) expect(ids, `task ${t.id} skipped`).toContain(t.id);
    expect(inOrder(seen)).toBe(true);
    // A task created during paging is listed when it lands after the cursor: the ones below
    // every priority the board had (-1) always are.
    const lowest = (await store.listTasks({ board: 'default' })).filter((t) => t.priority === -1);
    for (const t of lowest.slice(0, -1)) expect(ids).toContain(t.id);
  });

  it('pages a status filter and a search the same way, ending with next null', async () => {
    const all = await store.listTasks({ board: 'default', q: 'before' });
    const seen: Task[] = [];
    let next: string | null = null;
    do {
      const got: { tasks: Task[]; next: string | null } = await page(
        `q=before&limit=6${next === null ? '' : `&after=${encodeURIComponent(next)}`}`,
      );
      seen.push(...got.tasks);
      next = got.next;
    } while (next !== null);
    expect(seen.map((t) => t.id)).toEqual(all.map((t) => t.id));
    const ready = await page('status=ready&limit=1000');
    expect(ready.next).toBeNull();
    expect(inOrder(ready.tasks)).toBe(true);
  });

  it('refuses a cursor that is not one, and after with offset, with a 400 naming the fix', async () => {
    const count = (await store.listTasks({ board: 'default' })).length;
    for (const [query, says] of [
      ['after=12', /after: '12' is not a cursor; pass a page's `next`/],
      ['after=x:1', /is not a cursor/],
      ['after=1:2&offset=3', /after and offset cannot be combined/],
    ] as const) {
      const { status, body } = await get(`/api/v1/tasks?${query}`);
      expect(status, query).toBe(400);
      expect((body as { error: { message: string } }).error.message).toMatch(says);
    }
    expect((await store.listTasks({ board: 'default' })).length).toBe(count);
  });

  it('refuses an unknown status or cursor in one line, line breaks in what it quotes and all', async () => {
    for (const [query, says] of [
      ['status=%00%0A%00', /^unknown status '\0 \0'; use one of triage, todo, ready/],
      ['status=ready,a%0Db', /^unknown status 'a b'/],
      ['after=1%0A2', /^after: '1 2' is not a cursor/],
    ] as const) {
      const { status, body } = await get(`/api/v1/tasks?${query}`);
      expect(status, query).toBe(400);
      const { code, message } = (body as { error: { code: string; message: string } }).error;
      expect(code, query).toBe('invalid');
      expect(message, query).toMatch(says);
      expect(message, query).toMatch(/^[^\n\r]+$/);
    }
  });
});
