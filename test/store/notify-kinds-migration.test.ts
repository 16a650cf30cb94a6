import { describe, expect } from 'vitest';
import { person } from '../../src/core/actor.js';
import { NOTIFY_KINDS } from '../../src/core/notify.js';
import type { SqlDb } from '../../src/store/sql/driver.js';
import type { Store } from '../../src/store/store.js';
import { dataMove, onBothBackends } from './migration-harness.js';

/**
 * A subscription made without --events stores every kind there was by name. When a kind is
 * added (`profile_paused`), the migration gives it to those subscriptions, as a `notify add` of
 * them would now, and leaves a subscription that chose its kinds as it is. Both backends.
 */

const ana = person('ana');
const BEFORE = NOTIFY_KINDS.filter((k) => k !== 'profile_paused');

async function check(
  store: Store,
  db: SqlDb,
  migrations: readonly { sql: string }[],
): Promise<void> {
  await store.addBoard('default', ana);
  const every = await store.addSubscription({ url: 'http://127.0.0.1:9/every' }, ana);
  const chosen = await store.addSubscription(
    { url: 'http://127.0.0.1:9/chosen', kinds: ['gave_up', 'question'] },
    ana,
  );
  // As the version before profile_paused stored "every kind".
  await db.run('UPDATE notify_subscriptions SET kinds = ? WHERE id = ?', [
    JSON.stringify(BEFORE),
    every.id,
  ]);
  for (const statement of dataMove(migrations, '"host_lost","profile_paused"'))
    await db.exec(statement);
  expect((await store.getSubscription(every.id)).kinds).toEqual([...NOTIFY_KINDS]);
  expect((await store.getSubscription(chosen.id)).kinds).toEqual(['gave_up', 'question']);
  // `notify add` of it again finds it: no second subscription sending everything twice.
  const again = await store.addSubscription({ url: 'http://127.0.0.1:9/every' }, ana);
  expect(again.id).toBe(every.id);
}

describe('a subscription to every kind gets the kinds added later', () => {
  onBothBackends(check);
});
