/**
 * Rewrites each `?` placeholder of the shared SQL as `replace(n)` (n counting from 1), leaving a
 * `?` inside quoted strings and identifiers alone. Each driver writes them its own way.
 */
export function rewritePlaceholders(sql: string, replace: (n: number) => string): string {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      n += 1;
      out += replace(n);
    } else {
      out += ch;
    }
  }
  return out;
}
