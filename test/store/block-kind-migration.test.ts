import { describe, expect } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { SqlDb } from '../../src/store/sql/driver.js';
import type { Store } from '../../src/store/store.js';
import { dataMove, onBothBackends } from './migration-harness.js';

/**
 * Before issue #14 every block was `needs_input`, a task warden gave up on as much as a real
 * question. The migration that types blocks gives the ones warden made the kind `failed` and a
 * spent budget's the kind `budget`, and leaves a worker's or a person's own. Both backends.
 */

const ana = person('ana');

async function check(
  store: Store,
  db: SqlDb,
  migrations: readonly { sql: string }[],
): Promise<void> {
  await store.addBoard('default', ana);
  const rules = ['gave_up', 'stall_loop', 'config_error', 'budget', 'worker', 'person'];
  const ids: number[] = [];
  for (const rule of rules) {
    const t = await store.createTask({ title: rule }, ana);
    // As a version before #14 left it: every block needs_input.
    await db.run(
      "UPDATE tasks SET status = 'blocked', block_kind = 'needs_input', block_rule = ?, block_reason = ? WHERE id = ?",
      [rule, `${rule}: why`, t.id],
    );
    ids.push(t.id);
  }
  for (const statement of dataMove(migrations, "SET block_kind = 'failed'"))
    await db.exec(statement);
  const kinds = await Promise.all(ids.map(async (id) => (await store.getTask(id)).block_kind));
  expect(kinds).toEqual(['failed', 'failed', 'failed', 'budget', 'needs_input', 'needs_input']);
}

describe('typing the blocks made before issue #14', () => {
  onBothBackends(check);
});
