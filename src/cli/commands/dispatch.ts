import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { nameSchema, parseInput } from '../../core/validate.js';
import { Dispatcher } from '../../dispatcher/dispatcher.js';
import { defaultHostId, takeHome } from '../../dispatcher/host.js';
import { workerBaseEnv, writeWardenShim } from '../../dispatcher/worker-env.js';
import { identify } from '../../supervisor/procfs.js';
import { Supervisor } from '../../supervisor/supervisor.js';
import { withContext } from '../context.js';
import { parseIntOption } from '../options.js';
import { say } from '../output.js';

export function register(program: Command): void {
  program
    .command('dispatch')
    .description('start workers for what is ready now, once, then exit (refused while serve runs)')
    .requiredOption('--once', 'one pass (the only mode; serve runs the loop)')
    .option('--host-id <name>', 'the host the runs belong to (default: the machine’s hostname)')
    .option('--max-workers <n>', 'most live workers on this host')
    .action(async (opts: { hostId?: string; maxWorkers?: string }) => {
      const hostId =
        opts.hostId === undefined
          ? defaultHostId()
          : parseInput(nameSchema, opts.hostId, '--host-id');
      const started = await withContext(async (ctx) => {
        if (ctx.where.kind === 'postgres') {
          throw invalid(
            'dispatch --once is for one host on SQLite; with several hosts (WARDEN_DB) run `warden serve` on each',
          );
        }
        await takeHome(ctx.store, hostId, null);
        const binDir = writeWardenShim(ctx.home.root);
        const maxWorkers =
          opts.maxWorkers === undefined
            ? ctx.config.serve.max_workers
            : parseIntOption(opts.maxWorkers, '--max-workers');
        const supervisor = new Supervisor({
          store: ctx.store,
          host: hostId,
          clock: ctx.clock,
          config: ctx.config.policy,
          runsDir: ctx.home.runs,
          baseEnv: () => workerBaseEnv(binDir),
        });
        let count = 0;
        const dispatcher = new Dispatcher({
          store: ctx.store,
          supervisor,
          host: hostId,
          maxWorkers: () => maxWorkers,
          workspaceRoot: ctx.home.workspaces,
          // Workers find the API where serve will listen; their calls wait for it.
          wardenEnv: () => ({
            WARDEN_URL: `http://${ctx.config.serve.bind}:${ctx.config.serve.port}`,
          }),
          log: () => (count += 1),
        });
        try {
          await dispatcher.pass();
        } finally {
          const me = identify(process.pid);
          if (me) await ctx.store.releaseHome(hostId, me);
        }
        return count;
      });
      say(
        `started ${started} worker${started === 1 ? '' : 's'}; \`warden serve\` will supervise them`,
      );
    });
}
