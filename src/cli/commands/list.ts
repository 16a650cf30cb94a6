import type { Command } from 'commander';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { checkName } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { taskTable } from '../format.js';
import { parseLimit, parseStatuses } from '../options.js';
import { say, sayJson } from '../output.js';
import type { Task } from '../../core/task.js';
import type { Store } from '../../store/store.js';

/** Most parents outside the listing `list` reads to say what holds a waiting task. */
const MAX_PARENT_READS = 100;

/**
 * The statuses of the parents of the listed `todo` tasks, so each card says what holds it
 * ("held by #8 (blocked)"): from the listing itself, else read (a bounded number).
 */
async function parentStatuses(
  store: Store,
  tasks: readonly Task[],
  into: Map<number, string>,
): Promise<void> {
  for (const t of tasks) into.set(t.id, t.status);
  const missing = new Set<number>();
  for (const t of tasks) {
    if (t.status !== 'todo') continue;
    for (const p of t.parents) if (!into.has(p)) missing.add(p);
  }
  for (const id of [...missing].slice(0, MAX_PARENT_READS)) {
    into.set(id, (await store.getTask(id)).status);
  }
}

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
        const status = new Map<number, string>();
        const tasks = await withContext(async (ctx) => {
          await ctx.store.getBoard(board);
          if (opts.assignee !== undefined) await ctx.store.getProfile(opts.assignee);
          const listed = await ctx.store.listTasks({
            board,
            ...(statuses ? { statuses } : {}),
            ...(opts.assignee !== undefined ? { assignee: opts.assignee } : {}),
            include_archived: opts.archived ?? false,
            limit,
          });
          if (!opts.json) await parentStatuses(ctx.store, listed, status);
          return listed;
        }, READING);
        if (opts.json) sayJson(tasks);
        else say(taskTable(tasks, Date.now(), (id) => status.get(id)));
      },
    );
}
