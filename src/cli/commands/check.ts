import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { counted } from '../../core/counting.js';
import { missingDatabaseAdvice } from '../../store/sqlite/open.js';
import { WardenError } from '../../core/errors.js';
import { formatSize } from '../../core/size.js';
import { homePaths, resolveHome } from '../../config/home.js';
import { storeLocation } from '../../store/open.js';
import { say, sayJson } from '../output.js';

/** The schema version against this build's, in words. */
function versionText(version: number, latest: number): string {
  if (version === latest) return `schema version ${version}, as this warden expects`;
  return `schema version ${version}, older than this warden's ${latest}: the next writing command migrates it`;
}

async function checkSqlite(path: string, quick: boolean, json: boolean): Promise<void> {
  if (!existsSync(path)) {
    throw new WardenError('setup', `no warden database at ${path}; ${missingDatabaseAdvice(path)}`);
  }
  const [{ inspectFile }, { latestVersion }, { SQLITE_MIGRATIONS }] = await Promise.all([
    import('../../store/sqlite/integrity.js'),
    import('../../store/sql/migrate.js'),
    import('../../store/sqlite/migrations.js'),
  ]);
  const latest = latestVersion(SQLITE_MIGRATIONS);
  const report = inspectFile(path, quick ? 'quick' : 'full');
  if (report.schema_version > latest) {
    throw new WardenError(
      'setup',
      `the database schema is version ${report.schema_version}, newer than this warden understands (${latest}); upgrade warden to use it`,
    );
  }
  if (json) return sayJson({ ok: true, ...report, latest });
  say(
    `${path}: ok (${report.check} found no problems); ${formatSize(report.bytes)}, ${versionText(report.schema_version, latest)}, ${counted(report.tasks, 'task')}`,
  );
}

export function register(program: Command): void {
  program
    .command('check')
    .description(
      'check the database: SQLite integrity_check (read-only), or on PostgreSQL that it answers and its schema',
    )
    .option('--quick', 'SQLite: quick_check instead of the full integrity_check')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { quick?: boolean; json?: boolean }) => {
      const home = homePaths(resolveHome());
      const where = storeLocation(home, process.env);
      if (where.kind === 'sqlite')
        return checkSqlite(where.path, opts.quick ?? false, opts.json ?? false);
      const { checkPostgres } = await import('../../store/postgres/check.js');
      const r = await checkPostgres(where);
      if (opts.json) return sayJson({ ok: true, ...r });
      say(
        `${r.database}: ok (reachable, PostgreSQL ${r.server_version}; schema ${r.schema}, ${versionText(r.schema_version, r.latest)}; ${r.schema_version === r.latest ? `${r.tables} tables answer` : `tables meta and tasks answer (the rest are checked once it is upgraded)`}; ${counted(r.tasks, 'task')}; data checksums ${r.data_checksums})`,
      );
    });
}
