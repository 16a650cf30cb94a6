import type { Command } from 'commander';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { TASK_STATUSES } from '../../core/status.js';
import { checkName } from '../../core/checks.js';
import { costText } from '../../core/describe.js';
import { invalid } from '../../core/errors.js';
import { formatTokens, totalTokens, utcDayStart } from '../../core/llm.js';
import type { LlmStatRow } from '../../store/sql/llm-stats.js';
import { READING, withContext } from '../context.js';
import { parseIntOption } from '../options.js';
import { say, sayJson, table } from '../output.js';

const MAX_DAYS = 3660;

function parseDays(text: string): number {
  const n = parseIntOption(text, '--days');
  if (n < 1 || n > MAX_DAYS) throw invalid(`--days: must be from 1 to ${MAX_DAYS}, got ${n}`);
  return n;
}

/** One section of model usage as a table, or a line saying there is none. */
function usageTable(title: string, head: string, rows: readonly LlmStatRow[]): string {
  if (rows.length === 0) return `${title}: none`;
  const t = table(
    [head, 'REQUESTS', 'TOKENS', 'IN', 'OUT', 'CACHE READ', 'CACHE WRITE', 'COST'],
    rows.map((r) => [
      r.key,
      String(r.requests),
      formatTokens(totalTokens(r.tokens)),
      formatTokens(r.tokens.input),
      formatTokens(r.tokens.output),
      formatTokens(r.tokens.cache_read),
      formatTokens(r.tokens.cache_write),
      costText(r),
    ]),
  );
  return `${title}:\n${t.replace(/^/gm, '  ')}`;
}

export function register(program: Command): void {
  program
    .command('stats')
    .description(
      'counts of a board: tasks by status, runs by state and outcome, events, model usage',
    )
    .option('--board <name>', 'the board', DEFAULT_BOARD)
    .option('--days <n>', 'model usage over the last N UTC days, today included', '7')
    .option('--json', 'print the counts as JSON')
    .action(async (opts: { board: string; days: string; json?: boolean }) => {
      const board = checkName(opts.board, '--board');
      const days = parseDays(opts.days);
      const since = utcDayStart(Date.now()) - (days - 1) * 86_400_000;
      const { stats, llm } = await withContext(
        async (ctx) => ({
          stats: await ctx.store.boardStats(board),
          llm: {
            days,
            since,
            by_profile: await ctx.store.llmStats({ by: 'profile', board, since }),
            by_board: await ctx.store.llmStats({ by: 'board', since }),
            by_day: await ctx.store.llmStats({ by: 'day', board, since }),
          },
        }),
        READING,
      );
      if (opts.json) {
        sayJson({ ...stats, llm });
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
      const window = `last ${days} day${days === 1 ? '' : 's'} (UTC)`;
      if (llm.by_board.length === 0) {
        say(`model usage, ${window}: no requests through the model proxy`);
        return;
      }
      say(`\nmodel usage, ${window}`);
      say(usageTable(`per profile on board ${board}`, 'PROFILE', llm.by_profile));
      say(usageTable('per board', 'BOARD', llm.by_board));
      say(usageTable(`per day on board ${board}`, 'DAY', llm.by_day));
    });
}
