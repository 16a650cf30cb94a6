import type { Actor } from '../../core/actor.js';
import { formatActor } from '../../core/actor.js';
import { conflict, illegalState, invalid, notFound } from '../../core/errors.js';
import type { Json } from '../../core/events.js';
import type { TaskId } from '../../core/glossary.js';
import { INPUT_LIMITS } from '../../core/defaults.js';
import { OPEN_STATUSES, RELEASING_SQL, TaskStatus } from '../../core/status.js';
import type { Comment, NewTask, Task, TaskCursor, TaskFilter, TaskPatch } from '../../core/task.js';
import { parsePolicyKeys, parsePolicyOverrides } from '../../core/policy.js';
import { byteLength, checkCharacters } from '../../core/checks.js';
import { inputSchemas } from './input-schemas.js';
import type { SqlDb, SqlParam } from './driver.js';
import { appendEvent } from './events.js';
import { idIn } from './id-list.js';
import { searchOf, searchedTasks } from './search.js';
import type { Search } from './search.js';
import { toComment, toTask } from './rows.js';
import type { CommentRow, TaskRow } from './rows.js';

function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/**
 * Reads the links of many tasks at once: parents and children per id. One statement whatever the
 * count of ids (`idIn`), as two index walks, one per column, merged: the children's links through
 * `task_links_child`, the parents' through the primary key.
 */
async function linksOf(
  db: SqlDb,
  ids: readonly number[],
): Promise<{ parents: Map<number, number[]>; children: Map<number, number[]> }> {
  const parents = new Map<number, number[]>();
  const children = new Map<number, number[]>();
  if (ids.length === 0) return { parents, children };
  const asChild = idIn(db, 'child_id', ids);
  const asParent = idIn(db, 'parent_id', ids);
  const rows = await db.all<{ parent_id: number; child_id: number }>(
    `SELECT parent_id, child_id FROM task_links WHERE ${asChild.sql}
     UNION
     SELECT parent_id, child_id FROM task_links WHERE ${asParent.sql}
     ORDER BY parent_id, child_id`,
    [asChild.param, asParent.param],
  );
  const wanted = new Set(ids);
  const add = (map: Map<number, number[]>, id: number, linked: number): void => {
    const list = map.get(id);
    if (list) list.push(linked);
    else map.set(id, [linked]);
  };
  for (const { parent_id, child_id } of rows) {
    if (wanted.has(child_id)) add(parents, child_id, parent_id);
    if (wanted.has(parent_id)) add(children, parent_id, child_id);
  }
  return { parents, children };
}

/** One task row, or `not_found`. */
export async function taskRow(db: SqlDb, id: TaskId): Promise<TaskRow> {
  const row = await db.get<TaskRow>('SELECT * FROM tasks WHERE id = ?', [id]);
  if (!row) throw missingTask(id);
  return row;
}

function missingTask(id: TaskId): Error {
  return notFound(`task ${id} does not exist; list tasks with \`warden list\``, { id });
}

/** One task with its links, or `not_found`. */
export async function getTask(db: SqlDb, id: TaskId): Promise<Task> {
  // One statement: a task is read several times in each claim and completion.
  const row = await db.get<LinkedTaskRow>(
    `SELECT t.*, ${linkColumns(db, 't')} FROM tasks t WHERE t.id = ?`,
    [id],
  );
  if (!row) throw missingTask(id);
  return toLinkedTask(row);
}

/** A task's row with its links as `linkColumns` selects them. */
export type LinkedTaskRow = TaskRow & { parent_ids: string | null; child_ids: string | null };

/** The task's parents and children as two columns, for the task row named `t`. */
export function linkColumns(db: SqlDb, t: string): string {
  return `(SELECT ${idList(db, 'parent_id')} FROM task_links WHERE child_id = ${t}.id) AS parent_ids,
       (SELECT ${idList(db, 'child_id')} FROM task_links WHERE parent_id = ${t}.id) AS child_ids`;
}

/** A task from a row read with `linkColumns`. */
export function toLinkedTask(row: LinkedTaskRow): Task {
  const { parent_ids, child_ids, ...task } = row;
  return toTask(task, ids(parent_ids), ids(child_ids));
}

/** A column's values as one comma-separated text, in order (null when there are none). */
function idList(db: SqlDb, column: string): string {
  return db.dialect === 'postgres'
    ? `string_agg(CAST(${column} AS TEXT), ',' ORDER BY ${column})`
    : `group_concat(${column}, ',' ORDER BY ${column})`;
}

function ids(list: string | null): number[] {
  return list === null || list === '' ? [] : list.split(',').map(Number);
}

