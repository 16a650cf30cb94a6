import type { Command } from 'commander';
import { parseTaskId } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { runLines } from '../format.js';
import { say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('runs')
    .description("list a task's runs with their outcome and the reason in words")
    .argument('<id>', 'the task id')
    .option('--json', 'print the runs as JSON')
    .action(async (idText: string, opts: { json?: boolean }) => {
      const id = parseTaskId(idText);
      const runs = await withContext((ctx) => ctx.store.listRuns(id), READING);
      if (opts.json) sayJson(runs);
      else say(runLines(runs, Date.now()));
    });
}
