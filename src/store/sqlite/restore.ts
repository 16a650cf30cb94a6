import {
  existsSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { WardenError, conflict, invalid, notFound } from '../../core/errors.js';
import { RESTORED_MARK } from '../../core/restored-run.js';
import type { RestoredMark } from '../../core/restored-run.js';
import { processesHolding } from '../../os/open-files.js';
import { inRunsFolder } from '../../os/run-folder.js';
import { fromSqliteError } from '../storage-errors.js';
import { copyDatabase, fileStamp, syncPath } from './backup.js';
import { openImmutable, openReadOnly } from './connect.js';
import type { Sqlite } from './connect.js';
import { inspectFile } from './integrity.js';
import type { FileReport } from './integrity.js';

/** What `warden restore` did. */
export interface RestoreResult extends FileReport {
  source: string;
  /** Where the database it replaced was kept, or null when there was none. */
  kept: string | null;
  /** Whether the home's admin token is an admin token of the restored database. */
  admin_token_known: boolean;
  /** Run folders and workspaces newer than the copy, renamed aside (see `setAsideNewer`). */
  set_aside: string[];
  /** The spawned runs open in the copy, each folder marked (see `markOpenRuns`). */
  open_runs: number[];
  /** Runs open in the backup that were started from another home (a copy restored here). */
  other_home_runs: number[];
}

/** The last id the database handed out for `table` (the next one is above it). */
function lastId(db: Sqlite, table: 'runs' | 'tasks'): number {
  const seq = db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(table) as
    { seq: number } | undefined;
  const max = db.prepare(`SELECT max(id) AS id FROM ${table}`).get() as { id: number | null };
  return Math.max(seq?.seq ?? 0, max.id ?? 0);
}

/**
 * The restored database hands out run and task ids from where the copy stopped, so the
 * folders of runs and tasks made after the backup (`runs/ID`, `workspaces/ID`) would be taken
 * for new ones: a stale `exit` file would end a new run at once, a stale workspace would be a
 * new task's cwd. They are renamed `ID.before-restore-TIME`, which nothing reads or prunes.
 */
function setAsideNewer(
  last: RestoredFacts['last'],
  home: { runs: string; workspaces: string },
  stamp: string,
): string[] {
  const moved: string[] = [];
  for (const [dir, above] of [
    [home.runs, last.runs],
    [home.workspaces, last.tasks],
  ] as const) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/^[1-9]\d*$/.test(name) || Number(name) <= above) continue;
      const aside = join(dir, `${name}.before-restore-${stamp}`);
      renameSync(join(dir, name), aside);
      moved.push(aside);
    }
  }
  return moved;
}

/**
 * Marks the folder of each spawned run open in the restored database (`RESTORED_MARK`): the
 * next `serve` books its worker's exit from that folder, and the reason it writes says the
 * worker's reports after the backup went with the database replaced.
 */
function markOpenRuns(open: readonly number[], runs: string, mark: RestoredMark): void {
  const text = `${JSON.stringify(mark)}\n`;
  for (const id of open) {
    const dir = join(runs, String(id));
    if (existsSync(dir)) writeFileSync(join(dir, RESTORED_MARK), text);
  }
}

/** What a restore reads of the database it put in place, in one read-only connection. */
interface RestoredFacts {
  /** The last run and task ids it handed out (`setAsideNewer`). */
  last: { runs: number; tasks: number };
  /** Its spawned runs still open (`markOpenRuns`), started from this home. */
  open: number[];
  /** Those started from another home (their logs are in its `runs/`): a copy's. */
  elsewhere: number[];
  /** Whether the home's admin token is an admin token of it. */
  adminTokenKnown: boolean;
}

function readRestored(db: string, runsDir: string, tokenHash: string | null): RestoredFacts {
  const conn = openImmutable(db);
  try {
    const runs = conn
      .prepare(
        "SELECT id, log_path FROM runs WHERE state <> 'ended' AND mode <> 'pull' ORDER BY id",
      )
      .all() as { id: number; log_path: string | null }[];
    const here = (r: { log_path: string | null }): boolean =>
      r.log_path === null || inRunsFolder(r.log_path, runsDir);
    const admin =
      tokenHash !== null &&
      conn
        .prepare(
          "SELECT 1 AS ok FROM tokens WHERE hash = ? AND kind = 'admin' AND revoked_at IS NULL",
        )
        .get(tokenHash) !== undefined;
    return {
      last: { runs: lastId(conn, 'runs'), tasks: lastId(conn, 'tasks') },
      open: runs.filter(here).map((r) => r.id),
      elsewhere: runs.filter((r) => !here(r)).map((r) => r.id),
      adminTokenKnown: admin,
    };
  } finally {
    conn.close();
  }
}

