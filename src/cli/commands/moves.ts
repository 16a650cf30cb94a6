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
        return { task: archived, note: `its worktree ${rec.path} was not removed: ${why}` };
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

/** A verb with no options of its own: unblock, retry, accept, reopen. */
function simple(
  program: Command,
  verb: 'unblock' | 'retry' | 'accept' | 'reopen',
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
  program
    .command('archive')
    .description('take a task off the board (and remove its git worktree, if it has one)')
    .argument('<id>', 'the task id')
    .option('--delete-branch', "also delete its worktree's branch warden/<id>")
    .option('--json', 'print the task as JSON')
    .action((idText: string, opts: { deleteBranch?: boolean; json?: boolean }) =>
      move(idText, () => ({ verb: 'archive' }), opts.json, opts.deleteBranch === true),
    );
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
