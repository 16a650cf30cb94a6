import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { counted } from '../../core/counting.js';
import { conflict, invalid } from '../../core/errors.js';
import { formatSize } from '../../core/size.js';
import { systemClock } from '../../config/clock.js';
import { homePaths, makeHomeDirs, resolveHome } from '../../config/home.js';
import type { HomePaths } from '../../config/home.js';
import { hashToken } from '../../os/token.js';
import { holdsHome } from '../../os/home-holder.js';
import { storeLocation } from '../../store/open.js';
import { say, sayJson } from '../output.js';

function adminTokenHash(home: HomePaths): string | null {
  if (!existsSync(home.adminToken)) return null;
  return hashToken(readFileSync(home.adminToken, 'utf8').trim());
}

/**
 * The home's `serve` as its database records it (the way `serve` itself refuses a second
 * one), when the database can be read at all; a damaged one cannot say, and the check of open
 * files in `restoreSqlite` covers that case.
 */
async function liveServeHost(db: string): Promise<string | null> {
  if (!existsSync(db)) return null;
  const { openSqliteStore } = await import('../../store/sqlite/open.js');
  let store;
  try {
    store = await openSqliteStore(db, systemClock, { create: false, access: 'read' });
  } catch {
    return null;
  }
  try {
    const live = (await store.activeHosts()).find((h) => holdsHome(h.process, db));
    return live ? `host ${live.host_id}, pid ${live.process?.pid ?? '?'}` : null;
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  program
    .command('restore')
    .description(
      'put a backup in place of the home’s database: checked first, the current one kept aside (stop serve first)',
    )
    .argument('<path>', 'the backup: a file made by `warden backup` (or any copy of warden.db)')
    .option('--json', 'print what was done as JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      if (path.trim() === '') throw invalid('PATH: must not be empty; give the backup file');
      const home = homePaths(resolveHome());
      const where = storeLocation(home, process.env);
      if (where.kind === 'postgres') {
        throw invalid(
          `warden restore puts back SQLite homes; ${where.shown} is PostgreSQL: stop every serve, then load a pg_dump backup with pg_restore (docs/operations.md#backing-up-postgresql)`,
        );
      }
      // A new machine's home may be made by the restore itself (admin.token copied by hand).
      if (!existsSync(home.root)) makeHomeDirs(home);
      const serve = await liveServeHost(where.path);
      if (serve !== null) {
        throw conflict(
          `warden serve is running for this home (${serve}); stop it first (SIGTERM; its workers keep running), then restore`,
        );
      }
      const [{ restoreSqlite }, { latestVersion }, { SQLITE_MIGRATIONS }] = await Promise.all([
        import('../../store/sqlite/restore.js'),
        import('../../store/sql/migrate.js'),
        import('../../store/sqlite/migrations.js'),
      ]);
      const r = await restoreSqlite({
        db: where.path,
        home,
        source: path,
        latest: latestVersion(SQLITE_MIGRATIONS),
        now: Date.now(),
        adminTokenHash: adminTokenHash(home),
      });
      if (opts.json) return sayJson({ ok: true, ...r });
      say(
        `restored ${r.source} to ${r.path} (${formatSize(r.bytes)}, schema version ${r.schema_version}, ${counted(r.tasks, 'task')}; ${r.check} found no problems)`,
      );
      say(
        r.kept === null
          ? 'there was no database to keep aside'
          : `the database it replaced is kept at ${r.kept}`,
      );
      if (r.set_aside.length > 0) {
        say(
          `${r.set_aside.length} run folders and workspaces newer than the backup were renamed *.before-restore-TIME, so new runs and tasks do not reuse them`,
        );
      }
      if (r.other_home_runs.length > 0) {
        say(
          `${counted(r.other_home_runs.length, 'run')} open in the backup (${r.other_home_runs.join(', ')}) started from another home (their logs are in its runs/): the next serve here ends them host_lost, not counted as failures, and never touches their workers, which are that home's; their tasks are tried again here`,
        );
      }
      if (r.open_runs.length > 0) {
        say(
          `${counted(r.open_runs.length, 'run')} open in the backup (${r.open_runs.join(', ')}): the next serve adopts the workers still running and books the others from their exit; what they reported after the backup was taken is lost, and their reasons say so`,
        );
      }
      if (!r.admin_token_known) {
        const what = existsSync(home.adminToken)
          ? 'is not an admin token of the restored database'
          : 'is missing';
        say(`note: ${home.adminToken} ${what}; put back the admin.token kept with the backup`);
      }
    });
}
