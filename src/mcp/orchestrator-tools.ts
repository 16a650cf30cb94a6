import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { WardenError } from '../core/errors.js';
import { BlockKind, TASK_STATUSES } from '../core/status.js';
import { CATCH_UPS } from '../core/schedule.js';
import type { CatchUp } from '../core/schedule.js';
import type { TaskStatus } from '../core/status.js';
import type { WardenClient } from '../sdk/client.js';
import { parseWhen } from '../core/when.js';
import { toolResult } from './result.js';

const board = z.string().optional().describe('The board; default "default".');
/** A count for a listing read into a model's context: at most 100, 50 when not given. */
const fewItems = (description: string) =>
  z.number().int().min(1).max(100).optional().describe(description);

/**
 * Blocks only a person clears (issue #14): a worker's question (`needs_input`), warden giving
 * up (`failed`: unblocking would reset the failure counters, a retry by another name), a spent
 * budget (`budget`: a person raises it first).
 */
const PERSON_KINDS: readonly BlockKind[] = [
  BlockKind.needs_input,
  BlockKind.failed,
  BlockKind.budget,
];
/** The blocks an orchestrator may clear: a dependency landed, a capability came, an outage ended. */
const AGENT_KINDS = [BlockKind.dependency, BlockKind.capability, BlockKind.transient] as const;

/**
 * The orchestrator tools (SPEC §5), for an agent holding an admin token that plans and
 * watches work. It can never clear a block that waits for a person (`needs_input`, `failed`,
 * `budget`), retry a task, or give a person's replies (answer a question, approve, request
 * changes): those stay with people, and the tools for them are absent rather than refused.
 */
