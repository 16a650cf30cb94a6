import { WardenError } from '../../core/errors.js';
import { latestVersion } from '../sql/migrate.js';
import { PgDriver } from './driver.js';
import { PG_MIGRATIONS } from './migrations.js';

/** What `warden check` (and `backup`) learn of a shared PostgreSQL. */
export interface PgReport {
  database: string;
  schema: string;
  server_version: string;
  schema_version: number;
  /** The schema version this build migrates to. */
  latest: number;
  tables: number;
  tasks: number;
  /** Whether the server checksums its data pages (`SHOW data_checksums`). */
  data_checksums: string;
}

/** The tables warden's PostgreSQL migrations create. */
function wardenTables(): string[] {
  const names = PG_MIGRATIONS.flatMap((m) =>
    [...m.sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((x) => x[1] ?? ''),
  );
  return [...new Set(['meta', ...names])];
}

/**
 * Checks a shared PostgreSQL the way `warden check` can from a client: it answers (else
 * `unavailable`, exit 5), warden's schema is there (else `setup`), its version is not newer
 * than this build, and, at this build's version, every table warden makes answers a query.
 * Page-level integrity is the server's: its data checksums are reported, not verified.
 */
export async function checkPostgres(where: {
  url: string;
  schema: string | undefined;
  shown: string;
}): Promise<PgReport> {
  const driver = await PgDriver.connect({
    url: where.url,
    ...(where.schema !== undefined ? { schema: where.schema } : {}),
    create: false,
    max: 1,
  });
  try {
    const row = await driver.get<{ value: string }>(
      "SELECT value FROM meta WHERE key = 'schema_version'",
    );
    const version = row ? Number(row.value) : 0;
    const latest = latestVersion(PG_MIGRATIONS);
    if (version > latest) {
      throw new WardenError(
        'setup',
        `the database schema is version ${version}, newer than this warden understands (${latest}); upgrade warden to use it`,
        { current: version, latest },
      );
    }
    const expected = version === latest ? wardenTables() : ['meta', 'tasks'];
    const missing: string[] = [];
    for (const table of expected) {
      const found = await driver.get<{ t: string | null }>('SELECT to_regclass(?) AS t', [table]);
      if (found?.t == null) missing.push(table);
    }
    if (missing.length > 0) {
      throw new WardenError(
        'corrupt',
        `${where.shown} failed the schema check: warden's schema (version ${version}) is missing the tables ${missing.join(', ')}; restore it from a pg_dump backup (docs/operations.md#backing-up-postgresql)`,
      );
    }
    const tasks = await driver.get<{ n: number }>('SELECT count(*)::int AS n FROM tasks');
    const sums = await driver.get<{ data_checksums: string }>('SHOW data_checksums');
    const server = await driver.get<{ server_version: string }>('SHOW server_version');
    const schema = await driver.get<{ s: string }>('SELECT current_schema() AS s');
    return {
      database: where.shown,
      schema: schema?.s ?? where.schema ?? 'public',
      server_version: server?.server_version ?? '?',
      schema_version: version,
      latest,
      tables: expected.length,
      tasks: tasks?.n ?? 0,
      data_checksums: sums?.data_checksums ?? '?',
    };
  } finally {
    await driver.close();
  }
}
