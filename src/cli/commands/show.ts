import type { Command } from 'commander';
import { parseTaskId } from '../../core/checks.js';
import { redactRun } from '../../core/hidden-env.js';
import { sumUsage, unpricedNote, usageLine } from '../../core/describe.js';
import { READING, withContext } from '../context.js';
import { runLines, taskDetail } from '../format.js';
import { say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('show')
    .description('show one task: fields, links, questions, comments and runs')
    .argument('<id>', 'the task id')
    .option('--json', 'print the task as JSON, with questions, comments and runs')
    .action(async (idText: string, opts: { json?: boolean }) => {
      const id = parseTaskId(idText);
      const { task, comments, questions, runs, worktree } = await withContext(
        async (ctx) => ({
          task: await ctx.store.getTask(id),
          comments: await ctx.store.listComments(id),
          questions: await ctx.store.listQuestions(id),
          runs: await ctx.store.listRuns(id),
          worktree: await ctx.store.getWorktree(id),
        }),
        READING,
      );
      if (opts.json) {
        sayJson({ ...task, comments, questions, runs: runs.map(redactRun), worktree });
        return;
      }
      const now = Date.now();
      say(taskDetail(task, comments, now, questions));
      if (worktree) {
        const gone = worktree.removed_at === null ? '' : ' (removed)';
        say(
          `worktree:  ${worktree.path}${gone} on ${worktree.branch} from ${worktree.base_sha.slice(0, 10)}, host ${worktree.host_id}`,
        );
      }
      const usage = sumUsage(runs.map((r) => r.llm));
      if (usage.requests > 0) {
        say(`model:     ${usageLine(usage)}`);
        const note = unpricedNote(usage.unpriced);
        if (note !== null) say(`           ${note}`);
      }
      if (runs.length > 0) say(`\nruns:\n${runLines(runs, now)}`);
    });
}
