import type { Command } from 'commander';
import { checkName } from '../../core/checks.js';
import { counted, cutNote } from '../../core/counting.js';
import { formatDuration } from '../../core/duration.js';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import type { Inbox } from '../../core/inbox.js';
import { readInbox } from '../../store/inbox.js';
import { READING, withContext } from '../context.js';
import { parseLimit } from '../options.js';
import { say, sayJson } from '../output.js';

/** The inbox as text: one item per two lines, what waits and the command that clears it. */
export function inboxText(inbox: Inbox, now: number): string {
  if (inbox.total === 0) return `nothing waits for a person on board ${inbox.board}`;
  const lines = [
    `${counted(inbox.total, 'thing')} wait${inbox.total === 1 ? 's' : ''} for a person on board ${inbox.board}, newest first:`,
  ];
  for (const i of inbox.items) {
    lines.push(
      `${i.kind.padEnd(14)} ${i.text} (${formatDuration(Math.max(0, now - i.since))} ago)`,
    );
    lines.push(`${''.padEnd(14)} → ${i.command}`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('inbox')
    .description(
      'everything that waits for a person, newest first, each with the command that clears it',
    )
    .option('--board <name>', 'the board', DEFAULT_BOARD)
    .option('--limit <n>', 'at most this many tasks', '1000')
    .option('--json', 'print the inbox as JSON')
    .action(async (opts: { board: string; limit: string; json?: boolean }) => {
      const board = checkName(opts.board, '--board');
      const limit = parseLimit(opts.limit);
      const now = Date.now();
      const inbox = await withContext((ctx) => readInbox(ctx.store, board, limit, now), READING);
      if (opts.json) sayJson(inbox);
      else say(inboxText(inbox, now));
      // On stderr, so a pipe of the listing stays clean.
      const note = cutNote(inbox.items.length, inbox.total);
      if (note !== null) process.stderr.write(`${note}\n`);
    });
}
