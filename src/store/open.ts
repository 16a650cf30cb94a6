import type { Clock } from '../core/clock.js';
import { invalid } from '../core/errors.js';
import type { HomePaths } from '../config/home.js';
import type { Store } from './store.js';

/** Where a home's board lives: the embedded SQLite file, or a shared PostgreSQL. */
export type StoreLocation =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema: string | undefined; shown: string };

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Reads `WARDEN_DB`: unset means the home's SQLite file; `postgres://` (or `postgresql://`)
 * means a shared PostgreSQL, with an optional `?schema=NAME` (default: the server's
 * search_path, normally `public`). Anything else is refused with what to write instead.
 */
export function storeLocation(home: HomePaths, env: NodeJS.ProcessEnv): StoreLocation {
  const raw = env.WARDEN_DB?.trim() ?? '';
  if (raw === '') return { kind: 'sqlite', path: home.db };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(
      'WARDEN_DB: not a URL; write postgres://USER@HOST:PORT/DATABASE, or unset it to use the home’s SQLite file',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw invalid(
      `WARDEN_DB: ${url.protocol.replace(/:$/, '')} is not supported; write postgres://USER@HOST:PORT/DATABASE, or unset it to use the home’s SQLite file`,
    );
  }
  const schema = url.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw invalid(
      `WARDEN_DB: schema '${schema}' is not a plain lower-case name (letters, digits, _)`,
    );
  }
  url.searchParams.delete('schema');
  const shown = `${url.protocol}//${url.host}${url.pathname}${schema ? ` (schema ${schema})` : ''}`;
  return { kind: 'postgres', url: url.toString(), schema, shown };
}

/** How a command opens its store. */
export interface OpenOptions {
  /** Make a missing database (SQLite file, PostgreSQL schema): `init` only. */
  create: boolean;
  /**
   * SQLite: `read` for commands that only read (opened read-only, so they work on a read-only
   * home); `write` (default) checks the file first (`check`) and opens it read-write.
   */
  access?: 'read' | 'write';
  /** SQLite: the integrity check before writing, `quick` (default) or `full` (`serve`). */
  check?: 'quick' | 'full';
}

/**
 * Opens the store a home uses. With `create` a missing database (SQLite file, PostgreSQL
 * schema) is made; without it, it is an error that says to run `warden init`.
 *
 * Each backend's driver is imported only when it is used: a CLI call on a SQLite home never
 * loads pg, nor one on PostgreSQL the native SQLite module.
 */
export async function openStore(
  where: StoreLocation,
  clock: Clock,
  options: OpenOptions = { create: false },
): Promise<Store> {
  if (where.kind === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite/open.js');
    return openSqliteStore(where.path, clock, options);
  }
  const { openPgStore } = await import('./postgres/open.js');
  return openPgStore(
    {
      url: where.url,
      ...(where.schema !== undefined ? { schema: where.schema } : {}),
      create: options.create,
    },
    clock,
  );
}
