import type { Command } from 'commander';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { checkName } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { taskTable } from '../format.js';
import { parseLimit, parseStatuses } from '../options.js';
import { say, sayJson } from '../output.js';
import type { TaskFilter } from '../../core/task.js';
import { cutNote } from '../../core/counting.js';
import { cardLookups } from '../card-notes.js';

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
        const { tasks, total, notes } = await withContext(async (ctx) => {
          await ctx.store.getBoard(board);
          if (opts.assignee !== undefined) await ctx.store.getProfile(opts.assignee);
          const filter: TaskFilter = {
            board,
            ...(statuses ? { statuses } : {}),
            ...(opts.assignee !== undefined ? { assignee: opts.assignee } : {}),
            include_archived: opts.archived ?? false,
          };
          const listed = await ctx.store.listTasks({ ...filter, limit });
          const looked = opts.json ? null : await cardLookups(ctx.store, listed);
          // Counted only when the limit may have cut the listing.
          const all =
            listed.length < limit ? listed.length : await ctx.store.countMatchingTasks(filter);
          return { tasks: listed, total: all, notes: looked };
        }, READING);
        if (opts.json) sayJson(tasks);
        else say(taskTable(tasks, Date.now(), notes?.statusOf, notes?.pausedProfile));
        // On stderr, so a pipe of the listing (or of its JSON) stays clean.
        const note = cutNote(tasks.length, total);
        if (note !== null) process.stderr.write(`${note}\n`);
      },
    );
}
