import { describe, expect } from 'vitest';
import { person } from '../../src/core/actor.js';
import type { SqlDb } from '../../src/store/sql/driver.js';
import type { Store } from '../../src/store/store.js';
import { dataMove, onBothBackends } from './migration-harness.js';

/**
 * A run a person's stop fenced before the stop intent had its own column kept the intent in
 * its reason's `extra`. The migration that adds the column moves it, so a `serve` upgraded
 * while such a run ends still applies what the person asked for. Both backends.
 */
const ana = person('ana');

async function check(
  store: Store,
  db: SqlDb,
  migrations: readonly { sql: string }[],
): Promise<void> {
  await store.addBoard('default', ana);
  await store.addProfile('p', { argv: ['true'] }, ana);
  const legacy = {
    rule: 'stopped_by',
    message: 'stopped by ana',
    extra: { pid: 12, requeue: true, reassign: null, block_kind: 'transient' },
  };
  const plain = { rule: 'stall_timeout', message: 'silent' };
  const ids: number[] = [];
  for (const reason of [legacy, plain]) {
    await store.createTask({ title: 't', assignee: 'p' }, ana);
    const [c] = await store.claimRuns(
      { host: 'h1', maxWorkers: 9, limit: 1, mode: 'spawned' },
      null,
    );
    if (!c) throw new Error('nothing claimed');
    await db.run("UPDATE runs SET state = 'ending', reason = ?, stop_intent = NULL WHERE id = ?", [
      JSON.stringify(reason),
      c.run.id,
    ]);
    ids.push(c.run.id);
  }
  for (const statement of dataMove(migrations, 'ADD COLUMN stop_intent')) await db.exec(statement);
  const [stopped, stalled] = await Promise.all(ids.map((id) => store.getRun(id)));
  expect(stopped?.stop_intent).toEqual({
    requeue: true,
    archive: false,
    now: false,
    reassign: null,
    kind: 'transient',
  });
  expect(stalled?.stop_intent).toBeNull();
  // The run closes as the person asked: requeued, not blocked.
  const task = await store.finishRun(
    ids[0] ?? 0,
    { outcome: 'stopped', reason: { rule: 'stopped_by', message: 'stopped by ana' } },
    { host: 'h1', config: {} },
  );
  expect(task?.status).toBe('ready');
}

describe('moving a stop intent out of the reason', () => {
  onBothBackends(check);
});
