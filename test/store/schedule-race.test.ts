/**
 * Several hosts on one PostgreSQL fire one schedule (issue #14): two stores on one schema, each
 * with its own clock as two hosts have, call `fireDueSchedules` at the same moment, many times
 * per firing. Each firing must create exactly one task. Needs WARDEN_TEST_PG_URL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatcher, person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { openPgStore } from '../../src/store/postgres/open.js';

const URL = process.env.WARDEN_TEST_PG_URL;
if (!URL && process.env.CI) {
  throw new Error('WARDEN_TEST_PG_URL is not set: the schedule race must run in CI');
}
const schema = `warden_test_${randomBytes(6).toString('hex')}`;
const MIN = 60_000;

afterAll(async () => {
  if (!URL) return;
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

describe.skipIf(!URL)('schedules on several hosts (PostgreSQL)', () => {
  it('two hosts firing one schedule create exactly one task per firing', async () => {
    const clockA = new ManualClock();
    const clockB = new ManualClock();
    const clocks = [clockA, clockB];
    const a = await openPgStore({ url: URL ?? '', schema, max: 4 }, clockA);
    const b = await openPgStore({ url: URL ?? '', schema, max: 4 }, clockB);
    try {
      await a.addBoard('default', person('ana'));
      await a.addSchedule(
        { name: 'every-minute', cron: '* * * * *', template: { title: 'tick' } },
        person('ana'),
      );
      const firings = 15;
      for (let i = 0; i < firings; i += 1) {
        for (const c of clocks) c.advance(MIN);
        // Each host asks three times, all at once, as racing ticks would.
        const passes = await Promise.all(
          [a, b, a, b, a, b].map((s, k) => s.fireDueSchedules(dispatcher(k % 2 ? 'h2' : 'h1'))),
        );
        expect(passes.flat().filter((f) => f.task_id !== null)).toHaveLength(1);
      }
      const tasks = await a.listTasks({ board: 'default' });
      expect(tasks).toHaveLength(firings);
      expect(new Set(tasks.map((t) => t.idempotency_key)).size).toBe(firings);
      const byHost = new Set(tasks.map((t) => t.created_by));
      expect([...byHost].every((h) => h === 'dispatcher:h1' || h === 'dispatcher:h2')).toBe(true);
      expect(await b.getSchedule('every-minute')).toMatchObject({ fired: firings, skipped: 0 });
      expect(await a.listEvents({ kinds: ['schedule_fired'] })).toHaveLength(firings);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