/** Whether no parent of a task holds it back (`holdsChildren`; true when it has none). */
export async function parentsDone(db: SqlDb, id: TaskId): Promise<boolean> {
  const row = await db.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM task_links l JOIN tasks p ON p.id = l.parent_id WHERE l.child_id = ? AND p.status NOT IN ${RELEASING_SQL}`,
    [id],
  );
  return Number(row?.n ?? 0) === 0;
}

async function requireBoard(db: SqlDb, board: string): Promise<void> {
  const row = await db.get('SELECT name FROM boards WHERE name = ?', [board]);
  if (!row) {
    throw notFound(`board '${board}' does not exist; add it with \`warden board add ${board}\``, {
      board,
    });
  }
}

/** Refuses an assignee that names no profile, so a typo never leaves a card stuck. */
export async function requireProfile(db: SqlDb, name: string): Promise<void> {
  const row = await db.get('SELECT name FROM profiles WHERE name = ?', [name]);
  if (!row) {
    throw notFound(
      `profile '${name}' does not exist; see \`warden profile list\` or add it with \`warden profile add ${name} -- COMMAND\``,
      { profile: name },
    );
  }
}

/** Whether a profile's tasks wait for a person's approval (`--require-approval`). */
async function profileRequiresApproval(db: SqlDb, name: string): Promise<boolean> {
  const row = await db.get<{ spec: string }>('SELECT spec FROM profiles WHERE name = ?', [name]);
  return (
    row !== undefined &&
    (JSON.parse(row.spec) as { require_approval?: boolean }).require_approval === true
  );
}

