import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ManualClock } from '../../src/core/clock.js';
import type { WardenEvent } from '../../src/core/events.js';
import { openPgStore } from '../../src/store/postgres/open.js';
import type { PgStore } from '../../src/store/postgres/open.js';
import { adminApi } from '../helpers/admin-api.js';
import { FINAL_ORDER, insertEvent, outOfOrder, settled } from '../helpers/pg-clients.js';

/**
 * `GET /api/v1/events?after=` and `GET /api/v1/stream` on a real PostgreSQL, where a
 * transaction can commit its event after one with a larger id: a client following either
 * gets every event once.
 */
const URL = process.env.WARDEN_TEST_PG_URL;
const TOKEN = 'wadm_test-secret-of-ana';

const title = (e: WardenEvent): unknown => e.payload.title;

describe.skipIf(!URL)('events on PostgreSQL through the API', () => {
  const schema = `warden_test_${randomBytes(6).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'warden-api-pg-'));
  let store: PgStore;
  let app: OpenAPIHono;

  beforeAll(async () => {
    store = await openPgStore({ url: URL ?? '', schema, max: 4 }, new ManualClock());
    app = await adminApi(store, dir, TOKEN);
  });
  afterAll(async () => {
    await store.close();
    const c = new pg.Client({ connectionString: URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Reads once no other test file's transaction holds events back (`settled`). */
  const get = async (path: string): Promise<WardenEvent[]> => {
    await settled(store.pg);
    const res = await app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status, path).toBe(200);
    return ((await res.json()) as { events: WardenEvent[] }).events;
  };

  /** A client as docs/api.md says to follow: the newest page, then `after` its last id. */
  async function poller() {
    let cursor = (await get('/api/v1/events?limit=1')).at(-1)?.id ?? 0;
    const seen: unknown[] = [];
    return {
      seen,
      async drain(): Promise<void> {
        for (;;) {
          const page = await get(`/api/v1/events?after=${cursor}&limit=1`);
          if (page.length === 0) return;
          seen.push(...page.map(title));
          cursor = page.at(-1)?.id ?? cursor;
        }
      },
    };
  }

  /** Opens the stream (from the end); `until(n)` reads until n events came or 10 s passed. */
  async function stream() {
    const res = await app.request('/api/v1/stream?board=default', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const seen: unknown[] = [];
    let text = '';
    return {
      seen,
      async until(n: number): Promise<void> {
        const deadline = Date.now() + 10_000;
        while (seen.length < n && Date.now() < deadline) {
          const chunk = await reader.read();
          if (chunk.done) return;
          text += decoder.decode(chunk.value, { stream: true });
          const blocks = text.split('\n\n');
          text = blocks.pop() ?? '';
          for (const block of blocks) {
            const data = /^event: warden\ndata: (.*)$/m.exec(block)?.[1];
            if (data !== undefined) seen.push(title(JSON.parse(data) as WardenEvent));
          }
        }
      },
      close: () => reader.cancel(),
    };
  }

  it('gives every event once, by `after` and on the stream, when transactions commit out of id order', async () => {
    const polled = await poller();
    const live = await stream();
    // `early` takes its xid first but commits the larger id; `late` stays open.
    const o = await outOfOrder(schema);
    let fromEnd: Awaited<ReturnType<typeof poller>> | undefined;
    try {
      await polled.drain();
      expect(polled.seen).toEqual([FINAL_ORDER[0]]);
      await live.until(1);
      // `third` commits while `late` is still open; a client starting now from the newest
      // page must not start past `late`.
      await insertEvent(o.third, FINAL_ORDER[2]);
      fromEnd = await poller();
      await o.late.query('COMMIT');
    } finally {
      await o.close();
    }
    const want = [...FINAL_ORDER];
    await polled.drain();
    await fromEnd.drain();
    await live.until(3);
    await live.close();
    expect(polled.seen).toEqual(want);
    expect(fromEnd.seen).toEqual(want.slice(1));
    expect(live.seen).toEqual(want);
    // Let the cancelled stream take its last look before the store closes.
    await new Promise((resolve) => setTimeout(resolve, 30));
  });
});
