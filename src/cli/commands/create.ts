import type { Command } from 'commander';
import { newTaskSchema } from '../../core/task.js';
import { parseTaskId } from '../../core/checks.js';
import { parseInput } from '../../core/validate.js';
import { parseWhen } from '../../core/when.js';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { withContext } from '../context.js';
import { addPolicyOptions, collect, parseIntOption, readPolicyOptions } from '../options.js';
import { say, sayJson } from '../output.js';

interface CreateOptions {
  body?: string;
  assignee?: string;
  parent?: string[];
  priority?: string;
  board: string;
  triage?: boolean;
  idempotencyKey?: string;
  notBefore?: string;
  needsApproval?: boolean;
  json?: boolean;
  [policy: string]: unknown;
}

export function register(program: Command): void {
  const cmd = program
    .command('create')
    .description('put a new task on a board: ready, or todo while a parent is not done')
    .argument('<title>', 'what the task is, in a line')
    .option('--body <text>', 'the full description')
    .option('--assignee <profile>', 'the profile that will work it')
    .option('--parent <id>', 'a task that must be done first (repeatable)', collect)
    .option('--priority <n>', 'higher runs first', '0')
    .option('--board <name>', 'the board', DEFAULT_BOARD)
    .option('--triage', 'start in triage until a person accepts it')
    .option('--idempotency-key <key>', 'return the open task with this key instead of a duplicate')
    .option(
      '--not-before <time>',
      'not dispatched before then: ISO 8601 (2026-05-01T09:00:00Z) or a duration from now (30m, 2h)',
    )
    .option('--needs-approval', 'keep it out of dispatch until a person runs `warden approve`')
    .option('--json', 'print the task as JSON');
  addPolicyOptions(cmd).action(async (title: string, opts: CreateOptions) => {
    const now = Date.now();
    const notBefore =
      opts.notBefore === undefined ? undefined : parseWhen(opts.notBefore, now, '--not-before');
    const input = parseInput(
      newTaskSchema,
      {
        board: opts.board,
        title,
        body: opts.body,
        assignee: opts.assignee,
        priority: parseIntOption(opts.priority ?? '0', '--priority'),
        parents: (opts.parent ?? []).map(parseTaskId),
        triage: opts.triage ?? false,
        idempotency_key: opts.idempotencyKey,
        not_before: notBefore,
        ...(opts.needsApproval ? { needs_approval: true } : {}),
      },
      'task',
    );
    const policy = readPolicyOptions(opts);
    const task = await withContext((ctx) => ctx.store.createTask({ ...input, policy }, ctx.actor));
    // A past time means now, and says so (to stderr, so --json stays one document).
    if (notBefore !== undefined && notBefore <= now) {
      process.stderr.write(
        `--not-before: ${opts.notBefore ?? ''} is already past, so the task may start now\n`,
      );
    }
    if (opts.json) sayJson(task);
    else {
      const waiting =
        task.not_before === null
          ? ''
          : `, waiting until ${new Date(task.not_before).toISOString()}`;
      // A task made before this call is the open one holding the key: nothing was created.
      if (opts.idempotencyKey !== undefined && task.created_at < now) {
        say(
          `task ${task.id} [${task.status}] ${task.title} already holds idempotency key '${opts.idempotencyKey}'; nothing was created`,
        );
      } else {
        const gate = task.approval.required
          ? `; it waits for approval: \`warden approve ${task.id}\``
          : '';
        say(`created task ${task.id} [${task.status}] ${task.title}${waiting}${gate}`);
      }
    }
  });
}