/** Creates a task (see `Store.createTask`). */
export async function createTask(
  db: SqlDb,
  now: number,
  raw: NewTask,
  actor: Actor,
): Promise<Task> {
  const { policy: rawPolicy, ...fields } = raw;
  const schemas = await inputSchemas();
  const input = {
    ...schemas.parseInput(schemas.newTask, fields, 'task'),
    policy: parsePolicyOverrides(rawPolicy, 'policy'),
  };
  const board = input.board ?? 'default';
  await requireBoard(db, board);
  if (input.idempotency_key !== undefined) {
    const existing = await db.get<{ id: number }>(
      "SELECT id FROM tasks WHERE board = ? AND idempotency_key = ? AND status NOT IN ('done', 'archived')",
      [board, input.idempotency_key],
    );
    if (existing) return getTask(db, existing.id);
  }
  if (input.assignee) await requireProfile(db, input.assignee);
  const parents = [...new Set(input.parents ?? [])];
  let allDone = true;
  for (const parent of parents) {
    const row = await taskRow(db, parent);
    if (row.board !== board) {
      throw conflict(
        `parent ${parent} is on board '${row.board}', not '${board}'; link tasks of one board only`,
      );
    }
    if (row.status === TaskStatus.archived) {
      throw conflict(`parent ${parent} is archived; an archived task cannot be a parent`);
    }
    if (row.status !== TaskStatus.done) allDone = false;
  }
  const status = input.triage ? TaskStatus.triage : allDone ? TaskStatus.ready : TaskStatus.todo;
  const createdByTask = actor.kind === 'worker' ? actor.taskId : null;
  const needsApproval =
    input.needs_approval === true ||
    (input.assignee ? await profileRequiresApproval(db, input.assignee) : false);
  const inserted = await db.get<{ id: number }>(
    `INSERT INTO tasks (board, title, body, assignee, priority, status, policy, created_by, created_by_task, idempotency_key, needs_approval, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [
      board,
      input.title,
      input.body ?? '',
      input.assignee ?? null,
      input.priority ?? 0,
      status,
      JSON.stringify(input.policy ?? {}),
      formatActor(actor),
      createdByTask,
      input.idempotency_key ?? null,
      needsApproval ? 1 : 0,
      now,
      now,
    ],
  );
  const id = Number(inserted?.id);
  // A delay (`create --not-before`): a ready task waiting until then. A past time means now.
  if (input.not_before != null && input.not_before > now) {
    await db.run('UPDATE tasks SET not_before = ? WHERE id = ?', [input.not_before, id]);
  }
  for (const parent of parents) {
    await db.run('INSERT INTO task_links (parent_id, child_id, created_at) VALUES (?, ?, ?)', [
      parent,
      id,
      now,
    ]);
  }
  await appendEvent(db, now, actor, {
    kind: 'task_created',
    board,
    task_id: id,
    payload: {
      title: input.title,
      status,
      assignee: input.assignee ?? null,
      priority: input.priority ?? 0,
      parents,
    },
  });
  return getTask(db, id);
}

/** The WHERE clause of a filter (without its limit and offset); null when it matches nothing. */
function taskWhere(
  db: SqlDb,
  filter: TaskFilter,
  search: Search | undefined,
): { from: string; sql: string; params: SqlParam[] } | null {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (filter.board !== undefined) {
    where.push('board = ?');
    params.push(filter.board);
  }
  if (filter.statuses !== undefined && filter.statuses.length > 0) {
    where.push(`status IN (${placeholders(filter.statuses.length)})`);
    params.push(...filter.statuses);
  } else if (!filter.include_archived) {
    where.push("status <> 'archived'");
  }
  if (filter.assignee !== undefined) {
    where.push('assignee = ?');
    params.push(filter.assignee);
  }
  if (search) {
    where.push(search.sql);
    params.push(...search.params);
  }
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) return null;
    const among = idIn(db, 'id', filter.ids);
    where.push(among.sql);
    params.push(among.param);
  }
  return {
    from: search ? searchedTasks(db) : 'tasks',
    sql: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '',
    params,
  };
}

/** How many tasks match a filter, whatever its limit (see `Store.countMatchingTasks`). */
export async function countMatchingTasks(db: SqlDb, filter: TaskFilter): Promise<number> {
  const w = taskWhere(db, filter, await searchOf(db, filter.q, filter.board));
  if (w === null) return 0;
  const row = await db.get<{ n: number | string }>(
    `SELECT COUNT(*) AS n FROM ${w.from} ${w.sql}`,
    w.params,
  );
  return Number(row?.n ?? 0);
}

/** Tasks matching a filter (see `Store.listTasks`). */
export async function listTasks(db: SqlDb, filter: TaskFilter): Promise<Task[]> {
  const w = taskWhere(db, filter, await searchOf(db, filter.q, filter.board));
  if (w === null) return [];
  const limit = Math.min(filter.limit ?? INPUT_LIMITS.list_max, INPUT_LIMITS.list_max);
  const rows =
    filter.after === undefined
      ? await db.all<TaskRow>(
          `SELECT * FROM ${w.from} ${w.sql} ORDER BY priority DESC, id LIMIT ? OFFSET ?`,
          [...w.params, limit, filter.offset ?? 0],
        )
      : await pageAfter(db, w, filter.after, limit);
  const { parents, children } = await linksOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => toTask(r, parents.get(r.id) ?? [], children.get(r.id) ?? []));
}

/**
 * A page after a cursor (keyset paging): the rest of the cursor's priority after its id, then
 * the lower priorities. Two ranges of an index in the listing's order, each read from its
 * start, so a deep page costs what the first does; one `(priority, id) <` comparison could not
 * be an index range, as priority runs high to low and id low to high.
 */
async function pageAfter(
  db: SqlDb,
  w: { from: string; sql: string; params: SqlParam[] },
  after: TaskCursor,
  limit: number,
): Promise<TaskRow[]> {
  const and = w.sql === '' ? 'WHERE' : `${w.sql} AND`;
  return db.all<TaskRow>(
    `SELECT * FROM (SELECT * FROM ${w.from} ${and} priority = ? AND id > ? ORDER BY id LIMIT ?) AS same_priority
     UNION ALL
     SELECT * FROM (SELECT * FROM ${w.from} ${and} priority < ? ORDER BY priority DESC, id LIMIT ?) AS lower_priority
     ORDER BY priority DESC, id LIMIT ?`,
    [...w.params, after.priority, after.id, limit, ...w.params, after.priority, limit, limit],
  );
}

/** Changes the fields of a task people may edit (see `Store.editTask`). */
export async function editTask(
  db: SqlDb,
  now: number,
  id: TaskId,
  raw: TaskPatch,
  actor: Actor,
): Promise<Task> {
  const { policy: rawPolicy, clear_policy, ...fields } = raw;
  const schemas = await inputSchemas();
  const patch = {
    ...schemas.parseInput(schemas.taskPatch, fields, 'edit'),
    policy: parsePolicyOverrides(rawPolicy, 'policy'),
    clear_policy: parsePolicyKeys(clear_policy ?? [], 'clear_policy'),
  };
  const before = await getTask(db, id);
  if (before.status === TaskStatus.archived) {
    throw illegalState(`task ${id} is archived; archived tasks cannot be edited`);
  }
  const changes: Record<string, { from: Json; to: Json }> = {};
  const next = { ...before };
  for (const key of ['title', 'body', 'assignee', 'priority'] as const) {
    const value = patch[key];
    if (value !== undefined && value !== before[key]) {
      changes[key] = { from: before[key], to: value };
      (next as Record<string, unknown>)[key] = value;
    }
  }
  if (patch.assignee !== undefined && patch.assignee !== null)
    await requireProfile(db, patch.assignee);
  if (changes.assignee && before.current_run_id !== null) {
    throw illegalState(
      `task ${id} is running; stop it with \`warden stop ${id}\` before reassigning it`,
    );
  }
  const policy: Record<string, unknown> = { ...before.policy };
  for (const key of patch.clear_policy) delete policy[key];
  Object.assign(policy, patch.policy);
  if (JSON.stringify(policy) !== JSON.stringify(before.policy)) {
    changes.policy = { from: before.policy, to: policy as Json };
  }
  if (Object.keys(changes).length === 0) return before;
  await db.run(
    'UPDATE tasks SET title = ?, body = ?, assignee = ?, priority = ?, policy = ?, updated_at = ? WHERE id = ?',
    [next.title, next.body, next.assignee, next.priority, JSON.stringify(policy), now, id],
  );
  const payload: Record<string, Json> = {};
  for (const [key, change] of Object.entries(changes)) {
    // A body can be large: the event keeps its size, the task keeps the text.
    payload[key] =
      key === 'body'
        ? { from_bytes: byteLength(before.body), to_bytes: byteLength(next.body) }
        : change;
  }
  await appendEvent(db, now, actor, {
    kind: 'task_edited',
    board: before.board,
    task_id: id,
    payload,
  });
  return getTask(db, id);
}

