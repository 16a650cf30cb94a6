import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { WardenError } from '../core/errors.js';
import { TASK_STATUSES } from '../core/status.js';
import type { TaskStatus } from '../core/status.js';
import type { WardenClient } from '../sdk/client.js';
import { parseWhen } from '../core/when.js';
import { toolResult } from './result.js';

const board = z.string().optional().describe('The board; default "default".');

/**
 * The orchestrator tools (SPEC §5), for an agent holding an admin token that plans and
 * watches work. It can never unblock a task waiting for a person (`needs_input`), nor retry
 * a task: those stay with people.
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
        'Put a blocked task back in line after its cause is fixed (a dependency landed, an outage ended). Tasks blocked needs_input wait for a person and are refused here.',
      inputSchema: { id: z.number().int().positive().describe('The blocked task.') },
    },
    ({ id }) =>
      toolResult(async () => {
        const task = await client.getTask(id);
        if (task.status === 'blocked' && task.block_kind === 'needs_input') {
          throw new WardenError(
            'forbidden',
            `task ${id} waits for a person (needs_input: ${task.block_reason ?? ''}); only a person unblocks it`,
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
}
