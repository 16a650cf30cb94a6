import type { Command } from 'commander';
import { parseTaskId } from '../../core/checks.js';
import { withContext } from '../context.js';
import { say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('link')
    .description('make PARENT a parent of CHILD: the child waits until the parent is done')
    .argument('<parent>', 'the task that must finish first')
    .argument('<child>', 'the task that waits')
    .option('--json', 'print the child task as JSON')
    .action(async (parentText: string, childText: string, opts: { json?: boolean }) => {
      const parent = parseTaskId(parentText);
      const child = parseTaskId(childText);
      const task = await withContext((ctx) => ctx.store.linkTasks(parent, child, ctx.actor));
      if (opts.json) sayJson(task);
      else say(`task ${child} now waits for ${parent} [${task.status}]`);
    });
}
