import { toPgPlaceholders } from './placeholders.js';

/** Most statements given a name; past it, the rest are sent unnamed (parsed every time). */
const MOST_NAMED = 500;

/** A statement as the `pg` client takes it: its text, and the name it is prepared under. */
export interface NamedStatement {
  name: string;
  text: string;
}

/**
 * Names for the store's statements, so PostgreSQL parses and plans each once per connection
 * and then only binds and runs it (the `pg` client prepares a named statement on a connection
 * the first time it sends it there). The SQL is written once with `?` placeholders; the
 * `$1, $2, …` text is kept beside the name.
 *
 * A prepared `SELECT *` fails with `cached plan must not change result type` once another
 * host's newer warden has added a column to its table. Then every name is given up for new
 * ones, which each connection prepares afresh against the schema as it is now
 * (`replanned`), and the statement (or its transaction) is tried again.
 */
export class StatementNames {
  private readonly byText = new Map<string, NamedStatement>();
  private generation = 0;

  of(sql: string): NamedStatement | { text: string } {
    const known = this.byText.get(sql);
    if (known) return known;
    const text = toPgPlaceholders(sql);
    if (this.byText.size >= MOST_NAMED) return { text };
    const named = { name: `warden_${this.generation}_${this.byText.size}`, text };
    this.byText.set(sql, named);
    return named;
  }

  /** Whether `err` says a prepared statement outgrew the schema; if so, names start over. */
  replanned(err: unknown): boolean {
    const e = err as { code?: unknown; message?: unknown };
    if (e.code !== '0A000' || typeof e.message !== 'string') return false;
    if (!e.message.includes('cached plan must not change result type')) return false;
    this.generation += 1;
    this.byText.clear();
    return true;
  }
}
