import { rewritePlaceholders } from '../sql/placeholders.js';

/** Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL. The shared SQL is written once with `?`. */
export function toPgPlaceholders(sql: string): string {
  return rewritePlaceholders(sql, (n) => `$${n}`);
}
