import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_HOME_DIR } from '../core/defaults.js';
import { newToken } from '../os/token.js';
import { WardenError } from '../core/errors.js';

/** Where a warden home keeps its files. */
export interface HomePaths {
  root: string;
  db: string;
  adminToken: string;
  config: string;
  workspaces: string;
  /** Git worktrees of tasks whose profile has a worktree workspace, one folder per task. */
  worktrees: string;
  runs: string;
  /** Several hosts: the secret that lets a restarting `serve` take over its own lease. */
  hostSecret: string;
  /** Several hosts: which process runs this home's `serve`, and where its API listens. */
  serveLock: string;
}

/**
 * The home named by `WARDEN_HOME`, else `~/.warden`; a relative one from the current
 * directory, made absolute once (messages name it whole, and a worker started in its own
 * folder must find the run's files).
 */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.WARDEN_HOME;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);
  return join(homedir(), DEFAULT_HOME_DIR);
}

/** The files and folders of a home. */
export function homePaths(root: string): HomePaths {
  return {
    root,
    db: join(root, 'warden.db'),
    adminToken: join(root, 'admin.token'),
    config: join(root, 'config.json'),
    workspaces: join(root, 'workspaces'),
    worktrees: join(root, 'worktrees'),
    runs: join(root, 'runs'),
    hostSecret: join(root, 'host.secret'),
    serveLock: join(root, 'serve.json'),
  };
}

/**
 * Creates the home folders, mode 0700. A home made in a folder that was there already (a
 * `mkdir` under umask 022 gives 0755) is closed to others too: its database holds
 * notification secrets and the workers' environments, and nothing but the folder guards the
 * files in it.
 */
export function makeHomeDirs(paths: HomePaths): void {
  for (const dir of [paths.root, paths.workspaces, paths.runs]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    closeToOthers(dir, 0o700);
  }
}

/** The SQLite database and its WAL files, readable by their owner only (mode 0600). */
export function closeDatabaseFiles(db: string): void {
  for (const file of [db, `${db}-wal`, `${db}-shm`])
    if (existsSync(file)) closeToOthers(file, 0o600);
}

/** Sets a mode; a file of another user's is refused in words, not as a bare EPERM. */
function closeToOthers(path: string, mode: number): void {
  // Already so: nothing to write (a read-only home stays readable by `init`).
  if ((statSync(path).mode & 0o777) === mode) return;
  try {
    chmodSync(path, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    throw new WardenError(
      'setup',
      `${path} belongs to another user, so warden cannot close it to others (mode ${mode.toString(8)}); set WARDEN_HOME to a folder of your own`,
    );
  }
}

/** Writes the admin token readable by its owner only (mode 0600). */
export function writeAdminToken(paths: HomePaths, token: string): void {
  writeFileSync(paths.adminToken, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(paths.adminToken, 0o600);
}

/** Reads the admin token, or says to run `warden init`. */
export function readAdminToken(paths: HomePaths): string {
  if (!existsSync(paths.adminToken)) {
    throw new WardenError(
      'setup',
      `no admin token at ${paths.adminToken}; run \`warden init\` (WARDEN_HOME=${paths.root})`,
    );
  }
  return readFileSync(paths.adminToken, 'utf8').trim();
}

/** Whether `warden init` has run in this home. */
export function isInitialised(paths: HomePaths): boolean {
  return existsSync(paths.db) && existsSync(paths.adminToken);
}

/** This home's host secret (several hosts), made on first use; readable by its owner only. */
export function hostSecret(paths: HomePaths): string {
  if (!existsSync(paths.hostSecret)) {
    try {
      writeFileSync(paths.hostSecret, `${newToken()}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(paths.hostSecret, 'utf8').trim();
}
