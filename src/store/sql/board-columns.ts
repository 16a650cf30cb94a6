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

/** Counts per status, and the rows to list in the listing's order. */
interface Found {
  counts: BoardColumns['counts'];
  rows: LinkedTaskRow[];
}

/** Ids read whole per statement. */
const CHUNK = 1000;

/**
 * A board in columns, in a few statements whatever the number of columns: the board's page used
 * to read each column on its own (a count, then a listing, its links and its runs per status).
 * Call it in a read transaction, so the counts and the cards are of one moment.
 */
export async function boardColumns(db: SqlDb, query: ColumnsQuery): Promise<BoardColumns> {
  const search = query.q !== undefined && query.q.trim() !== '';
  const { counts, rows } = search
    ? await searched(db, query, query.q as string)
    : { counts: await countTasks(db, query.board), rows: await unsearched(db, query) };
  const columns: BoardColumns['columns'] = Object.fromEntries(query.shown.map((s) => [s, []]));
  for (const row of rows) columns[row.status as TaskStatus]?.push(toLinkedTask(row));
  return { counts, columns };
}

/**
 * Without a search, each shown column's first tasks are a walk of the board's status index that
 * stops at the limit: one branch per column, in one statement.
 */
async function unsearched(db: SqlDb, query: ColumnsQuery): Promise<LinkedTaskRow[]> {
  if (query.shown.length === 0 || query.limit <= 0) return [];
  const branches = query.shown.map(
    (_, k) =>
      `SELECT * FROM (SELECT * FROM tasks WHERE board = ? AND status = ? ORDER BY priority DESC, id LIMIT ?) AS column_${k}`,
  );
  const params = query.shown.flatMap((s): SqlParam[] => [query.board, s, query.limit]);
  return db.all<LinkedTaskRow>(
    `SELECT c.*, ${linkColumns(db, 'c')} FROM (${branches.join(' UNION ALL ')}) AS c
     ORDER BY c.priority DESC, c.id`,
    params,
  );
}

/**
 * With a search, every task of the board is looked at once: the matches are ranked within their
 * status and counted in the same pass, then the first of each shown column are read whole.
 * Reading column by column looked at the board once for the counts and again for each column
 * whose matches are few, as it walks the whole column to find them. The whole rows are a second
 * statement: PostgreSQL cannot tell how few of the matches are kept, and joined them to the
 * whole table when it planned for the search's words (twice the time of the generic plan).
 * SQLite reads the table straight through (NOT INDEXED): through the board's index it looks up
 * every task's row besides, twice the time with a board of 100,000 (a board of a tenth of the
 * tasks is read in 8 ms instead of 4).
 */
async function searched(db: SqlDb, query: ColumnsQuery, q: string): Promise<Found> {
  const tasks = db.dialect === 'sqlite' ? 'tasks t NOT INDEXED' : 'tasks t';
  const ranked = await db.all<{ id: number; status: TaskStatus; rank: number; n: number | string }>(
    `SELECT id, status, column_rank AS rank, column_count AS n FROM (
       SELECT t.id, t.status, t.priority,
              ROW_NUMBER() OVER (PARTITION BY t.status ORDER BY t.priority DESC, t.id) AS column_rank,
              COUNT(*) OVER (PARTITION BY t.status) AS column_count
       FROM ${tasks} WHERE t.board = ? AND ${searchClause(db)}
     ) AS m
     WHERE column_rank <= ?
     ORDER BY priority DESC, id`,
    // At least the first match of every status is read, for its count.
    [query.board, ...searchParams(q), Math.max(query.limit, 1)],
  );
  const counts: BoardColumns['counts'] = {};
  const ids: number[] = [];
  for (const r of ranked) {
    counts[r.status] = Number(r.n);
    if (query.shown.includes(r.status) && Number(r.rank) <= query.limit) ids.push(r.id);
  }
  const byId = new Map<number, LinkedTaskRow>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const rows = await db.all<LinkedTaskRow>(
      `SELECT t.*, ${linkColumns(db, 't')} FROM tasks t WHERE t.id IN (${chunk.map(() => '?').join(', ')})`,
      chunk,
    );
    for (const row of rows) byId.set(row.id, row);
  }
  return { counts, rows: ids.flatMap((id) => byId.get(id) ?? []) };
}
