import type { Command } from 'commander';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { checkName } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { boardColumns } from '../format.js';
import { cardLookups } from '../card-notes.js';
import { say, sayJson, table, formatTime } from '../output.js';

export function register(program: Command): void {
  const board = program.command('board').description('boards: add, list, show, pause, resume');

  board
    .command('add')
    .description('add a board')
    .argument('<name>', 'the board name')
    .option('--json', 'print the board as JSON')
    .action(async (nameText: string, opts: { json?: boolean }) => {
      const name = checkName(nameText, 'board name');
      const b = await withContext((ctx) => ctx.store.addBoard(name, ctx.actor));
      if (opts.json) sayJson(b);
      else say(`board ${b.name} added`);
    });

  board
    .command('list')
    .description('list boards')
    .option('--json', 'print the boards as JSON')
    .action(async (opts: { json?: boolean }) => {
      const boards = await withContext((ctx) => ctx.store.listBoards(), READING);
      if (opts.json) sayJson(boards);
      else
        say(
          table(
            ['NAME', 'STATE', 'CREATED'],
            boards.map((b) => [b.name, b.paused ? 'paused' : 'active', formatTime(b.created_at)]),
          ),
        );
    });

  board
    .command('show')
    .description('the board as columns of cards')
    .argument('[name]', 'the board', DEFAULT_BOARD)
    .option('--archived', 'include archived tasks')
    .option('--json', 'print the tasks by status as JSON')
    .action(async (nameText: string, opts: { archived?: boolean; json?: boolean }) => {
      const name = checkName(nameText, 'board name');
      const { board, tasks, notes } = await withContext(async (ctx) => {
        const found = await ctx.store.getBoard(name);
        const listed = await ctx.store.listTasks({
          board: name,
          include_archived: opts.archived ?? false,
        });
        const notes = opts.json ? null : await cardLookups(ctx.store, listed);
        return { board: found, tasks: listed, notes };
      }, READING);
      if (opts.json) {
        const columns: Record<string, number[]> = {};
        for (const t of tasks) (columns[t.status] ??= []).push(t.id);
        sayJson({ board: name, columns });
        return;
      }
      say(`board ${name}${board.paused ? ' (paused: nothing new is dispatched)' : ''}`);
      say(boardColumns(tasks, Date.now(), notes?.statusOf, notes?.pausedProfile));
    });

  for (const verb of ['pause', 'resume'] as const) {
    board
      .command(verb)
      .description(
        verb === 'pause'
          ? 'stop starting runs on a board (running work goes on)'
          : 'start runs on a paused board again',
      )
      .argument('[name]', 'the board', DEFAULT_BOARD)
      .option('--json', 'print the board as JSON')
      .action(async (nameText: string, opts: { json?: boolean }) => {
        const name = checkName(nameText, 'board name');
        const b = await withContext((ctx) =>
          ctx.store.setBoardPaused(name, verb === 'pause', ctx.actor),
        );
        if (opts.json) sayJson(b);
        else say(`board ${b.name} is ${b.paused ? 'paused' : 'active'}`);
      });
  }
}
