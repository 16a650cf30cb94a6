import { hashToken } from '../os/token.js';
import type { Actor } from '../core/actor.js';
import { person } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import { WardenError } from '../core/errors.js';
import { systemClock } from '../config/clock.js';
import { loadConfig } from '../config/config.js';
import type { WardenConfig } from '../config/config.js';
import { homePaths, readAdminToken, resolveHome } from '../config/home.js';
import type { HomePaths } from '../config/home.js';
import type { Store } from '../store/store.js';
import { openStore, storeLocation } from '../store/open.js';
import type { OpenOptions, StoreLocation } from '../store/open.js';

/** What a command needs: the home, its store and who is acting. */
export interface CliContext {
  home: HomePaths;
  config: WardenConfig;
  store: Store;
  actor: Actor;
  clock: Clock;
  /** Where the store is: the home's SQLite file or the shared PostgreSQL of `WARDEN_DB`. */
  where: StoreLocation;
}

/** How a command uses the store: only reads (works on a read-only home), or writes. */
export type ContextOptions = Pick<OpenOptions, 'access' | 'check'>;

/**
 * Opens the home named by `WARDEN_HOME` and identifies the person by the admin token kept
 * there. Says to run `warden init` when the home is not set up. A command that only reads
 * passes `{ access: 'read' }`.
 */
export async function openContext(
  env: NodeJS.ProcessEnv = process.env,
  options: ContextOptions = {},
): Promise<CliContext> {
  const home = homePaths(resolveHome(env));
  const config = loadConfig(home.config);
  const where = storeLocation(home, env);
  const token = readAdminToken(home);
  const store = await openStore(where, systemClock, { create: false, ...options });
  try {
    const info = await store.findToken(hashToken(token));
    if (!info || info.kind !== 'admin') {
      throw new WardenError(
        'unauthorized',
        `the token in ${home.adminToken} is not known to ${where.kind === 'sqlite' ? "this home's database" : where.shown}; restore the file, check WARDEN_DB, or run \`warden init\` in a new home`,
      );
    }
    return { home, config, store, actor: person(info.name), clock: systemClock, where };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Runs `fn` with an open context and closes the store afterwards. */
export async function withContext<T>(
  fn: (ctx: CliContext) => Promise<T>,
  options: ContextOptions = {},
): Promise<T> {
  const ctx = await openContext(process.env, options);
  try {
    return await fn(ctx);
  } finally {
    await ctx.store.close();
  }
}

/** The options of a command that only reads: it opens the store read-only. */
export const READING: ContextOptions = { access: 'read' };
