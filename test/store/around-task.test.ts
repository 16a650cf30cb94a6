/*
 * Closing a run reads a task's latest runs ahead, before its policy says how many it needs
 * (issue #16): what was read ahead serves when it is every run the task has or enough of them,
 * and the runs are read again when the policy wants more. On a real PostgreSQL
 * (WARDEN_TEST_PG_URL); skipped without one, except in CI.
 */
import { describe, expect, it } from 'vitest';
import { PgDriver } from '../../src/store/postgres/driver.js';
import { recentRuns } from '../../src/store/sql/around-task.js';
import { PG_URL, freshPgSchema } from '../helpers/pg-schemas.js';

const URL = PG_URL;

/** A task (id 1) with `count` runs, attempts 1..count; run ids are 1000 + attempt. */
async function withRuns(count: number): Promise<PgDriver> {
  const schema = freshPgSchema();
  const driver = await PgDriver.connect({ url: URL ?? '', schema, max: 2 });
  await driver.exec('CREATE TABLE runs (id BIGINT PRIMARY KEY, task_id BIGINT, attempt INTEGER)');
  for (let a = 1; a <= count; a++)
    await driver.run('INSERT INTO runs (id, task_id, attempt) VALUES (?, 1, ?)', [1000 + a, a]);
  return driver;
}

describe.skipIf(!URL)('recentRuns', () => {
  it('takes the latest runs from those read ahead when they are every run the task has', async () => {
    // The table disagrees on purpose: an answer from it would show.
    const driver = await withRuns(3);
    try {
      expect(await recentRuns(driver, 1, 2, [9, 8, 7])).toEqual([9, 8]);
      expect(await recentRuns(driver, 1, 10, [9, 8, 7])).toEqual([9, 8, 7]);
    } finally {
      await driver.close();
    }
  });

  it('reads the runs again when the policy wants more than were read ahead', async () => {
    const driver = await withRuns(70);
    try {
      const ahead = Array.from({ length: 64 }, (_, i) => 1070 - i);
      // 64 read ahead and 10 wanted: those read ahead serve.
      expect(await recentRuns(driver, 1, 10, ahead)).toEqual(ahead.slice(0, 10));
      // 64 read ahead may not be all of them: 70 wanted are read from the table, newest first.
      const all = await recentRuns(driver, 1, 70, ahead);
      expect(all).toHaveLength(70);
      expect(all.slice(0, 3)).toEqual([1070, 1069, 1068]);
      expect(all.at(-1)).toBe(1001);
      // Nothing read ahead: read now.
      expect(await recentRuns(driver, 1, 2, undefined)).toEqual([1070, 1069]);
    } finally {
      await driver.close();
    }
  });
});
