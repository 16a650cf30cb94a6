import type { Command } from 'commander';
import { parseTaskId } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { runLines, taskDetail } from '../format.js';
import { say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('show')
    .description('show one task: fields, links, comments and runs')
    .argument('<id>', 'the task id')
    .option('--json', 'print the task as JSON, with comments and runs')
    .action(async (idText: string, opts: { json?: boolean }) => {
      const id = parseTaskId(idText);
      const { task, comments, runs } = await withContext(
        async (ctx) => ({
          task: await ctx.store.getTask(id),
          comments: await ctx.store.listComments(id),
          runs: await ctx.store.listRuns(id),
        }),
        READING,
      );
      if (opts.json) {
        sayJson({ ...task, comments, runs });
        return;
      }
      const now = Date.now();
      say(taskDetail(task, comments, now));
      if (runs.length > 0) say(`\nruns:\n${runLines(runs, now)}`);
    });
}
