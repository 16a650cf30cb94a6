import type { Command } from 'commander';
import { checkName } from '../../core/checks.js';
import { invalid } from '../../core/errors.js';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import type { CatchUp, Schedule } from '../../core/schedule.js';
import { READING, withContext } from '../context.js';
import { parseIntOption } from '../options.js';
import { oneLine, say, sayJson, table } from '../output.js';

interface AddOptions {
  cron: string;
  title: string;
  body?: string;
  assignee?: string;
  priority: string;
  board: string;
  tz?: string;
  catchUp: string;
  json?: boolean;
}

function catchUp(text: string): CatchUp {
  if (text !== 'skip' && text !== 'once') {
    throw invalid(`--catch-up: expected skip or once, got '${text}'`);
  }
  return text;
}

/** A time as the schedule's own zone reads it, named: `2026-05-04 09:00:00 Europe/Oslo`. */
function inZone(ms: number, tz: string): string {
  // sv-SE writes dates and times as ISO 8601 does (2026-05-04 09:00:00).
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(ms);
  return `${text} ${tz}`;
}

function when(s: Schedule): string {
  if (s.paused) return 'paused';
  return s.next_at === null ? 'never again' : inZone(s.next_at, s.tz);
}

export function register(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('recurring tasks: a cron expression and the task each firing creates');

  schedule
    .command('add')
    .description('add a schedule; `serve` creates one task at each firing')
    .argument('<name>', 'the schedule name')
    .requiredOption('--cron <expr>', "five fields or @hourly/@daily/..., like '0 9 * * MON-FRI'")
    .requiredOption('--title <text>', 'the title of each task it creates')
    .option('--body <text>', 'the full description of each task')
    .option('--assignee <profile>', 'the profile that will work each task')
    .option('--priority <n>', 'higher runs first', '0')
    .option('--board <name>', 'the board the tasks go on', DEFAULT_BOARD)
    .option('--tz <zone>', 'the IANA time zone the expression is read in (default UTC)')
    .option('--catch-up <policy>', "missed firings: 'skip' them, or make 'once' one task", 'skip')
    .option('--json', 'print the schedule as JSON')
    .action(async (name: string, opts: AddOptions) => {
      const input = {
        name,
        board: opts.board,
        cron: opts.cron,
        tz: opts.tz,
        catch_up: catchUp(opts.catchUp),
        template: {
          title: opts.title,
          body: opts.body,
          assignee: opts.assignee,
          priority: parseIntOption(opts.priority, '--priority'),
        },
      };
      const s = await withContext((ctx) => ctx.store.addSchedule(input, ctx.actor));
      if (opts.json) sayJson(s);
      else say(`schedule ${s.name} added: '${s.cron}' (${s.tz}), next ${when(s)}`);
    });

  schedule
    .command('list')
    .description('list schedules with their next firing')
    .option('--board <name>', 'only the schedules of this board')
    .option('--json', 'print the schedules as JSON')
    .action(async (opts: { board?: string; json?: boolean }) => {
      const board = opts.board === undefined ? undefined : checkName(opts.board, 'board name');
      const list = await withContext((ctx) => ctx.store.listSchedules(board), READING);
      if (opts.json) return sayJson(list);
      if (list.length === 0) {
        return say(
          "no schedules; add one with `warden schedule add NAME --cron '0 9 * * *' --title TEXT`",
        );
      }
      say(
        table(
          ['NAME', 'BOARD', 'CRON', 'TZ', 'NEXT', 'CATCH-UP', 'FIRED', 'SKIPPED', 'TITLE'],
          list.map((s) => [
            s.name,
            s.board,
            s.cron,
            s.tz,
            when(s),
            s.catch_up,
            String(s.fired),
            String(s.skipped),
            oneLine(s.template.title, 40),
          ]),
        ),
      );
    });

  for (const verb of ['pause', 'resume'] as const) {
    schedule
      .command(verb)
      .description(
        verb === 'pause'
          ? 'stop a schedule from firing'
          : 'fire a paused schedule again, from its next firing after now',
      )
      .argument('<name>', 'the schedule name')
      .option('--json', 'print the schedule as JSON')
      .action(async (nameText: string, opts: { json?: boolean }) => {
        const name = checkName(nameText, 'schedule name');
        const s = await withContext((ctx) =>
          ctx.store.setSchedulePaused(name, verb === 'pause', ctx.actor),
        );
        if (opts.json) sayJson(s);
        else say(`schedule ${s.name} is ${s.paused ? 'paused' : `active, next ${when(s)}`}`);
      });
  }

  schedule
    .command('remove')
    .description('remove a schedule (the tasks it created stay)')
    .argument('<name>', 'the schedule name')
    .option('--json', 'print what was removed as JSON')
    .action(async (nameText: string, opts: { json?: boolean }) => {
      const name = checkName(nameText, 'schedule name');
      await withContext((ctx) => ctx.store.removeSchedule(name, ctx.actor));
      if (opts.json) sayJson({ removed: name });
      else say(`schedule ${name} removed`);
    });
}
