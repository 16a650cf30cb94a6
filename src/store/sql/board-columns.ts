import type { BoardColumns } from '../../core/task.js';
import type { TaskStatus } from '../../core/status.js';
import type { SqlDb, SqlParam } from './driver.js';
import { countTasks, linkColumns, searchClause, searchParams, toLinkedTask } from './tasks.js';
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
 * of the board's status index that stops at the limit. The board's page used to read each column
 * on its own (a listing and its links per status). Call it in a read transaction, so the counts
 * and the cards are of one moment.
 */
export async function boardColumns(db: SqlDb, query: ColumnsQuery): Promise<BoardColumns> {
  const q = query.q !== undefined && query.q.trim() !== '' ? query.q : undefined;
  const counts = (await countTasks(db, query.board, q)) as BoardColumns['counts'];
  const listed = query.shown.filter((s) => (counts[s] ?? 0) > 0);
  const columns: BoardColumns['columns'] = Object.fromEntries(query.shown.map((s) => [s, []]));
  if (listed.length === 0 || query.limit <= 0) return { counts, columns };
  const search = q === undefined ? '' : `AND ${searchClause(db)}`;
  const branches = listed.map(
    (_, k) =>
      `SELECT * FROM (SELECT * FROM tasks WHERE board = ? AND status = ? ${search}
         ORDER BY priority DESC, id LIMIT ?) AS column_${k}`,
  );
  const params = listed.flatMap((s): SqlParam[] => [
    query.board,
    s,
    ...(q === undefined ? [] : searchParams(q)),
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
