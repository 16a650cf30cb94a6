import type { Command } from 'commander';
import { parseTaskId } from '../../core/checks.js';
import { withContext } from '../context.js';
import { say, sayJson } from '../output.js';

/**
 * A person's replies (issue #14): `answer` clears a worker's question and puts its task back
 * in line in one step; `request-changes` sends a task in review back with what to change;
 * `approve` opens an approval gate or approves a task in review.
 */
export function register(program: Command): void {
  program
    .command('answer')
    .description(
      "answer a worker's question: the task goes back in line, and its next attempt reads the answer first",
    )
    .argument('<id>', 'the task id')
    .argument('<text>', 'the answer')
    .option('--json', 'print the task as JSON')
    .action(async (idText: string, text: string, opts: { json?: boolean }) => {
      const id = parseTaskId(idText);
      const task = await withContext((ctx) => ctx.store.answerTask(id, text, ctx.actor));
      if (opts.json) sayJson(task);
      else say(`task ${task.id} answered; it is ${task.status}`);
    });
  program
    .command('request-changes')
    .description(
      'send a task in review back for more work: its next attempt reads your reason first',
    )
    .argument('<id>', 'the task id')
    .requiredOption('--reason <text>', 'what to change')
    .option('--json', 'print the task as JSON')
    .action(async (idText: string, opts: { reason: string; json?: boolean }) => {
      const id = parseTaskId(idText);
      const task = await withContext((ctx) =>
        ctx.store.requestChanges(id, opts.reason, ctx.actor, { config: ctx.config.policy }),
      );
      if (opts.json) sayJson(task);
      else say(`task ${task.id}: changes requested; it is ${task.status}`);
    });
  program
    .command('approve')
    .description('approve a task: one waiting for approval may then run; one in review is done')
    .argument('<id>', 'the task id')
    .option('--json', 'print the task as JSON')
    .action(async (idText: string, opts: { json?: boolean }) => {
      const id = parseTaskId(idText);
      const task = await withContext((ctx) => ctx.store.approveTask(id, ctx.actor));
      if (opts.json) sayJson(task);
      else if (task.status === 'done') say(`task ${task.id} approved: done`);
      else say(`task ${task.id} approved; it may run (${task.status})`);
    });
}
