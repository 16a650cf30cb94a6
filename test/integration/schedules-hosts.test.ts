/**
 * Two real `warden serve` processes on one PostgreSQL fire one schedule (issue #14): each
 * firing creates exactly one task. To make the two hosts race for every firing, both are
 * frozen (SIGSTOP) while the schedule is made due, kept frozen past their tick, and thawed
 * together: each then runs its overdue tick at once and both try the same firing. Needs
 * WARDEN_TEST_PG_URL; CI must set it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/core/schedule.js';
import type { PgStore } from '../../src/store/postgres/open.js';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { waitFor } from '../helpers/host.js';
import type { ServeProcess, TestHome } from '../helpers/host.js';
import { openShared, pgHomes } from '../helpers/hosts.js';

const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI) {
  throw new Error('WARDEN_TEST_PG_URL is not set: CI must run the two-host schedule test');
}
/** The tick TestHome.serve gives each serve (`--tick 200ms`). */
const TICK_MS = 200;
const FIRINGS = 5;

let homes: TestHome[] = [];
let shared: PgStore | null = null;
let schema = '';
let scratch = '';

afterEach(async () => {
  for (const h of homes) await h.cleanup();
  homes = [];
  await shared?.close();
  shared = null;
  if (schema !== '' && URL) {
    const admin = await PgDriver.connect({ url: URL, max: 1 });
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  }
  schema = '';
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  scratch = '';
});

/** Resolves after `ms`: how long both hosts stay frozen, so that each one's tick falls due. */
function frozenFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe.skipIf(!URL)('schedules on two hosts sharing one PostgreSQL (issue #14)', () => {
  it('two serves racing for every firing create exactly one task per firing', async () => {
    schema = `sched_hosts_${process.pid}_${Date.now()}`;
    scratch = mkdtempSync(join(tmpdir(), 'warden-sched-hosts-'));
    homes = await pgHomes(URL ?? '', schema, 2, join(scratch, 'life.log'));
    const [a, b] = homes as [TestHome, TestHome];
    shared = await openShared(URL ?? '', schema);
    const store = shared;
    // A yearly expression: the only firings in the test are the ones it makes due itself. No
    // assignee, so no worker runs and the tasks stay where the firings put them.
    await a.ok([
      'schedule',
      'add',
      'reindex',
      '--cron',
      '0 0 1 1 *',
      '--title',
      'rebuild the index',
    ]);
    const serves: ServeProcess[] = [
      await a.serve(['--host-id', 'a', '--host-ttl', '10s']),
      await b.serve(['--host-id', 'b', '--host-ttl', '10s']),
    ];

    const dues: number[] = [];
    for (let round = 1; round <= FIRINGS; round += 1) {
      for (const s of serves) s.proc.kill('SIGSTOP');
      // Due now, as if its time had just passed: the column is backdated rather than waited for.
      const due = Date.now() - 1_000;
      dues.push(due);
      await store.pg.run('UPDATE schedules SET next_at = ? WHERE name = ?', [due, 'reindex']);
      await frozenFor(TICK_MS * 2);
      for (const s of serves) s.proc.kill('SIGCONT');
      await waitFor(`firing ${round}`, async () => {
        const fired = await store.listEvents({ kinds: ['schedule_fired'], limit: 100 });
        return fired.length >= round;
      });
    }

    // Stopped, no host can still be halfway through a firing: what is stored is final.
    for (const s of serves) s.proc.kill('SIGTERM');
    expect(await Promise.all(serves.map((s) => s.exited))).toEqual([0, 0]);

    const tasks = await store.listTasks({ board: 'default', limit: 100 });
    expect(tasks).toHaveLength(FIRINGS);
    expect(tasks.map((t) => t.idempotency_key).sort()).toEqual(
      dues.map((d) => `schedule:reindex:${new Date(d).toISOString()}`).sort(),
    );
    expect(tasks.every((t) => t.title === 'rebuild the index')).toBe(true);
    expect(
      tasks.every((t) => t.created_by === 'dispatcher:a' || t.created_by === 'dispatcher:b'),
    ).toBe(true);
    const fired = await store.listEvents({ kinds: ['schedule_fired'], limit: 100 });
    expect(
      fired.map((e) => (e.payload as { fire_at: number }).fire_at).sort((x, y) => x - y),
    ).toEqual([...dues].sort((x, y) => x - y));
    expect(new Set(fired.map((e) => e.task_id)).size).toBe(FIRINGS);
    const schedule: Schedule = await store.getSchedule('reindex');
    expect(schedule).toMatchObject({ fired: FIRINGS, skipped: 0 });
    // Each host logs the tasks it made: between them, one line per firing.
    const made = serves.flatMap((s) =>
      s
        .output()
        .split('\n')
        .filter((l) => l.includes('schedule reindex: created task')),
    );
    expect(made).toHaveLength(FIRINGS);
  }, 40_000);
});
