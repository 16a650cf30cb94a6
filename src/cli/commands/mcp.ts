import type { Command } from 'commander';
import { WardenError } from '../../core/errors.js';
import { homePaths, readAdminToken, resolveHome } from '../../config/home.js';
import { serveStdio } from '../../mcp/server.js';
import type { McpRole } from '../../mcp/server.js';
import { withContext } from '../context.js';
import { packageVersion } from '../version.js';
import { liveServe } from '../../serve/find.js';

/**
 * Inside a run (WARDEN_RUN_TOKEN set) the worker tools; otherwise the orchestrator tools with
 * an admin token (WARDEN_ADMIN_TOKEN, or the home's admin.token) against the home's serve
 * (WARDEN_URL, or the URL the live serve registered).
 */
async function role(): Promise<McpRole> {
  const env = process.env;
  if (env.WARDEN_RUN_TOKEN) {
    if (!env.WARDEN_URL || !env.WARDEN_TASK_ID) {
      throw new WardenError(
        'setup',
        'WARDEN_URL and WARDEN_TASK_ID must be set with WARDEN_RUN_TOKEN; warden sets them for its workers',
      );
    }
    return {
      kind: 'worker',
      target: {
        url: env.WARDEN_URL,
        runToken: env.WARDEN_RUN_TOKEN,
        taskId: Number(env.WARDEN_TASK_ID),
      },
    };
  }
  const token = env.WARDEN_ADMIN_TOKEN ?? readAdminToken(homePaths(resolveHome(env)));
  const url =
    env.WARDEN_URL ?? (await withContext(async (ctx) => (await liveServe(ctx))?.url)) ?? null;
  if (url === null)
    throw new WardenError(
      'setup',
      'no warden serve is running for this home; start it or set WARDEN_URL',
    );
  return { kind: 'orchestrator', url, token };
}

export function register(program: Command): void {
  program
    .command('mcp')
    .description(
      'an MCP server over stdio: worker tools inside a run, orchestrator tools with an admin token',
    )
    .action(async () => {
      await serveStdio(await role(), packageVersion());
    });
}
