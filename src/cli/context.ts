import type { Actor } from '../core/actor.js';
import { person } from '../core/actor.js';
import { hashToken } from '../os/token.js';
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

/** What a command that only reads needs: the home and its store. */
export interface ReadContext {
  home: HomePaths;
  config: WardenConfig;
  store: Store;
  clock: Clock;
  /** Where the store is: the home's SQLite file or the shared PostgreSQL of `WARDEN_DB`. */
  where: StoreLocation;
}

/** What a command that writes needs: also who is acting, known by the home's admin token. */
export interface CliContext extends ReadContext {
  actor: Actor;
}

/**
 * How a command uses the store: only reads (works on a read-only home), or writes; and
 * whether it acts as the person of the home's admin token (`identify`, the default). A
 * command that acts looks its token up in the store; that takes hashing it with node:crypto,
 * whose loading costs a command about as much as its SQLite driver, so a read skips it.
 */
export type ContextOptions = Pick<OpenOptions, 'access' | 'check'> & { identify?: boolean };

/** The options of a command that only reads: read-only store, no identity. */
export const READING = { access: 'read', identify: false } as const;

/** A read that still acts as the person (a dry run that reports as its real run would). */
export const READING_AS_PERSON = { access: 'read' } as const;

type Anonymous = ContextOptions & { identify: false };
type Identified = ContextOptions & { identify?: true };

/**
 * Opens the home named by `WARDEN_HOME` and, unless `identify` is false, identifies the person
 * by the admin token kept there. Says to run `warden init` when the home is not set up (a read
 * too: the token file marks a home that was set up).
 */
export async function openContext(env: NodeJS.ProcessEnv, options: Anonymous): Promise<ReadContext>;
export async function openContext(
  env?: NodeJS.ProcessEnv,
  options?: Identified,
): Promise<CliContext>;
export async function openContext(
  env: NodeJS.ProcessEnv = process.env,
  options: ContextOptions = {},
): Promise<ReadContext | CliContext> {
  const { identify = true, ...access } = options;
  const home = homePaths(resolveHome(env));
  const config = await loadConfig(home.config);
  const where = storeLocation(home, env);
  const token = readAdminToken(home);
  const store = await openStore(where, systemClock, { create: false, ...access });
  const context: ReadContext = { home, config, store, clock: systemClock, where };
  if (!identify) return context;
  try {
    const info = await store.findToken(hashToken(token));
    if (!info || info.kind !== 'admin') {
      throw new WardenError(
        'unauthorized',
        `the token in ${home.adminToken} is not known to ${where.kind === 'sqlite' ? "this home's database" : where.shown}; restore the file, check WARDEN_DB, or run \`warden init\` in a new home`,
      );
    }
    return { ...context, actor: person(info.name) };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Runs `fn` with an open context and closes the store afterwards. */
export async function withContext<T>(
  fn: (ctx: ReadContext) => Promise<T>,
  options: Anonymous,
): Promise<T>;
export async function withContext<T>(
  fn: (ctx: CliContext) => Promise<T>,
  options?: Identified,
): Promise<T>;
export async function withContext<T>(
  fn: (ctx: CliContext) => Promise<T>,
  options: ContextOptions = {},
): Promise<T> {
  const ctx = await openContext(process.env, options as Identified);
  try {
    return await fn(ctx);
  } finally {
    await ctx.store.close();
  }
}
