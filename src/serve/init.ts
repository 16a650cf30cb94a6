import { hashToken, newToken } from '../os/token.js';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { WardenError } from '../core/errors.js';
import { person } from '../core/actor.js';
import { DEFAULT_BOARD } from '../core/glossary.js';
import { checkName, isName } from '../core/checks.js';
import type { Clock } from '../core/clock.js';
import { openStore } from '../store/open.js';
import { checkSqliteHeader } from '../store/sqlite/header.js';
import { missingDatabaseAdvice } from '../store/sqlite/open.js';
import { corruptError } from '../store/storage-errors.js';
import type { StoreLocation } from '../store/open.js';
import {
  closeDatabaseFiles,
  homePaths,
  isInitialised,
  makeHomeDirs,
  readAdminToken,
  writeAdminToken,
} from '../config/home.js';
import type { Store } from '../store/store.js';
import type { HomePaths } from '../config/home.js';

/** The name `init` gives the first person when none is given. */
export function defaultPersonName(): string {
  try {
    const name = userInfo().username;
    return isName(name) ? name : 'admin';
  } catch {
    return 'admin';
  }
}

/**
 * Sets up a home: folders (0700), the database with the `default` board, and an admin token
 * (file mode 0600, stored hashed). Does nothing to a home that is already set up. With a
 * shared PostgreSQL (`WARDEN_DB`), each host's home gets its own admin token in the one
 * database, and the schema is made by whichever host comes first.
 */
export async function initHome(
  root: string,
  name: string,
  clock: Clock,
  where: StoreLocation = { kind: 'sqlite', path: homePaths(root).db },
): Promise<{ created: boolean; paths: HomePaths }> {
  const paths = homePaths(root);
  if (where.kind === 'postgres') return initSharedHome(paths, name, clock, where);
  if (isInitialised(paths)) {
    // Set up already, but an empty or foreign file is not a home to leave as it is unsaid.
    const verdict = checkSqliteHeader(paths.db);
    if (!verdict.ok) throw corruptError(paths.db, 'header check', verdict.problem);
    // A home made before init closed it (its database 0644 under umask 022) is closed now.
    makeHomeDirs(paths);
    closeDatabaseFiles(paths.db);
    return { created: false, paths };
  }
  if (existsSync(paths.adminToken) && !existsSync(paths.db)) {
    // Never silently recreate a database (USER-PAINS: corrupt or lost databases).
    throw new WardenError(
      'setup',
      existsSync(paths.hostSecret)
        ? `${paths.root} has an admin token but no warden.db; ${missingDatabaseAdvice(paths.db)}`
        : `${paths.root} has an admin token but no warden.db; restore the database from a backup, or remove admin.token to start a new home`,
    );
  }
  const who = checkName(name, 'name');
  makeHomeDirs(paths);
  const store = await openStore(where, clock, { create: true });
  try {
    closeDatabaseFiles(paths.db);
    await addDefaultsAndToken(store, paths, who);
  } finally {
    await store.close();
  }
  return { created: true, paths };
}

async function initSharedHome(
  paths: HomePaths,
  name: string,
  clock: Clock,
  where: StoreLocation & { kind: 'postgres' },
): Promise<{ created: boolean; paths: HomePaths }> {
  const who = checkName(name, 'name');
  const store = await openStore(where, clock, { create: true });
  try {
    if (existsSync(paths.adminToken)) {
      const known = await store.findToken(hashToken(readAdminToken(paths)));
      if (known?.kind === 'admin') return { created: false, paths };
      throw new WardenError(
        'setup',
        `${paths.adminToken} belongs to another database than ${where.shown}; use a new WARDEN_HOME for this database`,
      );
    }
    makeHomeDirs(paths);
    await addDefaultsAndToken(store, paths, who);
  } finally {
    await store.close();
  }
  return { created: true, paths };
}

async function addDefaultsAndToken(store: Store, paths: HomePaths, who: string): Promise<void> {
  const actor = person(who);
  const boards = await store.listBoards();
  if (!boards.some((b) => b.name === DEFAULT_BOARD)) await store.addBoard(DEFAULT_BOARD, actor);
  const token = newToken();
  await store.addToken({ name: who, kind: 'admin', hash: hashToken(token) }, actor);
  writeAdminToken(paths, token);
}
