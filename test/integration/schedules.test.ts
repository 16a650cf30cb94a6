import { afterEach, describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/core/schedule.js';
import { TestHome, fixture } from '../helpers/host.js';

let home: TestHome;
afterEach(async () => {
  await home.cleanup();
});

describe('serve fires schedules (issue #14)', () => {
  it('a due schedule creates its task at the next tick, and the task runs', async () => {
    home = await new TestHome().init();
    await home.profile('p', fixture('short-job.sh', '0.05'));
    await home.ok([
      'schedule',
      'add',
      'yearly',
      '--cron',
      '0 3 1 1 *',
      '--title',
      'yearly job',
      '--assignee',
      'p',
    ]);
    // Due now, as if its time had just passed: the column is backdated rather than waited for.
    // Yearly, so its real next time never falls within the test (a daily one could, at 02:59).
    const store = await home.store();
    await store.sqlite.run("UPDATE schedules SET next_at = ? WHERE name = 'yearly'", [
      Date.now() - 1000,
    ]);
    await home.serve();
    const fired = await home.waitEvent('schedule_fired');
    expect(fired.payload).toMatchObject({ schedule: 'yearly', covers: 0 });
    const taskId = fired.task_id ?? 0;
    const task = await home.waitStatus(taskId, 'done');
    expect(task).toMatchObject({ title: 'yearly job', assignee: 'p' });
    const [s] = JSON.parse(await home.ok(['schedule', 'list', '--json'])) as Schedule[];
    expect(s).toMatchObject({ fired: 1, last_task_id: taskId });
    expect(s?.next_at).toBeGreaterThan(Date.now());
    // One firing, one task, over the many ticks the run took.
    expect((await store.listTasks({ board: 'default' })).length).toBe(1);
  });
});
