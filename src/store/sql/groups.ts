import type { Actor } from '../../core/actor.js';
import { invalid } from '../../core/errors.js';
import { checkName } from '../../core/checks.js';
import type { GroupInfo } from '../store.js';
import type { SqlDb } from './driver.js';
import { appendEvent } from './events.js';

interface GroupRow {
  name: string;
  max_concurrency: number | null;
  scope: string;
  not_before: number | null;
}

function toGroup(row: GroupRow): GroupInfo {
  return {
    name: row.name,
    max_concurrency: row.max_concurrency,
    scope: row.scope === 'host' ? 'host' : 'board',
    not_before: row.not_before,
  };
}

/** Every concurrency group, by name. */
export async function listGroups(db: SqlDb): Promise<GroupInfo[]> {
  return (await db.all<GroupRow>('SELECT * FROM concurrency_groups ORDER BY name')).map(toGroup);
}

/** Sets a group's cap and scope, keeping any cooldown it has. */
export async function setGroup(
  db: SqlDb,
  now: number,
  name: string,
  max: number | null,
  scope: 'board' | 'host',
  actor: Actor,
): Promise<GroupInfo> {
  checkName(name, 'group name');
  if (max !== null && (!Number.isSafeInteger(max) || max < 1)) {
    throw invalid('max-concurrency: expected a whole number of at least 1');
  }
  await db.run(
    `INSERT INTO concurrency_groups (name, max_concurrency, scope, not_before, updated_at) VALUES (?, ?, ?, NULL, ?)
     ON CONFLICT (name) DO UPDATE SET max_concurrency = excluded.max_concurrency, scope = excluded.scope, updated_at = excluded.updated_at`,
    [name, max, scope, now],
  );
  await appendEvent(db, now, actor, {
    kind: 'group_set',
    payload: { group: name, max_concurrency: max, scope },
  });
  const row = await db.get<GroupRow>('SELECT * FROM concurrency_groups WHERE name = ?', [name]);
  if (!row) throw new Error('group upsert lost its row');
  return toGroup(row);
}
