import type { Command } from 'commander';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { checkName } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { taskTable } from '../format.js';
import { parseLimit, parseStatuses } from '../options.js';
import { say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('list')
    .description('list the tasks of a board, highest priority first')
    .option('--status <list>', 'only these statuses, comma separated (e.g. ready,running)')
    .option('--assignee <profile>', 'only tasks of this profile')
    .option('--board <name>', 'the board', DEFAULT_BOARD)
    .option('--archived', 'include archived tasks')
    .option('--limit <n>', 'at most this many', '1000')
    .option('--json', 'print the tasks as JSON')
    .action(
      async (opts: {
        status?: string;
        assignee?: string;
        board: string;
        archived?: boolean;
        limit: string;
        json?: boolean;
      }) => {
        const statuses = opts.status === undefined ? undefined : parseStatuses(opts.status);
        const board = checkName(opts.board, '--board');
        const limit = parseLimit(opts.limit);
        const tasks = await withContext(async (ctx) => {
          await ctx.store.getBoard(board);
          if (opts.assignee !== undefined) await ctx.store.getProfile(opts.assignee);
          return ctx.store.listTasks({
            board,
            ...(statuses ? { statuses } : {}),
            ...(opts.assignee !== undefined ? { assignee: opts.assignee } : {}),
            include_archived: opts.archived ?? false,
            limit,
          });
        }, READING);
        if (opts.json) sayJson(tasks);
        else say(taskTable(tasks, Date.now()));
      },
    );
}
