import { corruptError, fromSqliteError } from '../storage-errors.js';
import { openImmutable, openReadOnly } from './connect.js';
import type { Sqlite } from './connect.js';
import { checkSqliteHeader } from './header.js';

/**
 * How thoroughly a database is checked before warden writes to it (docs/operations.md,
 * "Integrity checks"): `quick` is SQLite's `PRAGMA quick_check` (every page and record, not
 * the indexes against their tables), `full` its `PRAGMA integrity_check` (everything).
 */
export type IntegrityLevel = 'quick' | 'full';

/** The pragma each level runs, as people see it in messages. */
export const CHECK_NAMES: Record<IntegrityLevel, string> = {
  quick: 'quick_check',
  full: 'integrity_check',
};

/** Problems reported beyond this many are counted, not listed. */
const MAX_PROBLEMS = 10;

/** What SQLite's check finds wrong, or nothing. An error raised by the check is a problem. */
export function integrityProblems(db: Sqlite, level: IntegrityLevel): string[] {
  try {
    const rows = db.pragma(`${CHECK_NAMES[level]}(${MAX_PROBLEMS})`, { simple: false }) as Record<
      string,
      string
    >[];
    // One row may hold several lines, under a `*** in database main ***` heading.
    const lines = rows
      .flatMap((r) => String(Object.values(r)[0]).split('\n'))
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('*** in database'));
    return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB'))
      return [`${(err as Error).message} (${code})`];
    throw err;
  }
}

/** The problems as one clause: the first, and how many more. */
export function problemsText(problems: readonly string[]): string {
  const first = problems[0] ?? 'unknown problem';
  const atLeast = problems.length >= MAX_PROBLEMS ? 'at least ' : '';
  const more = problems.length > 1 ? ` (and ${atLeast}${problems.length - 1} more)` : '';
  return `${first}${more}`;
}

/**
 * The schema version warden recorded in the database, 0 when it has no tables at all (a new
 * file), or null when it has tables but no `meta` row: a SQLite database that is not warden's.
 */
export function schemaVersion(db: Sqlite): number | null {
  const meta = db
    .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    .get() as { n: number };
  if (meta.n === 0) {
    const tables = db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number };
    return tables.n === 0 ? 0 : null;
  }
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
    { value: string } | undefined;
  return row ? Number(row.value) : null;
}

/** What a checked database file holds. */
export interface FileReport {
  path: string;
  bytes: number;
  schema_version: number;
  tasks: number;
  check: string;
}

/**
 * Checks a database file without writing to it: its header, then SQLite's check on a
 * read-only connection, then that it is warden's. Throws a `corrupt` error naming the file
 * and the check that failed. `immutable` is for a copy nobody else writes: it leaves no `-shm`
 * or `-wal` beside it.
 */
export function inspectFile(
  path: string,
  level: IntegrityLevel,
  how: 'shared' | 'immutable' = 'shared',
): FileReport {
  try {
    return inspect(path, level, how);
  } catch (err) {
    throw fromSqliteError(err, path) ?? err;
  }
}

function inspect(path: string, level: IntegrityLevel, how: 'shared' | 'immutable'): FileReport {
  const verdict = checkSqliteHeader(path);
  if (!verdict.ok) throw corruptError(path, 'header check', verdict.problem);
  const db = how === 'immutable' ? openImmutable(path) : openReadOnly(path).db;
  try {
    const problems = integrityProblems(db, level);
    if (problems.length > 0) throw corruptError(path, CHECK_NAMES[level], problemsText(problems));
    const version = schemaVersion(db);
    if (version === null || version === 0) {
      throw corruptError(
        path,
        'schema check',
        'it is a SQLite database but not a warden one (no schema version in a meta table)',
      );
    }
    const tasks = (db.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n;
    return {
      path,
      bytes: verdict.header.size,
      schema_version: version,
      tasks,
      check: CHECK_NAMES[level],
    };
  } finally {
    db.close();
  }
}