export function registerOrchestratorTools(server: McpServer, client: WardenClient): void {
  server.registerTool(
    'warden_list_tasks',
    {
      title: 'List tasks',
      description:
        'List the tasks of a board, highest priority first, with their status (triage, todo, ready, running, review, blocked, done), assignee and, for blocked tasks, the reason.',
      inputSchema: {
        board,
        status: z
          .array(z.enum(TASK_STATUSES as [string, ...string[]]))
          .optional()
          .describe('Only these statuses.'),
        assignee: z.string().optional().describe('Only tasks of this profile.'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .optional()
          .describe('At most this many; default 200.'),
      },
    },
    ({ board: b, status, assignee, limit }) =>
      toolResult(async () =>
        (
          await client.listTasks({
            ...(b !== undefined ? { board: b } : {}),
            ...(status ? { statuses: status as TaskStatus[] } : {}),
            ...(assignee !== undefined ? { assignee } : {}),
            limit: limit ?? 200,
          })
        ).map((t) => ({
          id: t.id,
          title: t.title,
          status: t.status,
          assignee: t.assignee,
          priority: t.priority,
          parents: t.parents,
          block_reason: t.block_reason,
          block_kind: t.block_kind,
        })),
      ),
  );

  server.registerTool(
    'warden_show_task',
    {
      title: 'Show a task',
      description:
        'One task in full: body, parents and children, result, comments, and every run with how it ended and why.',
      inputSchema: { id: z.number().int().positive().describe('The task id.') },
    },
    ({ id }) => toolResult(() => client.getTask(id)),
  );

  server.registerTool(
    'warden_create_task',
    {
      title: 'Create a task',
      description:
        'Put a new task on a board. Give it an assignee (a profile name) for it to run; with parents it waits until they are done. Use idempotency_key so repeating the call does not create a duplicate.',
      inputSchema: {
        board,
        title: z.string().min(1).max(200).describe('The task, in one line.'),
        body: z.string().max(65_536).optional().describe('Everything its worker needs to know.'),
        assignee: z.string().optional().describe('The profile that works it.'),
        priority: z.number().int().optional().describe('Higher runs first; default 0.'),
        parents: z
          .array(z.number().int().positive())
          .optional()
          .describe('Tasks that must be done first.'),
        idempotency_key: z
          .string()
          .max(200)
          .optional()
          .describe('Returns the open task with this key instead of a duplicate.'),
        not_before: z
          .string()
          .max(100)
          .optional()
          .describe(
            'Not dispatched before then: an ISO 8601 time or a duration from now (30m, 2h); a past time means now.',
          ),
      },
    },
    (args) =>
      toolResult(() =>
        client.createTask({
          ...args,
          not_before:
            args.not_before === undefined
              ? undefined
              : parseWhen(args.not_before, Date.now(), 'not_before'),
        }),
      ),
  );

  server.registerTool(
    'warden_link_tasks',
    {
      title: 'Link tasks',
      description: 'Make `child` wait until `parent` is done. Cycles are refused.',
      inputSchema: {
        parent: z.number().int().positive().describe('The task that must finish first.'),
        child: z.number().int().positive().describe('The task that waits.'),
      },
    },
    ({ parent, child }) => toolResult(() => client.link(parent, child)),
  );

  server.registerTool(
    'warden_unblock_task',
    {
      title: 'Unblock a task',
      description:
        'Put a blocked task back in line after its cause is fixed (a dependency landed, an outage ended). Tasks blocked needs_input (a question), failed (warden gave up) or budget wait for a person and are refused here.',
      inputSchema: { id: z.number().int().positive().describe('The blocked task.') },
    },
    ({ id }) =>
      toolResult(async () => {
        const task = await client.getTask(id);
        if (
          task.status === 'blocked' &&
          task.block_kind !== null &&
          PERSON_KINDS.includes(task.block_kind)
        ) {
          throw new WardenError(
            'forbidden',
            `task ${id} waits for a person (${task.block_kind}: ${task.block_reason ?? ''}); only a person unblocks it`,
          );
        }
        return client.unblock(id);
      }),
  );

  server.registerTool(
    'warden_comment_task',
    {
      title: 'Comment on a task',
      description: 'Leave a note on a task; its worker sees recent comments when it starts.',
      inputSchema: {
        id: z.number().int().positive().describe('The task.'),
        text: z.string().min(1).max(16_384).describe('The comment.'),
      },
    },
    ({ id, text }) => toolResult(() => client.comment(id, text)),
  );

  registerPlanningTools(server, client);
  registerScheduleTools(server, client);
}

/** Planning in one step: a whole task graph, and unblocking what an agent may clear in bulk. */
function registerPlanningTools(server: McpServer, client: WardenClient): void {
  server.registerTool(
    'warden_apply_graph',
    {
      title: 'Create a task graph',
      description:
        'Create several tasks with their dependencies in one step, all or nothing: tasks have local names and `after` names the tasks they wait for. Calling it again with the same graph creates nothing new (each task has an idempotency key), so it is safe to repeat. Use dry_run to see what it would create.',
      inputSchema: {
        name: z
          .string()
          .max(64)
          .optional()
          .describe("The graph's name; keeps its tasks' keys the same when the graph is edited."),
        board,
        tasks: z
          .array(
            z
              .object({
                name: z.string().min(1).max(64).describe('Local name, unique in the graph.'),
                title: z.string().min(1).max(200).describe('The task, in one line.'),
                body: z.string().max(65_536).optional().describe('Everything its worker needs.'),
                assignee: z.string().optional().describe('The profile that works it.'),
                priority: z.number().int().optional().describe('Higher runs first; default 0.'),
                after: z
                  .array(z.union([z.string(), z.number().int().positive()]))
                  .optional()
                  .describe(
                    'Local names of this graph, or ids of tasks on the board, to wait for.',
                  ),
                key: z
                  .string()
                  .max(200)
                  .optional()
                  .describe('Its idempotency key; default apply:GRAPH/NAME.'),
              })
              // A misspelt field (`depends_on`) is refused, not dropped.
              .strict(),
          )
          .min(1)
          .max(500)
          .describe('The tasks; a cycle, a duplicate name or an unknown profile refuses all.'),
        dry_run: z.boolean().optional().describe('Say what it would create; change nothing.'),
      },
    },
    ({ dry_run: dryRun, ...graph }) =>
      toolResult(() => client.apply(graph, { dryRun: dryRun === true })),
  );

  server.registerTool(
    'warden_unblock_tasks',
    {
      title: 'Unblock tasks in bulk',
      description:
        'Put back in line every blocked task of a board with one of the given block kinds (dependency, capability, transient), optionally of one assignee. A dry run unless dry_run is false: it lists each task and what would happen. Blocks that wait for a person (needs_input, failed, budget) cannot be chosen.',
      inputSchema: {
        board,
        kinds: z.array(z.enum(AGENT_KINDS)).min(1).describe('The block kinds to clear.'),
        assignee: z.string().optional().describe('Only tasks of this profile.'),
        dry_run: z.boolean().optional().describe('Default true: change nothing, list what would.'),
      },
    },
    ({ board: b, kinds, assignee, dry_run: dryRun }) =>
      toolResult(() =>
        client.bulk(
          'unblock',
          {
            ...(b !== undefined ? { board: b } : {}),
            // The schema admits only the kinds an agent may clear, at least one; the store
            // takes only blocked tasks of those kinds.
            kinds,
            ...(assignee !== undefined ? { assignee } : {}),
          },
          { dryRun: dryRun !== false },
        ),
      ),
  );
}

/**
 * Recurring work (issue #14): planning it is an orchestrator's job, so it may add, list,
 * pause, resume and remove schedules. A schedule only creates tasks; it clears no block and
 * gives no person's reply.
 */
function registerScheduleTools(server: McpServer, client: WardenClient): void {
  const name = z.string().min(1).max(64).describe("The schedule's name.");

  server.registerTool(
    'warden_schedule_add',
    {
      title: 'Add a schedule',
      description:
        'Create a task at every firing of a cron expression: five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly, read in tz (default UTC). One task per firing, never two. catch_up says what missed firings do: skip (default) makes none, once makes one task for all of them.',
      inputSchema: {
        name,
        cron: z.string().min(1).max(200).describe('The cron expression, e.g. "0 9 * * MON-FRI".'),
        title: z.string().min(1).max(200).describe('The title of each task it creates.'),
        body: z.string().max(65_536).optional().describe("Everything each task's worker needs."),
        assignee: z.string().optional().describe('The profile that works each task.'),
        priority: z.number().int().optional().describe("Each task's priority; default 0."),
        board,
        tz: z
          .string()
          .max(100)
          .optional()
          .describe('The IANA time zone the expression is read in (Europe/Oslo); default UTC.'),
        catch_up: z
          .enum(CATCH_UPS as [CatchUp, ...CatchUp[]])
          .optional()
          .describe('After downtime: skip (default) or once.'),
      },
    },
    ({ name: n, cron, title, body, assignee, priority, board: b, tz, catch_up: catchUp }) =>
      toolResult(() =>
        client.addSchedule({
          name: n,
          cron,
          ...(b !== undefined ? { board: b } : {}),
          ...(tz !== undefined ? { tz } : {}),
          ...(catchUp !== undefined ? { catch_up: catchUp } : {}),
          template: {
            title,
            ...(body !== undefined ? { body } : {}),
            ...(assignee !== undefined ? { assignee } : {}),
            ...(priority !== undefined ? { priority } : {}),
          },
        }),
      ),
  );

  server.registerTool(
    'warden_inbox',
    {
      title: 'What waits for a person',
      description:
        "Everything on a board that only a person can move, newest first: a worker's question, a task warden gave up on, a spent budget, a review, an approval gate, a paused profile, a run that would not die, a lost host. Each item says why and the command a person runs to clear it. Read it to tell the person what needs them; you cannot clear these yourself.",
      inputSchema: {
        board,
        limit: fewItems('At most this many; default 50.'),
      },
    },
    ({ board: b, limit }) =>
      toolResult(() =>
        // A model's context is no place for a thousand items: 50 unless it asks for more.
        client.inbox({ ...(b !== undefined ? { board: b } : {}), limit: limit ?? 50 }),
      ),
  );

  server.registerTool(
    'warden_report',
    {
      title: 'What was done',
      description:
        "What a board's workers did since a time: each task worked (done, in review, blocked, running), with the branch and commits its latest run left, its cost and why it stopped; the model's cost in that time; how many things wait for a person. Read it to tell the person what happened while they were away.",
      inputSchema: {
        board,
        since: z
          .string()
          .max(64)
          .optional()
          .describe('An ISO 8601 time, or how far back: "12h", "2d"; default "24h".'),
        limit: fewItems('At most this many tasks; default 50.'),
      },
    },
    ({ board: b, since, limit }) =>
      toolResult(() =>
        client.report({
          ...(b !== undefined ? { board: b } : {}),
          ...(since !== undefined ? { since } : {}),
          limit: limit ?? 50,
        }),
      ),
  );

  server.registerTool(
    'warden_schedule_list',
    {
      title: 'List schedules',
      description:
        "Every schedule (or one board's): its expression, zone, task template, whether it is paused, its next firing (epoch ms), and how many tasks it fired and firings it skipped.",
      inputSchema: { board: z.string().optional().describe("Only this board's schedules.") },
    },
    ({ board: b }) => toolResult(() => client.listSchedules(b)),
  );

  server.registerTool(
    'warden_schedule_pause',
    {
      title: 'Pause a schedule',
      description: 'Stop a schedule from firing until it is resumed; the tasks it made stay.',
      inputSchema: { name },
    },
    ({ name: n }) => toolResult(() => client.pauseSchedule(n)),
  );

  server.registerTool(
    'warden_schedule_resume',
    {
      title: 'Resume a schedule',
      description:
        'Start a paused schedule again from its next firing after now; the firings of the pause are neither made nor counted.',
      inputSchema: { name },
    },
    ({ name: n }) => toolResult(() => client.resumeSchedule(n)),
  );

  server.registerTool(
    'warden_schedule_remove',
    {
      title: 'Remove a schedule',
      description: 'Delete a schedule so it fires no more; the tasks it already created stay.',
      inputSchema: { name },
    },
    ({ name: n }) =>
      toolResult(async () => {
        await client.removeSchedule(n);
        return { removed: n };
      }),
  );
}
