import type { Command } from 'commander';
import { checkName } from '../../core/checks.js';
import { dispatchOnce } from '../../serve/dispatch-once.js';
import { defaultHostId } from '../../serve/home-lock.js';
import { withContext } from '../context.js';
import { parseMaxWorkers } from '../options.js';
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
        opts.hostId === undefined ? defaultHostId() : checkName(opts.hostId, '--host-id');
      const { started, stoppedBy } = await withContext((ctx) =>
        dispatchOnce(
          { ...ctx, shared: ctx.where.kind === 'postgres' },
          hostId,
          opts.maxWorkers === undefined
            ? ctx.config.serve.max_workers
            : parseMaxWorkers(opts.maxWorkers),
        ),
      );
      say(
        `started ${started} worker${started === 1 ? '' : 's'}; \`warden serve\` will supervise them`,
      );
      if (stoppedBy !== null) {
        process.stderr.write(
          `warden: stopped by ${stoppedBy}: worktrees being made were stopped and their tasks put back in line\n`,
        );
        process.exitCode = stoppedBy === 'SIGINT' ? 130 : 143;
      }
    });
}
