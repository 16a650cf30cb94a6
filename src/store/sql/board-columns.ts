import type { BoardColumns } from '../../core/task.js';
import type { TaskStatus } from '../../core/status.js';
import type { SqlDb, SqlParam } from './driver.js';
import { searchOf, searchedTasks } from './search.js';
import type { Search } from './search.js';
import { countMatching, linkColumns, listTasks, toLinkedTask } from './tasks.js';
import type { LinkedTaskRow } from './tasks.js';

/** What a board's columns are read with. */
export interface ColumnsQuery {
  board: string;
  /** A search (`TaskFilter.q`): only matching tasks are counted and listed. */
  q?: string;
  /** Tasks per column at most. */
  limit: number;
  /** The statuses whose tasks are listed; every status is counted. */
  shown: readonly TaskStatus[];
}

/**
 * A board in columns, in two statements whatever the number of columns: the counts, then every
 * shown column's first tasks with their links, one branch per column that has any, each a walk
 * of the board's status index that stops at the limit. A search adds its lookup on PostgreSQL
 * (`searchOf`, resolved once for both); on SQLite it is `ranked`, below. The board's page used
 * to read each column on its own (a listing and its links per status). Call it in a read
 * transaction, so the counts and the cards are of one moment.
 */
export async function boardColumns(db: SqlDb, query: ColumnsQuery): Promise<BoardColumns> {
  const search = await searchOf(db, query.q, query.board);
  if (search && db.dialect === 'sqlite') return ranked(db, query, search);
  const counts = (await countMatching(db, query.board, search)) as BoardColumns['counts'];
  const listed = query.shown.filter((s) => (counts[s] ?? 0) > 0);
  const columns: BoardColumns['columns'] = Object.fromEntries(query.shown.map((s) => [s, []]));
  if (listed.length === 0 || query.limit <= 0) return { counts, columns };
  const branches = listed.map(
    (_, k) =>
      `SELECT * FROM (SELECT * FROM tasks WHERE board = ? AND status = ? ${search ? `AND ${search.sql}` : ''}
         ORDER BY priority DESC, id LIMIT ?) AS column_${k}`,
  );
  const params = listed.flatMap((s): SqlParam[] => [
    query.board,
    s,
    ...(search ? search.params : []),
    query.limit,
  ]);
  const rows = await db.all<LinkedTaskRow>(
    `SELECT c.*, ${linkColumns(db, 'c')} FROM (${branches.join(' UNION ALL ')}) AS c
     ORDER BY c.priority DESC, c.id`,
    params,
  );
  for (const row of rows) columns[row.status as TaskStatus]?.push(toLinkedTask(row));
  return { counts, columns };
}

/**
 * A searched board on SQLite, in one read of the table (`searchedTasks`): the matches are ranked
 * within their status and counted in the same pass, then the first of each shown column are read
 * whole. Walking each column's index instead looks up every row of a column whose matches are
 * few (with 100,000 tasks, 45 ms for a word in a dozen titles, against 14).
 */
async function ranked(db: SqlDb, query: ColumnsQuery, search: Search): Promise<BoardColumns> {
  const matches = await db.all<{ id: number; status: TaskStatus; rank: number; n: number }>(
    `SELECT id, status, column_rank AS rank, column_count AS n FROM (
       SELECT id, status, priority,
              ROW_NUMBER() OVER (PARTITION BY status ORDER BY priority DESC, id) AS column_rank,
              COUNT(*) OVER (PARTITION BY status) AS column_count
       FROM ${searchedTasks(db)} WHERE board = ? AND ${search.sql}
     ) AS m
     WHERE column_rank <= ?`,
    // At least the first match of every status, for its count.
    [query.board, ...search.params, Math.max(query.limit, 1)],
  );
  const counts: BoardColumns['counts'] = {};
  const columns: BoardColumns['columns'] = Object.fromEntries(query.shown.map((s) => [s, []]));
  const ids: number[] = [];
  for (const m of matches) {
    counts[m.status] = Number(m.n);
    if (query.shown.includes(m.status) && Number(m.rank) <= query.limit) ids.push(m.id);
  }
  // The kept cards in the listing's order, the order they were ranked in.
  const cards = await listTasks(db, { ids, include_archived: true, limit: ids.length });
  for (const task of cards) columns[task.status]?.push(task);
  return { counts, columns };
}
