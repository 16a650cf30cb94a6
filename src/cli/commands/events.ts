import type { Command } from 'commander';
import { EVENT_KINDS } from '../../core/events.js';
import type { EventKind, WardenEvent } from '../../core/events.js';
import { invalid } from '../../core/errors.js';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { checkName, parseTaskId } from '../../core/checks.js';
import type { EventFilter } from '../../store/store.js';
import { READING, openContext } from '../context.js';
import { eventLine } from '../format.js';
import { parseIntOption, parseLimit } from '../options.js';
import { parseSince } from '../../core/when.js';
import { say, sayJson } from '../output.js';

interface EventsOptions {
  task?: string;
  board?: string;
  kind?: string;
  after?: string;
  since?: string;
  limit: string;
  follow?: boolean;
  json?: boolean;
}

const FOLLOW_POLL_MS = 250;

function parseKinds(text: string): EventKind[] {
  return text.split(',').map((k) => {
    const kind = k.trim();
    if (!(EVENT_KINDS as readonly string[]).includes(kind)) {
      throw invalid(`--kind: unknown event kind '${kind}'; known: ${EVENT_KINDS.join(', ')}`);
    }
    return kind as EventKind;
  });
}

export function register(program: Command): void {
  program
    .command('events')
    .description("the board's history: who did what, when (--follow to keep watching)")
    .option('--task <id>', 'only events of this task')
    .option(
      '--board <name>',
      `only events of this board and of no board (default: ${DEFAULT_BOARD} unless --task)`,
    )
    .option('--kind <list>', 'only these kinds, comma separated')
    .option('--after <id>', 'only events after this event id')
    .option('--since <when>', 'only events since a time (ISO 8601) or for a while (10m, 2h)')
    .option('--limit <n>', 'at most this many', '1000')
    .option(
      '--follow',
      'keep printing new events until interrupted; starts at the end unless --since or --after',
    )
    .option('--json', 'print JSON (one object per line with --follow)')
    .action(async (opts: EventsOptions) => {
      // Without a cursor, the newest events are shown (oldest first), as a log tail would.
      const filter: EventFilter = {
        limit: parseLimit(opts.limit),
        newest: opts.after === undefined && opts.since === undefined,
      };
      if (opts.since !== undefined) filter.since = parseSince(opts.since, Date.now(), '--since');
      if (opts.task !== undefined) filter.task_id = parseTaskId(opts.task);
      else {
        filter.board = checkName(opts.board ?? DEFAULT_BOARD, '--board');
        filter.include_global = true;
      }
      if (opts.task !== undefined && opts.board !== undefined) {
        filter.board = checkName(opts.board, '--board');
      }
      if (opts.kind !== undefined) filter.kinds = parseKinds(opts.kind);
      if (opts.after !== undefined) {
        filter.after_id = parseIntOption(opts.after, '--after');
        if (filter.after_id < 0) throw invalid('--after: must be an event id, 0 or more');
      }
      const ctx = await openContext(process.env, READING);
      try {
        if (filter.task_id !== undefined) await ctx.store.getTask(filter.task_id);
        else if (filter.board !== undefined) await ctx.store.getBoard(filter.board);
        // `--follow` alone starts at the end, as `tail -f` does: only what happens from now on.
        const fromEnd =
          opts.follow === true && opts.after === undefined && opts.since === undefined;
        const first = fromEnd
          ? []
          : await ctx.store.listEvents({ ...filter, final: opts.follow === true });
        if (!opts.follow) {
          if (opts.json) sayJson(first);
          else say(first.length > 0 ? first.map(eventLine).join('\n') : 'no events');
          return;
        }
        const print = (events: readonly WardenEvent[]): void => {
          for (const e of events) say(opts.json ? JSON.stringify(e) : eventLine(e));
        };
        print(first);
        const end = fromEnd
          ? await ctx.store.listEvents({ ...filter, newest: true, limit: 1, final: true })
          : [];
        let cursor = first.at(-1)?.id ?? end.at(-1)?.id ?? filter.after_id ?? 0;
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            clearInterval(timer);
            resolve();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          let busy = false;
          const timer = setInterval(() => {
            if (busy) return;
            busy = true;
            ctx.store
              .listEvents({ ...filter, after_id: cursor, newest: false })
              .then((next) => {
                print(next);
                cursor = next.at(-1)?.id ?? cursor;
              })
              .catch((err: unknown) => {
                process.stderr.write(`warden: ${(err as Error).message}\n`);
                stop();
              })
              .finally(() => {
                busy = false;
              });
          }, FOLLOW_POLL_MS);
        });
      } finally {
        await ctx.store.close();
      }
    });
}
