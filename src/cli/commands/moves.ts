import type { Command } from 'commander';
import { WardenError, conflict, invalid } from '../../core/errors.js';
import { defaultHostId } from '../../serve/home-lock.js';
import { endTaskRun } from '../../serve/stop.js';
import { removeTaskWorktree, worktreeIsHere } from '../../serve/worktrees.js';
import type { Task } from '../../core/task.js';
import type { Json } from '../../core/events.js';
import { BLOCK_KINDS } from '../../core/status.js';
import type { BlockKind } from '../../core/status.js';
import { parseJsonText, parseTaskId } from '../../core/checks.js';
import type { TaskMove } from '../../store/store.js';
import { withContext } from '../context.js';
import { say, sayJson } from '../output.js';
import type { BulkOptions } from '../bulk.js';

async function move(
  idText: string,
  build: () => TaskMove,
  json: boolean | undefined,
  deleteBranch = false,
): Promise<void> {
  const id = parseTaskId(idText);
  const m = build();
  const { task, note } = await withContext(async (ctx): Promise<{ task: Task; note?: string }> => {
    const current = await ctx.store.getTask(id);
    if (m.verb === 'archive') {
      // Checked before the archive, so a refusal changes nothing.
      const rec = await ctx.store.getWorktree(id);
      if (deleteBranch && rec !== null && !worktreeIsHere(rec, defaultHostId())) {
        throw conflict(
          `task ${id}'s worktree is on host ${rec.host_id}; archive it there to delete its branch ${rec.branch}, or archive it without --delete-branch (that host's serve removes the worktree)`,
        );
      }
      const archived = await archiveTask(ctx, id, current.current_run_id !== null, m);
      if (rec === null || rec.removed_at !== null) return { task: archived };
      if (!worktreeIsHere(rec, defaultHostId())) {
        return {
          task: archived,
          note: `its worktree is on host ${rec.host_id}, whose serve removes it`,
        };
      }
      try {
        return {
          task: archived,
          note: await removeTaskWorktree(ctx.store, rec, deleteBranch, ctx.actor),
        };
      } catch (err) {
        // The task is archived whatever git says; serve's sweep tries the worktree again.
        const why = err instanceof Error ? err.message : String(err);
        // The sweep removes it later, but never deletes a branch: --delete-branch is not kept.
        const branch = deleteBranch ? `; its branch ${rec.branch} stays too` : '';
        return {
          task: archived,
          note: `its worktree ${rec.path} was not removed: ${why}${branch}`,
        };
      }
    }
    if (current.current_run_id !== null && m.verb === 'block') {
      // A running task is blocked by ending its run through the one ending path.
      const result = await endTaskRun(ctx, id, { reason: m.reason, kind: m.kind });
      if (!result.verified_gone) throw new WardenError('setup', result.message);
      return { task: await ctx.store.getTask(id) };
    }
    return { task: await ctx.store.moveTask(id, m, ctx.actor) };
  });
  if (json) sayJson(task);
  else say(`task ${task.id} is ${task.status}${note !== undefined ? `; ${note}` : ''}`);
}

/** Archives a task, ending its run first when it has one. */
async function archiveTask(
  ctx: Parameters<Parameters<typeof withContext>[0]>[0],
  id: number,
  running: boolean,
  m: TaskMove,
): Promise<Task> {
  if (!running) return ctx.store.moveTask(id, m, ctx.actor);
  // A running task is archived by ending its run through the one ending path.
  const result = await endTaskRun(ctx, id, { archive: true });
  if (!result.verified_gone) throw new WardenError('setup', result.message);
  return ctx.store.getTask(id);
}

/** A verb with no options of its own: accept, reopen. */
function simple(program: Command, verb: 'accept' | 'reopen', help: string): void {
  program
    .command(verb)
    .description(help)
    .argument('<id>', 'the task id')
    .option('--json', 'print the task as JSON')
    .action((idText: string, opts: { json?: boolean }) =>
      move(idText, () => ({ verb }), opts.json),
    );
}

/** The filter options that make `retry`, `unblock` and `archive` act on many tasks. */
function withFilter(cmd: Command): Command {
  return cmd
    .option('--status <list>', 'bulk: tasks of these statuses (comma-separated)')
    .option('--assignee <profile>', 'bulk: tasks of this profile')
    .option('--kind <list>', `bulk: blocked tasks of these kinds (${BLOCK_KINDS.join(', ')})`)
    .option('--board <name>', 'bulk: the board (default: default)')
    .option('--yes', 'bulk: make the change (without it, a dry run that lists the tasks)');
}

/** One task by id, or, with a filter, every task it matches (`src/cli/bulk.ts`). */
async function oneOrMany(
  verb: 'retry' | 'unblock' | 'archive',
  idText: string | undefined,
  opts: BulkOptions,
  one: (id: string) => Promise<void>,
): Promise<void> {
  const filtered =
    opts.status !== undefined || opts.assignee !== undefined || opts.kind !== undefined;
  if (idText !== undefined && (filtered || opts.board !== undefined || opts.yes === true)) {
    throw invalid(
      `give a task id or a filter (--status, --assignee, --kind), not both; --board and --yes go with a filter`,
    );
  }
  if (idText !== undefined) return one(idText);
  if (!filtered) {
    throw invalid(`give a task id, or a filter (--status, --assignee, --kind) to ${verb} many`);
  }
  const { runBulk } = await import('../bulk.js');
  return runBulk(verb, opts);
}

/** unblock and retry: one task, or many with a filter. */
function unblockOrRetry(program: Command, verb: 'unblock' | 'retry', help: string): void {
  withFilter(
    program
      .command(verb)
      .description(help)
      .argument('[id]', 'the task id (or give a filter instead)'),
  )
    .option('--json', 'print the task (bulk: the answer) as JSON')
    .action((idText: string | undefined, opts: BulkOptions) =>
      oneOrMany(verb, idText, opts, (id) => move(id, () => ({ verb }), opts.json)),
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
  unblockOrRetry(
    program,
    'unblock',
    'put a blocked task back in line and reset its failure counts (a filter: many tasks)',
  );
  unblockOrRetry(
    program,
    'retry',
    'try a blocked or done task again, clearing counters and delays (a filter: many tasks)',
  );
  simple(program, 'accept', 'accept a triaged task onto the board');
  simple(program, 'reopen', 'send a task in review back for more work');
  withFilter(
    program
      .command('archive')
      .description(
        'take a task off the board (and remove its git worktree, if it has one); a filter: many tasks',
      )
      .argument('[id]', 'the task id (or give a filter instead)'),
  )
    .option('--delete-branch', "also delete its worktree's branch warden/<id>")
    .option('--json', 'print the task (bulk: the answer) as JSON')
    .action((idText: string | undefined, opts: BulkOptions & { deleteBranch?: boolean }) => {
      if (idText === undefined && opts.deleteBranch === true) {
        // A bulk archive moves tasks only; each worktree is left to serve's sweep.
        throw invalid('--delete-branch goes with one task id, not with a filter');
      }
      return oneOrMany('archive', idText, opts, (id) =>
        move(id, () => ({ verb: 'archive' }), opts.json, opts.deleteBranch === true),
      );
    });
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
