import type { Command } from 'commander';
import { WardenError } from '../../core/errors.js';
import { homePaths, readAdminToken, resolveHome } from '../../config/home.js';
import { serveStdio } from '../../mcp/server.js';
import type { McpRole } from '../../mcp/server.js';
import { withContext } from '../context.js';
import { packageVersion } from '../version.js';
import { liveServe } from '../../serve/find.js';

/**
 * The role comes from the run's token only (issue #12): inside a run (WARDEN_RUN_TOKEN set) the
 * worker tools, and `--orchestrator` is refused there. Without a run token, the orchestrator
 * tools only when asked for with `--orchestrator`, with an admin token (WARDEN_ADMIN_TOKEN, or
 * the home's admin.token) against the home's serve (WARDEN_URL, or the URL the live serve
 * registered). Never by falling back: an agent CLI that starts its MCP servers with a cleaned
 * environment would otherwise hand the run's agent every orchestrator tool.
 */
async function role(orchestrator: boolean): Promise<McpRole> {
  const env = process.env;
  if (env.WARDEN_RUN_TOKEN) {
    if (orchestrator) {
      throw new WardenError(
        'forbidden',
        'warden mcp --orchestrator is refused inside a run (WARDEN_RUN_TOKEN is set): a run gets the worker tools of its own task',
      );
    }
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
        runDir: env.WARDEN_RUN_DIR || null,
        ...retryFor(env),
      },
    };
  }
  if (!orchestrator) {
    throw new WardenError(
      'forbidden',
      'warden mcp: no run token (WARDEN_RUN_TOKEN) to serve a run with; an orchestrator must ask with --orchestrator',
    );
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

/**
 * `WARDEN_RETRY_FOR_MS`, as `warden worker` reads it (cli/worker-call.ts), if set. One that is
 * not milliseconds is said on standard error and the default used: a server that refused to
 * start left its agent with no warden tools, and nothing said why where a person would look.
 */
function retryFor(env: NodeJS.ProcessEnv): { retryForMs?: number } {
  const retry = env.WARDEN_RETRY_FOR_MS;
  if (retry === undefined) return {};
  if (!/^\d+$/.test(retry)) {
    process.stderr.write(
      `warden mcp: WARDEN_RETRY_FOR_MS='${retry}' is not a number of milliseconds; calls are retried for the default 10 minutes\n`,
    );
    return {};
  }
  return { retryForMs: Number(retry) };
}

export function register(program: Command): void {
  program
    .command('mcp')
    .description(
      'an MCP server over stdio: worker tools inside a run (by its run token), orchestrator tools with --orchestrator and an admin token',
    )
    .option(
      '--orchestrator',
      "serve the orchestrator tools with the home's admin token (not inside a run)",
    )
    .action(async (opts: { orchestrator?: boolean }) => {
      await serveStdio(await role(opts.orchestrator === true), packageVersion());
    });
}
