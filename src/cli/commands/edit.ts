import type { Command } from 'commander';
import { WardenError, invalid } from '../../core/errors.js';
import { endTaskRun } from '../../serve/stop.js';
import { POLICY_FIELDS } from '../../core/policy.js';
import { taskPatchSchema } from '../../core/task.js';
import { parseTaskId } from '../../core/checks.js';
import { parseInput } from '../../core/validate.js';
import { withContext } from '../context.js';
import {
  addPolicyOptions,
  collect,
  parseIntOption,
  readPolicyOptions,
  refuseSetAndClear,
} from '../options.js';
import { say, sayJson } from '../output.js';

interface EditOptions {
  title?: string;
  body?: string;
  assignee?: string;
  unassign?: boolean;
  priority?: string;
  clear?: string[];
  json?: boolean;
  [policy: string]: unknown;
}

export function register(program: Command): void {
  const cmd = program
    .command('edit')
    .description(
      'change a task: title, body, assignee, priority or limits (never its status or counters)',
    )
    .argument('<id>', 'the task id')
    .option('--title <text>', 'a new title')
    .option('--body <text>', 'a new body')
    .option('--assignee <profile>', 'assign to this profile')
    .option('--unassign', 'remove the assignee')
    .option('--priority <n>', 'a new priority')
    .option(
      '--clear <option>',
      'drop a limit set on this task, e.g. stall_timeout (repeatable)',
      collect,
    )
    .option('--json', 'print the task as JSON');
  addPolicyOptions(cmd).action(async (idText: string, opts: EditOptions) => {
    const id = parseTaskId(idText);
    if (opts.unassign && opts.assignee !== undefined) {
      throw invalid('give either --assignee or --unassign, not both');
    }
    const patch = parseInput(
      taskPatchSchema,
      {
        title: opts.title,
        body: opts.body,
        assignee: opts.unassign ? null : opts.assignee,
        priority:
          opts.priority === undefined ? undefined : parseIntOption(opts.priority, '--priority'),
      },
      'edit',
    );
    const clear = opts.clear ?? [];
    for (const key of clear) {
      if (!POLICY_FIELDS.some((f) => f.key === key)) {
        throw invalid(
          `--clear: unknown option '${key}'; known: ${POLICY_FIELDS.map((f) => f.key).join(', ')}`,
        );
      }
    }
    const policy = readPolicyOptions(opts);
    refuseSetAndClear(clear, opts);
    const changes = Object.values(patch).filter((v) => v !== undefined).length;
    if (changes === 0 && Object.keys(policy).length === 0 && clear.length === 0) {
      throw invalid('nothing to change; give --title, --body, --assignee, --priority or a limit');
    }
    const task = await withContext(async (ctx) => {
      const current = await ctx.store.getTask(id);
      if (
        current.current_run_id !== null &&
        patch.assignee !== undefined &&
        patch.assignee !== current.assignee
      ) {
        // Reassigning ends the run (requeued, not a failure) before the new profile takes it.
        if (patch.assignee !== null) await ctx.store.getProfile(patch.assignee);
        const who = ctx.actor.kind === 'person' ? ctx.actor.name : 'a person';
        const result = await endTaskRun(ctx, id, {
          requeue: true,
          reassign: patch.assignee,
          reason: `reassigned by ${who}`,
        });
        if (!result.verified_gone) throw new WardenError('setup', result.message);
      }
      return ctx.store.editTask(id, { ...patch, policy, clear_policy: clear }, ctx.actor);
    });
    if (opts.json) sayJson(task);
    else say(`task ${task.id} updated`);
  });
}
