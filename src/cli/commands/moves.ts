import type { Command } from 'commander';
import { WardenError, invalid } from '../../core/errors.js';
import { endTaskRun } from '../../serve/stop.js';
import type { Json } from '../../core/events.js';
import { BLOCK_KINDS } from '../../core/status.js';
import type { BlockKind } from '../../core/status.js';
import { parseJsonText, parseTaskId } from '../../core/checks.js';
import type { TaskMove } from '../../store/store.js';
import { withContext } from '../context.js';
import { say, sayJson } from '../output.js';

async function move(
  idText: string,
  build: () => TaskMove,
  json: boolean | undefined,
): Promise<void> {
  const id = parseTaskId(idText);
  const m = build();
  const task = await withContext(async (ctx) => {
    const current = await ctx.store.getTask(id);
    if (current.current_run_id !== null && (m.verb === 'block' || m.verb === 'archive')) {
      // A running task is blocked or archived by ending its run through the one ending path.
      const intent = m.verb === 'archive' ? { archive: true } : { reason: m.reason, kind: m.kind };
      const result = await endTaskRun(ctx, id, intent);
      if (!result.verified_gone) throw new WardenError('setup', result.message);
      return ctx.store.getTask(id);
    }
    return ctx.store.moveTask(id, m, ctx.actor);
  });
  if (json) sayJson(task);
  else say(`task ${task.id} is ${task.status}`);
}

/** A verb with no options of its own: unblock, retry, accept, reopen, archive. */
function simple(
  program: Command,
  verb: 'unblock' | 'retry' | 'accept' | 'reopen' | 'archive',
  help: string,
): void {
  program
    .command(verb)
    .description(help)
    .argument('<id>', 'the task id')
    .option('--json', 'print the task as JSON')
    .action((idText: string, opts: { json?: boolean }) =>
      move(idText, () => ({ verb }), opts.json),
    );
}

export function register(program: Command): void {
  program
    .command('block')
    .description('block a task with a reason a person can read')
    .argument('<id>', 'the task id')
    .requiredOption('--reason <text>', 'why it is blocked')
    .option('--kind <kind>', `one of ${BLOCK_KINDS.join(', ')}`, 'needs_input')
    .option('--json', 'print the task as JSON')
    .action((idText: string, opts: { reason: string; kind: string; json?: boolean }) =>
      move(
        idText,
        () => {
          if (!(BLOCK_KINDS as readonly string[]).includes(opts.kind)) {
            throw invalid(
              `--kind: unknown kind '${opts.kind}'; use one of ${BLOCK_KINDS.join(', ')}`,
            );
          }
          return { verb: 'block', reason: opts.reason, kind: opts.kind as BlockKind };
        },
        opts.json,
      ),
    );
  simple(program, 'unblock', 'put a blocked task back in line and reset its failure counts');
  simple(program, 'retry', 'try a blocked or done task again, clearing counters and delays');
  simple(program, 'accept', 'accept a triaged task onto the board');
  simple(program, 'reopen', 'send a task in review back for more work');
  simple(program, 'archive', 'take a task off the board');
  program
    .command('done')
    .description('mark a task done by hand (approving a review, or work done outside warden)')
    .argument('<id>', 'the task id')
    .option('--summary <text>', 'what was done')
    .option('--metadata <json>', 'a JSON value kept with the result')
    .option('--json', 'print the task as JSON')
    .action((idText: string, opts: { summary?: string; metadata?: string; json?: boolean }) =>
      move(
        idText,
        () => ({
          verb: 'done',
          ...(opts.summary !== undefined ? { summary: opts.summary } : {}),
          ...(opts.metadata !== undefined
            ? { metadata: parseJsonText(opts.metadata, '--metadata') as Json }
            : {}),
        }),
        opts.json,
      ),
    );
}
