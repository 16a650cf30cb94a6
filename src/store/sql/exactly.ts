import type { SqlParam } from './driver.js';

/**
 * A PostgreSQL statement that fails on the server unless the data-modifying `WITH` clause
 * `ctes` made exactly `rows` rows in its part `counted`; the error says `message` (as a text
 * that is not a number, SQLSTATE 22P02). For a write deferred in a pipelined transaction
 * (`SqlDb.defer`): its COMMIT is sent before its answer is read, so a count checked in the
 * process would come too late to stop the commit; a statement that fails makes the server
 * abort the transaction, and the COMMIT fails with it.
 */
export function exactly(
  ctes: string,
  counted: string,
  rows: number,
  params: readonly SqlParam[],
  message: string,
): { sql: string; params: SqlParam[] } {
  return {
    sql: `${ctes} SELECT ${failsUnless('COUNT(*)')} AS one FROM ${counted}`,
    params: [...params, rows, message],
  };
}

/**
 * A column for a PostgreSQL statement's rows that fails the statement on the server unless
 * `matched` is not null in every one of them, `rows` in all (a window over all the rows it
 * returns); its two parameters, after the statement's others, are `rows` and the error's
 * message. For a statement whose rows are read only after its COMMIT was sent
 * (`SqlDb.allLater`), made to return one row per input whether or not it matched (`matched`
 * from an outer join), so a missing match stops the commit.
 */
export function everyRowMatched(matched: string): string {
  return failsUnless(`COUNT(${matched}) OVER ()`);
}

/**
 * 1 when `count` equals the first parameter; else the second parameter, the error's message,
 * cast to a number, which fails the statement.
 */
function failsUnless(count: string): string {
  return `CAST(CASE WHEN ${count} = ? THEN '1' ELSE ? END AS INTEGER)`;
}
