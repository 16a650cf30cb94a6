import type { SqlDb, SqlParam } from './driver.js';

/**
 * `column` among `ids`, written with one parameter however many ids there are: PostgreSQL an
 * array, SQLite a JSON array. Written `IN (?, ?, …)`, each count of ids was a statement of its
 * own, prepared and kept by both drivers; a board read with any number of cards used up
 * PostgreSQL's named statements (`StatementNames`), after which new ones are parsed at every
 * call, and cleared SQLite's cache over and over.
 */
export function idIn(
  db: SqlDb,
  column: string,
  ids: readonly number[],
): { sql: string; param: SqlParam } {
  return db.dialect === 'postgres'
    ? { sql: `${column} = ANY(CAST(? AS BIGINT[]))`, param: `{${ids.join(',')}}` }
    : { sql: `${column} IN (SELECT value FROM json_each(?))`, param: JSON.stringify(ids) };
}
