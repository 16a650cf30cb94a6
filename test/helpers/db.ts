/**
 * Reads a SQLite database as rows, to prove that a refused request or command changed
 * nothing: every committed row of every table, through a read-only connection of its own.
 */
import Database from 'better-sqlite3';

/** Every row of every table, by table name, each table ordered by rowid. */
export type DbSnapshot = Record<string, Record<string, unknown>[]>;

/** Every row of every table of the database at `dbPath`. */
export function dbSnapshot(dbPath: string): DbSnapshot {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
      )
      .all();
    const out: DbSnapshot = {};
    for (const { name } of tables) {
      const quoted = `"${name.replaceAll('"', '""')}"`;
      out[name] = db
        .prepare<[], Record<string, unknown>>(`SELECT * FROM ${quoted} ORDER BY rowid`)
        .all();
    }
    return out;
  } finally {
    db.close();
  }
}
