import type { Command } from 'commander';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { checkName } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { boardColumns } from '../format.js';
import { parentStatuses } from '../parent-statuses.js';
import { pausedProfiles } from '../paused-profiles.js';
import type { PausedProfile } from '../../core/describe.js';
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
      const status = new Map<number, string>();
      const paused = new Map<string, PausedProfile>();
      const { board, tasks } = await withContext(async (ctx) => {
        const found = await ctx.store.getBoard(name);
        const listed = await ctx.store.listTasks({
          board: name,
          include_archived: opts.archived ?? false,
        });
        if (!opts.json) {
          await parentStatuses(ctx.store, listed, status);
          await pausedProfiles(ctx.store, listed, paused);
        }
        return { board: found, tasks: listed };
      }, READING);
      if (opts.json) {
        const columns: Record<string, number[]> = {};
        for (const t of tasks) (columns[t.status] ??= []).push(t.id);
        sayJson({ board: name, columns });
        return;
      }
      say(`board ${name}${board.paused ? ' (paused: nothing new is dispatched)' : ''}`);
      say(
        boardColumns(
          tasks,
          Date.now(),
          (id) => status.get(id),
          (p) => paused.get(p),
        ),
      );
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
