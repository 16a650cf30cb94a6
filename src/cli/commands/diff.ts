import type { Command } from 'commander';
import { parseTaskId } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { say } from '../output.js';
import { offBranchNote, workOffBranch } from '../../core/worktree.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description("a task's changes against its base (worktree workspaces; docs/worktrees.md)")
    .argument('<id>', 'the task id')
    .option('--stat', 'only the files changed and the lines added and removed')
    .action(async (idText: string, opts: { stat?: boolean }) => {
      const id = parseTaskId(idText);
      const { rec, runs } = await withContext(async (ctx) => {
        await ctx.store.getTask(id);
        return { rec: await ctx.store.getWorktree(id), runs: await ctx.store.listRuns(id) };
      }, READING);
      // Loaded here only: the store is closed by now, and git's module is this command's alone.
      const { taskDiffView } = await import('../../git/worktree.js');
      const view = await taskDiffView(id, rec, opts.stat !== true);
      const text = opts.stat ? view.stat : (view.diff ?? '');
      // Printed as git gives it, so it can be piped to `git apply`; nothing at all when empty.
      if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      if (view.truncated)
        say(`(cut at ${text.length} bytes; see the rest with git in ${rec?.path ?? ''})`);
      // On standard error, so the diff itself still pipes to `git apply`.
      const off = workOffBranch(runs);
      if (off !== null && rec !== null)
        process.stderr.write(`note: ${offBranchNote(off, rec.branch, rec.repo)}\n`);
    });
}
