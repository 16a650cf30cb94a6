import { rewritePlaceholders } from '../sql/placeholders.js';

/**
 * Writes each `?` placeholder as `+?` (outside quoted strings and identifiers), so that binding
 * a value never makes SQLite compile the statement again.
 *
 * Why: SQLite's planner reads the value bound to a parameter in several places (an `x = ?` term
 * it weighs for a plan, `LIMIT ?`, partial indexes, LIKE prefixes) and marks the statement to be
 * re-prepared when that parameter is bound again. better-sqlite3 clears every statement's
 * bindings after each run, and clearing them expires any statement so marked: the statement is
 * compiled anew on every call. Measured on SQLite 3.54.1 (better-sqlite3 13.2): the claim's
 * candidate read cost 100 µs a call against 4 µs with the value written in, and a task's runs
 * in attempt order 156 µs against 12 µs (docs/benchmarks.md). A unary `+` hides the parameter
 * from those looks (SQLite stops at it) and changes nothing else: `+x` has the value, type and
 * (absent) affinity of `x`, and an index on the column stays usable since the `+` is on the
 * value's side. Plans are then the same whatever is bound, as with PostgreSQL's generic plans.
 */
export function withFixedPlans(sql: string): string {
  return rewritePlaceholders(sql, () => '+?');
}
