import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcher, person } from '../../src/core/actor.js';
import { WardenError } from '../../src/core/errors.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');
const host = dispatcher('h1');
const MIN = 60_000;
const HOUR = 60 * MIN;

async function refusal(promise: Promise<unknown>): Promise<WardenError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WardenError);
  return err as WardenError;
}

/** Schedules (issue #14), run against every backend with an injected clock. */
export function runScheduleSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store schedules: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('adds a schedule due at its first firing after now, and fires one task per firing', async () => {
      // The fixture's clock starts at 2026-01-01T00:00:00Z.
      const start = f.clock.now();
      const s = await store.addSchedule(
        { name: 'hourly', cron: '0 * * * *', template: { title: 'tidy up', priority: 3 } },
        ana,
      );
      expect(s).toMatchObject({ board: 'default', tz: 'UTC', catch_up: 'skip', paused: false });
      expect(s.next_at).toBe(start + HOUR);
      expect(await store.fireDueSchedules(host)).toEqual([]);

      f.clock.advance(HOUR + 2000);
      const [firing] = await store.fireDueSchedules(host);
      expect(firing).toMatchObject({ schedule: 'hourly', fire_at: start + HOUR, missed: 0 });
      expect(firing?.next_at).toBe(start + 2 * HOUR);
      const task = await store.getTask(firing?.task_id ?? 0);
      expect(task).toMatchObject({ title: 'tidy up', priority: 3, status: 'ready' });
      expect(task.idempotency_key).toBe('schedule:hourly:2026-01-01T01:00:00.000Z');
      // Fired once: a second pass at the same time makes nothing.
      expect(await store.fireDueSchedules(host)).toEqual([]);
      expect(await store.getSchedule('hourly')).toMatchObject({
        fired: 1,
        skipped: 0,
        last_task_id: task.id,
        next_at: start + 2 * HOUR,
      });
      const kinds = (await store.listEvents({ board: 'default' })).map((e) => e.kind);
      expect(kinds).toContain('schedule_added');
      expect(kinds).toContain('schedule_fired');
    });

    it('skips missed firings by default, says how many, and schedules the next one after now', async () => {
      const start = f.clock.now();
      await store.addSchedule(
        { name: 'quarter', cron: '*/15 * * * *', template: { title: 'check' } },
        ana,
      );
      // Down for 2 h 5 min: eight firings passed, the last one five minutes ago.
      f.clock.advance(2 * HOUR + 5 * MIN);
      const [firing] = await store.fireDueSchedules(host);
      expect(firing).toMatchObject({ task_id: null, fire_at: null, missed: 8 });
      expect(firing?.next_at).toBe(start + 2 * HOUR + 15 * MIN);
      expect(await store.listTasks({ board: 'default' })).toEqual([]);
      const [skipped] = await store.listEvents({ kinds: ['schedule_skipped'] });
      expect(skipped?.payload).toMatchObject({ schedule: 'quarter', skipped: 8 });
      expect(await store.getSchedule('quarter')).toMatchObject({ fired: 0, skipped: 8 });
    });

    it('with skip, a firing still on time is made and only the older ones are skipped', async () => {
      await store.addSchedule(
        { name: 'quarter', cron: '*/15 * * * *', template: { title: 'check' } },
        ana,
      );
      f.clock.advance(45 * MIN + 10_000);
      const [firing] = await store.fireDueSchedules(host);
      expect(firing?.task_id).not.toBeNull();
      expect(firing?.missed).toBe(2);
      expect(await store.getSchedule('quarter')).toMatchObject({ fired: 1, skipped: 2 });
    });

    it('with once, one task stands for every missed firing, then the schedule goes on', async () => {
      const start = f.clock.now();
      await store.addSchedule(
        {
          name: 'catchup',
          cron: '*/15 * * * *',
          catch_up: 'once',
          template: { title: 'report' },
        },
        ana,
      );
      f.clock.advance(2 * HOUR + 5 * MIN);
      const [firing] = await store.fireDueSchedules(host);
      expect(firing).toMatchObject({ fire_at: start + 2 * HOUR, missed: 7 });
      expect(await store.listTasks({ board: 'default' })).toHaveLength(1);
      const [fired] = await store.listEvents({ kinds: ['schedule_fired'] });
      expect(fired?.payload).toMatchObject({ schedule: 'catchup', covers: 7 });
      // Back on schedule: the next firing makes one more task.
      f.clock.advance(10 * MIN + 1000);
      const [next] = await store.fireDueSchedules(host);
      expect(next).toMatchObject({ fire_at: start + 2 * HOUR + 15 * MIN, missed: 0 });
      expect(await store.listTasks({ board: 'default' })).toHaveLength(2);
    });

    it('reads the expression in the schedule zone', async () => {
      // 09:00 in Oslo is 08:00 UTC in January.
      const s = await store.addSchedule(
        { name: 'oslo', cron: '0 9 * * *', tz: 'Europe/Oslo', template: { title: 'standup' } },
        ana,
      );
      expect(new Date(s.next_at ?? 0).toISOString()).toBe('2026-01-01T08:00:00.000Z');
    });

    it('pauses and resumes; a resumed schedule waits for its first firing after now', async () => {
      const start = f.clock.now();
      await store.addSchedule({ name: 'p', cron: '0 * * * *', template: { title: 't' } }, ana);
      expect((await store.setSchedulePaused('p', true, ana)).paused).toBe(true);
      f.clock.advance(3 * HOUR + MIN);
      expect(await store.fireDueSchedules(host)).toEqual([]);
      const resumed = await store.setSchedulePaused('p', false, ana);
      expect(resumed).toMatchObject({ paused: false, next_at: start + 4 * HOUR, skipped: 0 });
      expect(await store.fireDueSchedules(host)).toEqual([]);
      const kinds = (await store.listEvents({})).map((e) => e.kind);
      expect(kinds).toEqual(expect.arrayContaining(['schedule_paused', 'schedule_resumed']));
    });

    it('removes a schedule and keeps the tasks it made', async () => {
      await store.addSchedule({ name: 'r', cron: '@hourly', template: { title: 't' } }, ana);
      f.clock.advance(HOUR);
      await store.fireDueSchedules(host);
      await store.removeSchedule('r', ana);
      expect(await store.listSchedules()).toEqual([]);
      expect(await store.listTasks({ board: 'default' })).toHaveLength(1);
      expect((await refusal(store.getSchedule('r'))).code).toBe('not_found');
      expect((await refusal(store.removeSchedule('r', ana))).code).toBe('not_found');
    });

    it('refuses bad input with one line and stores nothing', async () => {
      const bad = await refusal(
        store.addSchedule({ name: 'b', cron: 'every day', template: { title: 't' } }, ana),
      );
      expect(bad.code).toBe('invalid');
      expect(bad.message).toMatch(/^cron: 'every day' is not a cron expression/);
      const range = await refusal(
        store.addSchedule({ name: 'b', cron: '61 * * * *', template: { title: 't' } }, ana),
      );
      expect(range.message).toMatch(/minute/);
      const never = await refusal(
        store.addSchedule({ name: 'b', cron: '0 0 30 2 *', template: { title: 't' } }, ana),
      );
      expect(never.message).toMatch(/never fires/);
      const zone = await refusal(
        store.addSchedule(
          { name: 'b', cron: '@daily', tz: 'Mars/Base', template: { title: 't' } },
          ana,
        ),
      );
      expect(zone.message).toMatch(/^tz: 'Mars\/Base' is not a time zone/);
      const profile = await refusal(
        store.addSchedule(
          { name: 'b', cron: '@daily', template: { title: 't', assignee: 'ghost' } },
          ana,
        ),
      );
      expect(profile.code).toBe('not_found');
      expect(profile.message).toMatch(/profile 'ghost' does not exist/);
      const board = await refusal(
        store.addSchedule(
          { name: 'b', cron: '@daily', board: 'nope', template: { title: 't' } },
          ana,
        ),
      );
      expect(board.code).toBe('not_found');
      expect(await store.listSchedules()).toEqual([]);

      await store.addSchedule({ name: 'dup', cron: '@daily', template: { title: 'first' } }, ana);
      const dup = await refusal(
        store.addSchedule({ name: 'dup', cron: '@hourly', template: { title: 'second' } }, ana),
      );
      expect(dup.code).toBe('conflict');
      expect(dup.message).toMatch(/schedule 'dup' already exists/);
      const [kept] = await store.listSchedules();
      expect(kept).toMatchObject({ cron: '@daily', template: { title: 'first' } });
      // The same schedule again (an add retried after its answer was lost) is the one there.
      const again = await store.addSchedule(
        { name: 'dup', cron: '@daily', template: { title: 'first' } },
        ana,
      );
      expect(again).toEqual(kept);
      expect(
        (await store.listEvents({ kinds: ['schedule_added'] })).map((e) => e.payload.schedule),
      ).toEqual(['dup']);
    });

    it('a template whose profile was removed skips the firing with the reason, and goes on', async () => {
      await store.addProfile('gone', { argv: ['true'] }, ana);
      await store.addSchedule(
        { name: 'orphan', cron: '@hourly', template: { title: 't', assignee: 'gone' } },
        ana,
      );
      await store.removeProfile('gone', ana);
      f.clock.advance(HOUR + 1000);
      const [firing] = await store.fireDueSchedules(host);
      expect(firing?.task_id).toBeNull();
      const [skipped] = await store.listEvents({ kinds: ['schedule_skipped'] });
      expect(skipped?.payload.reason).toMatch(/profile 'gone' does not exist/);
      expect((await store.getSchedule('orphan')).next_at).toBe(f.clock.now() - 1000 + HOUR);
    });
  });
}
