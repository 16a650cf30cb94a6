import type { Command } from 'commander';
import { checkName } from '../../core/checks.js';
import { costText } from '../../core/describe.js';
import { counted, cutNote } from '../../core/counting.js';
import { formatDuration } from '../../core/duration.js';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { formatTokens, totalTokens } from '../../core/llm.js';
import { REPORT_ORDER, workText } from '../../core/report.js';
import type { Report } from '../../core/report.js';
import { parseWindowStart } from '../../core/when.js';
import { readReport } from '../../store/report.js';
import { READING, withContext } from '../context.js';
import { noteCell } from '../format.js';
import { parseLimit } from '../options.js';
import { oneLine, say, sayJson, table } from '../output.js';

/** The report as text: a headline, the tasks by status, what the model cost, what waits. */
export function reportText(r: Report, now: number): string {
  const when = `since ${new Date(r.since).toISOString()} (${formatDuration(Math.max(0, now - r.since))} ago)`;
  if (r.total === 0) {
    const lines = [`no task of board ${r.board} was worked ${when}`];
    if (r.waiting > 0) lines.push(waitingLine(r.waiting));
    return lines.join('\n');
  }
  const counts = REPORT_ORDER.filter((s) => (r.counts[s] ?? 0) > 0)
    .map((s) => `${s} ${r.counts[s]}`)
    .join(', ');
  const lines = [
    `${counted(r.total, 'task')} of board ${r.board} worked ${when}: ${counts}`,
    table(
      ['ID', 'STATUS', 'ASSIGNEE', 'TITLE', 'BRANCH', 'WORK', 'RUNS', 'COST', 'NOTE'],
      r.tasks.map((t) => [
        String(t.id),
        t.status,
        t.assignee ?? '-',
        oneLine(t.title, 40),
        t.branch ?? '-',
        workText(t),
        String(t.runs),
        t.requests === 0 ? '-' : costText(t),
        noteCell(t.note, 70),
      ]),
    ),
  ];
  const s = r.spent;
  lines.push(
    s.requests === 0
      ? 'no model requests went through the proxy in that time'
      : `model: ${costText(s)} in ${counted(s.requests, 'request')}, ${formatTokens(totalTokens(s.tokens))} tokens`,
  );
  if (r.waiting > 0) lines.push(waitingLine(r.waiting));
  return lines.join('\n');
}

function waitingLine(n: number): string {
  return `${counted(n, 'thing')} wait${n === 1 ? 's' : ''} for a person: warden inbox`;
}

export function register(program: Command): void {
  program
    .command('report')
    .description(
      "what a board's workers did since a time: each task with its branch, work and cost, what the model cost, what waits for you",
    )
    .option('--since <when>', 'since a time (ISO 8601) or for a while back (12h, 2d)', '24h')
    .option('--board <name>', 'the board', DEFAULT_BOARD)
    .option('--limit <n>', 'at most this many tasks', '1000')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { since: string; board: string; limit: string; json?: boolean }) => {
      const now = Date.now();
      const since = parseWindowStart(opts.since, now, '--since');
      const board = checkName(opts.board, '--board');
      const limit = parseLimit(opts.limit);
      const report = await withContext(
        (ctx) => readReport(ctx.store, board, since, limit, now),
        READING,
      );
      if (opts.json) sayJson(report);
      else say(reportText(report, now));
      // On stderr, so a pipe of the report stays clean.
      const note = cutNote(report.tasks.length, report.total);
      if (note !== null) process.stderr.write(`${note}\n`);
    });
}
