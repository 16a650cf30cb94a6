/**
 * A pull worker with many slots against a real `warden serve` on PostgreSQL (issue #16): its
 * claims carry several results at once, which serve makes in one transaction
 * (src/store/sql/report-batch.ts). A pass-through (real HTTP both ways) loses the answer to
 * the first claim that carries more than one, so the worker sends them all again: every task
 * still ends once, with its own result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/sdk/client.js';
import { createWorker } from '../../src/sdk/worker.js';
import type { WardenWorker } from '../../src/sdk/worker.js';
import { closePassThroughs, passThrough } from '../helpers/claim-pass-through.js';
import { TestHome, waitFor } from '../helpers/host.js';
import { wardenDb } from '../helpers/hosts.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

let home: TestHome | undefined;
const workers: WardenWorker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await closePassThroughs();
  await home?.cleanup();
});

describe.skipIf(!PG_URL)('a pull worker with 8 slots on PostgreSQL (issue #16)', () => {
  it('reports its slots together, and a group whose answer was lost counts once', async () => {
    const h = new TestHome();
    home = h;
    Object.assign(h.env, { WARDEN_DB: wardenDb(PG_URL ?? '', freshPgSchema()) });
    await h.init();
    await h.ok(['profile', 'add', 'noop', '--pull']);
    const { token } = JSON.parse(
      await h.ok(['token', 'create', 'noops', '--profile', 'noop', '--json']),
    ) as { token: string };
    const serve = await h.serve();
    const admin = readFileSync(join(h.root, 'admin.token'), 'utf8').trim();
    const client = createClient({ url: serve.url, token: admin });
    const ids: number[] = [];
    for (let i = 0; i < 24; i++)
      ids.push((await client.createTask({ title: `t${i}`, assignee: 'noop' })).id);

    const proxy = await passThrough(serve.url, 'lose-first-group');
    const worker = createWorker({
      url: proxy.url,
      token,
      concurrency: 8,
      claimWaitMs: 200,
      handler: (job) => Promise.resolve({ summary: `did ${job.task.title}` }),
    });
    workers.push(worker);
    await worker.start();
    const tasks = await waitFor('every task to be done', async () => {
      const all = await Promise.all(ids.map((id) => client.getTask(id)));
      return all.every((t) => t.status === 'done') ? all : undefined;
    });
    await worker.stop();

    expect(tasks.map((t) => t.result?.summary)).toEqual(ids.map((_, i) => `did t${i}`));
    for (const t of tasks) {
      expect(t.runs.map((r) => [r.state, r.outcome])).toEqual([['ended', 'completed']]);
      const events = await client.events({ task: t.id, limit: 100 });
      expect(events.filter((e) => e.kind === 'run_ended')).toHaveLength(1);
    }
    // Claims carried their slots' results in groups, and the lost group was sent again.
    const carried = proxy.seen.map((s) => s.reports.map((r) => r.summary));
    const first = carried.find((c) => c.length > 1) ?? [];
    expect(first.length).toBeGreaterThan(1);
    expect(carried.filter((c) => first.every((s) => c.includes(s)))).toHaveLength(2);
  });
});
