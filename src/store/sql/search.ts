import type { SqlDb, SqlParam } from './driver.js';

/** A search (`TaskFilter.q`) as a condition over the columns of `tasks`, with its parameters. */
export interface Search {
  sql: string;
  params: SqlParam[];
  /**
   * PostgreSQL, a word too common to be looked up by id: the same condition over `task_search`
   * (as `s`), whose columns are already lower-cased, for counting the matches (`countMatching`).
   */
  lowered?: { sql: string; params: SqlParam[] };
}

/** The most matches a search on PostgreSQL takes as a list of ids. */
export const SEARCH_IDS_MAX = 1000;

/**
 * The task id a search names (`12`, `#12`; -1 for none) and its words as a LIKE pattern, in
 * which `%`, `_` and `\` stand for themselves (escaped with `\`: PostgreSQL's default escape,
 * SQLite's by `ESCAPE`), so a search for `50%` finds the titles that say it, not every task.
 */
function searchTerms(q: string): { id: number; like: string } {
  const text = q.trim().toLowerCase();
  const id = /^#?(\d+)$/.exec(text)?.[1];
  return {
    id: id === undefined ? -1 : Number(id),
    like: `%${text.replace(/[\\%_]/g, '\\$&')}%`,
  };
}

/**
 * What a search matches: the task it names by id, or its words anywhere in a title or an
 * assignee's name, case aside.
 *
 * SQLite compares the task's own columns. Its LIKE already ignores case, for ASCII letters
 * only, as its LOWER does, so there LOWER would only add a call per row.
 *
 * PostgreSQL first asks `task_search` (migration 20: every task's lower-cased title and
 * assignee, under pg_trgm's trigram indexes) for up to a thousand matches (on the board searched,
 * if one is). A rare word, the search a person mostly makes, is then those few tasks by id:
 * 2 ms on a board of 100,000, where reading the board took 65 to 80. A common word (more matches than that) is compared on
 * the tasks themselves, as before: walking the board in its order finds its first page at once,
 * and its count reads the board either way. Where `task_search` has no trigram index (the
 * extension could not be had), the first read is of every title, a tenth of the board's size.
 */
async function resolveSearch(db: SqlDb, q: string, board: string | undefined): Promise<Search> {
  const { id, like } = searchTerms(q);
  if (db.dialect === 'sqlite')
    return {
      sql: "(id = ? OR title LIKE ? ESCAPE '\\' OR COALESCE(assignee, '') LIKE ? ESCAPE '\\')",
      params: [id, like, like],
    };
  const found = await db.all<{ task_id: number }>(
    `SELECT task_id FROM task_search WHERE (title LIKE ? OR assignee LIKE ?)
     ${board === undefined ? '' : 'AND board = ?'} LIMIT ${SEARCH_IDS_MAX + 1}`,
    board === undefined ? [like, like] : [like, like, board],
  );
  if (found.length > SEARCH_IDS_MAX)
    return {
      sql: "(id = ? OR LOWER(title) LIKE ? OR LOWER(COALESCE(assignee, '')) LIKE ?)",
      params: [id, like, like],
      lowered: {
        sql: '(s.task_id = ? OR s.title LIKE ? OR s.assignee LIKE ?)',
        params: [id, like, like],
      },
    };
  // One statement's text whatever the number of ids, so it is prepared once.
  return {
    sql: 'id IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS json)))',
    params: [JSON.stringify([id, ...found.map((r) => Number(r.task_id))])],
  };
}

/**
 * A search's condition (see `resolveSearch`), or none for no search (`q` absent or blank). The
 * board, when the search is within one, bounds what is looked up.
 */
export async function searchOf(
  db: SqlDb,
  q: string | undefined,
  board?: string,
): Promise<Search | undefined> {
  return q === undefined || q.trim() === '' ? undefined : resolveSearch(db, q, board);
}

/**
 * The table a search reads. SQLite reads it straight through (NOT INDEXED): a search's words
 * can be anywhere in a title, so no index finds them, and walking one in order looks up every
 * task's row besides, three times the time of the plain read once the matches are few (with
 * 100,000 tasks, about 40 ms against 13 for a word in a dozen titles; a common word's first page
 * is found sooner by the walk, but within the same 13 ms by the read). PostgreSQL chooses for
 * itself.
 */
export function searchedTasks(db: SqlDb): string {
  return db.dialect === 'sqlite' ? 'tasks NOT INDEXED' : 'tasks';
}