/** Adds a comment to a task (see `Store.addComment`). */
export async function addComment(
  db: SqlDb,
  now: number,
  id: TaskId,
  body: string,
  actor: Actor,
): Promise<Comment> {
  if (body.trim().length === 0) throw invalid('comment: must not be empty');
  if (byteLength(body) > INPUT_LIMITS.comment_max_bytes) {
    throw invalid(`comment: must be at most ${INPUT_LIMITS.comment_max_bytes} bytes`);
  }
  checkCharacters(body, 'comment', true);
  const task = await taskRow(db, id);
  const row = await db.get<CommentRow>(
    'INSERT INTO comments (task_id, actor, body, at) VALUES (?, ?, ?, ?) RETURNING *',
    [id, formatActor(actor), body, now],
  );
  if (!row) throw new Error('comment insert returned no row');
  await appendEvent(db, now, actor, {
    kind: 'task_commented',
    board: task.board,
    task_id: id,
    payload: { comment_id: row.id, bytes: byteLength(body) },
  });
  return toComment(row);
}

/** A task's comments, oldest first. */
export async function listComments(db: SqlDb, id: TaskId): Promise<Comment[]> {
  await taskRow(db, id);
  const rows = await db.all<CommentRow>('SELECT * FROM comments WHERE task_id = ? ORDER BY id', [
    id,
  ]);
  return rows.map(toComment);
}

/** The statuses that count as open, for SQL `IN` lists. */
export const OPEN_STATUS_LIST = OPEN_STATUSES.map((s) => `'${s}'`).join(', ');

/** Tasks per status of a board, optionally only those matching a search. */
export async function countTasks(
  db: SqlDb,
  board: string,
  q?: string,
): Promise<Record<string, number>> {
  return countMatching(db, board, await searchOf(db, q, board));
}

/**
 * A board's running tasks counted by assignee (`-` for none): one grouped read, where listing
 * them read every running task and its links (3,300 on a board of 100,000: 40 ms and more on
 * PostgreSQL, at every load of the dashboard's health panel).
 */
export async function runningByAssignee(db: SqlDb, board: string): Promise<Record<string, number>> {
  const rows = await db.all<{ assignee: string | null; n: number }>(
    "SELECT assignee, COUNT(*) AS n FROM tasks WHERE board = ? AND status = 'running' GROUP BY assignee",
    [board],
  );
  return Object.fromEntries(rows.map((r) => [r.assignee ?? '-', Number(r.n)]));
}

/** Tasks per status of a board, optionally only those a resolved search matches. */
export async function countMatching(
  db: SqlDb,
  board: string,
  search: Search | undefined,
): Promise<Record<string, number>> {
  const lowered = search?.lowered;
  const [sql, params]: [string, SqlParam[]] = lowered
    ? [
        `SELECT t.status, COUNT(*) AS n FROM task_search s JOIN tasks t ON t.id = s.task_id
         WHERE t.board = ? AND s.board = ? AND ${lowered.sql} GROUP BY t.status`,
        [board, board, ...lowered.params],
      ]
    : [
        `SELECT status, COUNT(*) AS n FROM ${search ? searchedTasks(db) : 'tasks'} WHERE board = ? ${search ? `AND ${search.sql}` : ''} GROUP BY status`,
        [board, ...(search ? search.params : [])],
      ];
  const rows = await db.all<{ status: string; n: number }>(sql, params);
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
