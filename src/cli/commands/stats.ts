import type { Command } from 'commander';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { TASK_STATUSES } from '../../core/status.js';
import { checkName } from '../../core/checks.js';
import { READING, withContext } from '../context.js';
import { say, sayJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('stats')
    .description('counts of a board: tasks by status, runs by state and outcome, events')
    .option('--board <name>', 'the board', DEFAULT_BOARD)
    .option('--json', 'print the counts as JSON')
    .action(async (opts: { board: string; json?: boolean }) => {
      const board = checkName(opts.board, '--board');
      const stats = await withContext((ctx) => ctx.store.boardStats(board), READING);
      if (opts.json) {
        sayJson(stats);
        return;
      }
      say(`board ${stats.board}`);
      say(`tasks:    ${TASK_STATUSES.map((s) => `${s} ${stats.tasks[s]}`).join(', ')}`);
      say(
        `runs:     running ${stats.runs.running}, ending ${stats.runs.ending}, ended ${stats.runs.ended}`,
      );
      const outcomes = Object.entries(stats.outcomes);
      say(
        `outcomes: ${outcomes.length > 0 ? outcomes.map(([k, v]) => `${k} ${v}`).join(', ') : '(none yet)'}`,
      );
      say(`events:   ${stats.events}`);
    });
}
