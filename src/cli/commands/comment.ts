import type { Command } from 'commander';
import { parseTaskId } from '../../core/checks.js';
import { withContext } from '../context.js';
import { say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('comment')
    .description('add a comment to a task; its worker sees recent comments')
    .argument('<id>', 'the task id')
    .argument('<text>', 'the comment')
    .option('--json', 'print the comment as JSON')
    .action(async (idText: string, text: string, opts: { json?: boolean }) => {
      const id = parseTaskId(idText);
      const comment = await withContext((ctx) => ctx.store.addComment(id, text, ctx.actor));
      if (opts.json) sayJson(comment);
      else say(`comment ${comment.id} added to task ${id}`);
    });
}