/** The database and its WAL files, as the kernel names them in /proc/PID/fd. */
function openNames(db: string): string[] {
  return [db, `${db}-wal`, `${db}-shm`].flatMap((p) => {
    try {
      return [realpathSync(p)];
    } catch {
      return [];
    }
  });
}

/**
 * Refuses while any other process has the home's database open: a `serve` of this home always
 * does (it is named as such), and so does any command running meanwhile.
 */
export function refuseWhileOpen(db: string): void {
  const holders = processesHolding(openNames(db));
  if (holders.length === 0) return;
  const serve = holders.find((h) => /\bserve\b/.test(h.command));
  const who = serve ?? holders[0];
  if (!who) return;
  throw conflict(
    serve
      ? `warden serve is running for this home (pid ${serve.pid}); stop it first (SIGTERM; its workers keep running), then restore`
      : `${db} is open in process ${who.pid} (${who.command}); let it finish or stop it, then restore`,
    { pids: holders.map((h) => h.pid) },
  );
}

/** A read-only connection to a copy: immutable unless a `-wal` beside it holds its latest changes. */
function openCopy(path: string): Sqlite {
  return existsSync(`${path}-wal`) ? openReadOnly(path).db : openImmutable(path);
}

/**
 * The backup's own check. A backup that fails it is damaged or not warden's (exit 7, as a
 * damaged database), but the home is untouched: the answer is another backup, not the advice
 * for a damaged home.
 */
function inspectBackup(source: string): FileReport {
  try {
    return inspectFile(source, 'full', existsSync(`${source}-wal`) ? 'shared' : 'immutable');
  } catch (err) {
    if (!(err instanceof WardenError) || err.code !== 'corrupt') throw err;
    const { check, problem } = err.details as { check?: string; problem?: string };
    if (check === undefined || problem === undefined) throw err;
    throw new WardenError(
      'corrupt',
      `the backup ${source} failed the ${check}: ${problem}; the home was not touched. Restore another backup`,
      err.details,
    );
  }
}

/**
 * `warden restore`: checks the copy first (header, `integrity_check`, a warden schema not newer
 * than `latest`) without writing to it, copies it beside the home's database with the backup
 * API (which also takes in a `-wal` beside the copy) and checks that copy, keeps the current
 * database aside as `warden.db.before-restore-TIME` (with its `-wal`, which may hold committed
 * changes; its `-shm` is only an index and is removed), then renames the copy into place.
 * Refuses while another process has the database open.
 */
export async function restoreSqlite(options: {
  db: string;
  /** The home's folders of runs and workspaces. */
  home: { runs: string; workspaces: string };
  source: string;
  latest: number;
  now: number;
  adminTokenHash: string | null;
}): Promise<RestoreResult> {
  const { db, latest } = options;
  const source = resolve(options.source);
  if (!existsSync(source)) throw notFound(`${source} does not exist`);
  if (!statSync(source).isFile()) {
    throw invalid(`${source} is not a file; give the backup file that \`warden backup\` wrote`);
  }
  if (existsSync(db) && realpathSync(source) === realpathSync(db)) {
    throw invalid(`${source} is the home's database itself; restore from a backup`);
  }
  refuseWhileOpen(db);
  const checked = inspectBackup(source);
  if (checked.schema_version > latest) {
    throw new WardenError(
      'setup',
      `${source} has schema version ${checked.schema_version}, newer than this warden understands (${latest}); restore it with the warden that made it, or upgrade`,
    );
  }
  const tmp = `${db}.restore-tmp-${process.pid}`;
  const stamp = fileStamp(options.now);
  let kept: string | null = null;
  try {
    const from = openCopy(source);
    try {
      await copyDatabase(from, tmp);
    } finally {
      from.close();
    }
    inspectFile(tmp, 'full', 'immutable');
    refuseWhileOpen(db);
    if (existsSync(db)) {
      kept = `${db}.before-restore-${stamp}`;
      renameSync(db, kept);
      if (existsSync(`${db}-wal`)) renameSync(`${db}-wal`, `${kept}-wal`);
    }
    rmSync(`${db}-shm`, { force: true });
    rmSync(`${db}-wal`, { force: true });
    renameSync(tmp, db);
    syncPath(dirname(db));
  } catch (err) {
    rmSync(tmp, { force: true });
    if (kept !== null && !existsSync(db)) {
      renameSync(kept, db);
      if (existsSync(`${kept}-wal`)) renameSync(`${kept}-wal`, `${db}-wal`);
    }
    throw fromSqliteError(err, db) ?? err;
  }
  const facts = readRestored(db, options.home.runs, options.adminTokenHash);
  const setAside = setAsideNewer(facts.last, options.home, stamp);
  markOpenRuns(facts.open, options.home.runs, { restored_at: options.now, source });
  return {
    ...checked,
    path: db,
    source,
    kept,
    admin_token_known: facts.adminTokenKnown,
    set_aside: setAside,
    open_runs: facts.open,
    other_home_runs: facts.elsewhere,
  };
}
