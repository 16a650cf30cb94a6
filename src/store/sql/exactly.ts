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
    sql: `${ctes} SELECT CAST(CASE WHEN COUNT(*) = ? THEN '1' ELSE ? END AS INTEGER) AS one FROM ${counted}`,
    params: [...params, rows, message],
  };
}
