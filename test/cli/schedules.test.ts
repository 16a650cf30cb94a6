import { describe, expect, it } from 'vitest';
import type { WardenEvent } from '../../src/core/events.js';
import type { Schedule } from '../../src/core/schedule.js';
import type { Task } from '../../src/core/task.js';
import { expectError, freshHome } from '../helpers/cli.js';

describe('warden create --not-before (issue #14)', () => {
  it('delays a task by a duration or to a time, and says when a past time means now', async (ctx) => {
    const cli = await freshHome(ctx);
    const before = Date.now();
    const later = await cli.json<Task>(['create', 'later', '--not-before', '2h']);
    expect(later.status).toBe('ready');
    expect(later.not_before).toBeGreaterThanOrEqual(before + 2 * 3_600_000);
    expect(later.not_before).toBeLessThan(Date.now() + 2 * 3_600_000 + 1000);

    const at = await cli.run(['create', 'at nine', '--not-before', '2999-05-01T09:00:00Z']);
    expect(at.code).toBe(0);
    expect(at.stdout).toMatch(/waiting until 2999-05-01T09:00:00.000Z/);

    const past = await cli.run([
      'create',
      'past',
      '--not-before',
      '2001-01-01T00:00:00Z',
      '--json',
    ]);
    expect(past.code).toBe(0);
    expect(past.stderr).toBe(
      '--not-before: 2001-01-01T00:00:00Z is already past, so the task may start now\n',
    );
    expect((JSON.parse(past.stdout) as Task).not_before).toBeNull();

    expectError(
      await cli.run(['create', 'bad', '--not-before', 'tomorrow']),
      2,
      /--not-before: 'tomorrow' is neither a time nor a duration/,
    );
    expectError(
      await cli.run(['create', 'bad', '--not-before', '2026-02-30T00:00:00Z']),
      2,
      /--not-before: '2026-02-30T00:00:00Z' is not a real date or time/,
    );
    expect((await cli.json<Task[]>(['list'])).map((t) => t.title).sort()).toEqual([
      'at nine',
      'later',
      'past',
    ]);
  });
});

describe('warden schedule (issue #14)', () => {
  it('adds, lists, pauses, resumes and removes a schedule, each an event', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['profile', 'add', 'p', '--', 'true']);
    const s = await cli.json<Schedule>([
      'schedule',
      'add',
      'standup',
      '--cron',
      '0 9 * * MON-FRI',
      '--tz',
      'Europe/Oslo',
      '--title',
      'write the standup notes',
      '--assignee',
      'p',
      '--priority',
      '5',
      '--catch-up',
      'once',
    ]);
    expect(s).toMatchObject({
      name: 'standup',
      board: 'default',
      tz: 'Europe/Oslo',
      catch_up: 'once',
      paused: false,
      template: { title: 'write the standup notes', assignee: 'p', priority: 5, body: '' },
    });
    expect(s.next_at).toBeGreaterThan(Date.now());

    const text = await cli.run(['schedule', 'list']);
    expect(text.stdout).toMatch(/^NAME +BOARD +CRON/);
    expect(text.stdout).toMatch(/standup +default +0 9 \* \* MON-FRI +Europe\/Oslo/);
    // The next firing as the schedule's own zone reads it, whatever this machine's zone.
    expect(text.stdout).toMatch(/ \d{4}-\d\d-\d\d 09:00:00 Europe\/Oslo /);
    expect(await cli.json<Schedule[]>(['schedule', 'list', '--board', 'default'])).toHaveLength(1);

    expect((await cli.json<Schedule>(['schedule', 'pause', 'standup'])).paused).toBe(true);
    expect((await cli.run(['schedule', 'list'])).stdout).toMatch(/standup .* paused /);
    const resumed = await cli.json<Schedule>(['schedule', 'resume', 'standup']);
    expect(resumed.paused).toBe(false);
    expect((await cli.run(['schedule', 'remove', 'standup'])).stdout).toBe(
      'schedule standup removed\n',
    );
    expect((await cli.run(['schedule', 'list'])).stdout).toMatch(/^no schedules/);
    const kinds = (await cli.json<WardenEvent[]>(['events'])).map((e) => e.kind);
    expect(kinds.filter((k) => k.startsWith('schedule_'))).toEqual([
      'schedule_added',
      'schedule_paused',
      'schedule_resumed',
      'schedule_removed',
    ]);
  });

  it('refuses bad input with one line and the documented exit code, storing nothing', async (ctx) => {
    const cli = await freshHome(ctx);
    await cli.json(['schedule', 'add', 'taken', '--cron', '@daily', '--title', 'first']);
    const before = cli.dbSnapshot();
    const add = (...args: string[]): ReturnType<typeof cli.run> =>
      cli.run(['schedule', 'add', ...args]);
    expectError(
      await add('b', '--cron', 'every morning', '--title', 't'),
      2,
      /cron: 'every morning' is not a cron expression: give five fields/,
    );
    expectError(
      await add('b', '--cron', '0 25 * * *', '--title', 't'),
      2,
      /cron: '0 25 \* \* \*' is not a cron expression: .*hour/,
    );
    expectError(await add('b', '--cron', '0 0 31 2 *', '--title', 't'), 2, /never fires/);
    expectError(
      await add('b', '--cron', '@daily', '--tz', 'Moon/Base', '--title', 't'),
      2,
      /tz: 'Moon\/Base' is not a time zone/,
    );
    expectError(
      await add('b', '--cron', '@daily', '--catch-up', 'all', '--title', 't'),
      2,
      /--catch-up: expected skip or once, got 'all'/,
    );
    expectError(
      await add('b', '--cron', '@daily', '--title', 't', '--assignee', 'ghost'),
      3,
      /profile 'ghost' does not exist/,
    );
    expectError(
      await add('b', '--cron', '@daily', '--title', 't', '--board', 'nope'),
      3,
      /board 'nope' does not exist/,
    );
    expectError(
      await add('taken', '--cron', '@hourly', '--title', 'second'),
      4,
      /schedule 'taken' already exists/,
    );
    expectError(
      await cli.run(['schedule', 'pause', 'missing']),
      3,
      /schedule 'missing' does not exist/,
    );
    expect(cli.dbSnapshot()).toEqual(before);
  });
});
