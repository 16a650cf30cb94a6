import type { Command } from 'commander';
import { WardenError } from '../../core/errors.js';
import { parseTaskId } from '../../core/checks.js';
import { endTaskRun } from '../../serve/stop.js';
import { withContext } from '../context.js';
import { say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('stop')
    .description(
      'end a task’s run and wait until its processes are verified gone; the task is blocked unless --requeue',
    )
    .argument('<id>', 'the task id')
    .option('--requeue', 'put the task back in line instead of blocking it')
    .option('--now', 'skip the kill grace: SIGKILL at once')
    .option('--json', 'print the result as JSON')
    .action(async (idText: string, opts: { requeue?: boolean; now?: boolean; json?: boolean }) => {
      const id = parseTaskId(idText);
      const result = await withContext((ctx) =>
        endTaskRun(ctx, id, { requeue: opts.requeue ?? false, now: opts.now ?? false }),
      );
      if (opts.json) sayJson(result);
      if (!result.verified_gone) throw new WardenError('setup', result.message);
      if (!opts.json) say(result.message);
    });
}
