import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { counted } from '../../core/counting.js';
import { WardenError, invalid } from '../../core/errors.js';
import { formatSize } from '../../core/size.js';
import { homePaths, resolveHome } from '../../config/home.js';
import { storeLocation } from '../../store/open.js';
import type { StoreLocation } from '../../store/open.js';
import { say, sayJson } from '../output.js';

/** Quotes a word for a POSIX shell. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `warden backup` on SQLite: the online backup API, verified, then renamed into place. */
async function backupSqlite(
  db: string,
  path: string,
  force: boolean,
  json: boolean,
): Promise<void> {
  if (!existsSync(db)) {
    throw new WardenError('setup', `no warden database at ${db}; nothing to back up`);
  }
  const sqlite = await import('../../store/sqlite/backup.js');
  const report = await sqlite.backupSqlite(db, path, { force, now: Date.now() });
  if (json) return sayJson({ ok: true, ...report, source: db });
  say(
    `backup written: ${report.path} (${formatSize(report.bytes)}, schema version ${report.schema_version}, ${counted(report.tasks, 'task')}; ${report.check} found no problems)`,
  );
  say('keep admin.token and config.json with it; put it back with `warden restore PATH`');
}

/**
 * On PostgreSQL the database is the server's to copy: checks that it answers and its schema
 * version, prints the exact `pg_dump` command for `WARDEN_DB` on standard output, and exits 2,
 * since no backup was made.
 */
async function backupPostgres(
  where: StoreLocation & { kind: 'postgres' },
  path: string,
): Promise<void> {
  const { checkPostgres } = await import('../../store/postgres/check.js');
  const report = await checkPostgres(where);
  const url = new URL(where.url);
  const hadPassword = url.password !== '';
  url.password = '';
  let file = resolve(path);
  if (existsSync(file) && statSync(file).isDirectory()) {
    file = join(file, `warden-${new Date().toISOString().slice(0, 10)}.dump`);
  }
  say(
    `pg_dump --schema=${shellQuote(report.schema)} --format=custom --file=${shellQuote(file)} ${shellQuote(url.toString())}`,
  );
  throw invalid(
    `warden backup copies SQLite homes; ${where.shown} is PostgreSQL (schema version ${report.schema_version}, this warden's ${report.latest}, ${counted(report.tasks, 'task')}): run the pg_dump command above${hadPassword ? ' (its password left out: give it with PGPASSWORD or ~/.pgpass)' : ''}, and see docs/operations.md#backing-up-postgresql`,
  );
}

export function register(program: Command): void {
  program
    .command('backup')
    .description(
      'copy the database to PATH while warden runs (SQLite online backup, verified); on PostgreSQL, print the pg_dump command',
    )
    .argument('<path>', 'the file to write, or a folder to write warden-TIME.db in')
    .option('--force', 'replace PATH if it exists')
    .option('--json', 'print what was written as JSON')
    .action(async (path: string, opts: { force?: boolean; json?: boolean }) => {
      if (path.trim() === '') throw invalid('PATH: must not be empty; give a file or a folder');
      const where = storeLocation(homePaths(resolveHome()), process.env);
      if (where.kind === 'postgres') return backupPostgres(where, path);
      return backupSqlite(where.path, path, opts.force ?? false, opts.json ?? false);
    });
}
