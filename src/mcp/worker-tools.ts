import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { BLOCK_KINDS } from '../core/status.js';
import { WardenError } from '../core/errors.js';
import { keyedCreate } from '../sdk/call-key.js';
import { callApi } from '../sdk/http.js';
import { sendOrKeep } from '../sdk/kept-report.js';
import { toolResult } from './result.js';
import { CLIENT_DEFAULTS } from '../core/defaults.js';

/** Where a worker's MCP server sends its calls. */
export interface WorkerTarget {
  url: string;
  runToken: string;
  /** The task this run works (WARDEN_TASK_ID). */
  taskId: number;
  /** The run's folder (WARDEN_RUN_DIR), where a report serve did not answer is kept. */
  runDir: string | null;
  /** How long a call is retried while serve does not answer (WARDEN_RETRY_FOR_MS). */
  retryForMs?: number;
}

const taskIdArg = z
  .number()
  .int()
  .positive()
  .optional()
  .describe('Your own task id (WARDEN_TASK_ID). Optional; a worker may act on its own task only.');

/**
 * The worker tools (SPEC §5), acting on the run's own task through the HTTP API with the run
 * token. Every tool call except `heartbeat` also counts as progress for the run.
 */
export function registerWorkerTools(server: McpServer, target: WorkerTarget): void {
  const call = <T>(path: string, body?: unknown, method: 'GET' | 'POST' = 'POST'): Promise<T> =>
    callApi<T>(
      target.url,
      target.runToken,
      method,
      `/api/v1/worker${path}`,
      body,
      target.retryForMs ?? CLIENT_DEFAULTS.report_retry_for_ms,
    );
  /** A terminal report: kept in the run's folder when serve does not answer (sdk/kept-report.ts). */
  const report = async (path: string, op: string, body: Record<string, unknown>) => {
    const sent = await sendOrKeep(() => call(path, body), target.runDir, target.runToken, op, body);
    if ('answer' in sent) return sent.answer;
    return {
      kept: sent.kept,
      note: `warden serve did not answer (${sent.why.message}); your report is kept, and serve books it as soon as it is back: stop working and exit`,
    };
  };
  const own = (taskId: number | undefined): void => {
    if (taskId !== undefined && taskId !== target.taskId) {
      throw new WardenError(
        'forbidden',
        `this run works task ${target.taskId}; it may not act on task ${taskId}`,
      );
    }
  };
  /** A tool call is model activity: it counts as progress unless it is a heartbeat. */
  const tool = (name: string, work: () => Promise<unknown>, progress = true) =>
    toolResult(async () => {
      const out = await work();
      if (progress) await call('/progress', { note: `mcp: ${name}` }).catch(() => undefined);
      return out;
    });

  server.registerTool(
    'warden_show',
    {
      title: 'Show my task',
      description:
        'Call this first. Returns your task (title, body, limits), the results of the tasks it depends on (summary and metadata), what earlier attempts of this task did and why they ended, and recent comments from people. If it says the run is stale, stop working: another attempt has replaced you.',
      inputSchema: { task_id: taskIdArg },
    },
    ({ task_id }) =>
      tool('show', async () => {
        own(task_id);
        return call('/context', undefined, 'GET');
      }),
  );

  server.registerTool(
    'warden_progress',
    {
      title: 'Report progress',
      description:
        'Tell warden you are making progress (a step done, a file written). Resets the stall clock: a run that shows no progress for its stall_timeout is ended. Use a short note a person would understand.',
      inputSchema: {
        note: z.string().max(2000).optional().describe('What you just did, in a few words.'),
      },
    },
    ({ note }) =>
      tool('progress', () => call('/progress', note === undefined ? {} : { note }), false),
  );

  server.registerTool(
    'warden_heartbeat',
    {
      title: 'Heartbeat',
      description:
        'Prove you are alive while waiting (for a slow build, say) without claiming progress. It does not reset the stall clock; only warden_progress and your other tool calls do.',
      inputSchema: { note: z.string().max(2000).optional().describe('What you are waiting for.') },
    },
    ({ note }) =>
      tool('heartbeat', () => call('/heartbeat', note === undefined ? {} : { note }), false),
  );

  server.registerTool(
    'warden_comment',
    {
      title: 'Comment on my task',
      description:
        'Leave a note on your task for people (a question, a decision you made). It does not end your run.',
      inputSchema: {
        text: z.string().min(1).max(16_384).describe('The comment.'),
        task_id: taskIdArg,
      },
    },
    ({ text, task_id }) =>
      tool('comment', async () => {
        own(task_id);
        return call('/comment', { body: text });
      }),
  );

  server.registerTool(
    'warden_complete',
    {
      title: 'Complete my task',
      description:
        'Call once, when the task is done. The summary is what people and dependent tasks read; metadata is any JSON (file paths, numbers). After this your process should exit. Calling again with the same arguments returns the same answer.',
      inputSchema: {
        summary: z.string().max(16_384).describe('What was done, in a few sentences.'),
        metadata: z
          .record(z.string(), z.unknown())
          .optional()
          .describe('Structured results, as a JSON object.'),
        task_id: taskIdArg,
      },
    },
    ({ summary, metadata, task_id }) =>
      tool(
        'complete',
        async () => {
          own(task_id);
          return report('/complete', 'complete', {
            summary,
            ...(metadata !== undefined ? { metadata } : {}),
          });
        },
        false,
      ),
  );

  server.registerTool(
    'warden_block',
    {
      title: 'Block my task',
      description:
        'Stop and hand the task to a person when you cannot go on. kind: needs_input (a person must answer or decide), dependency (something else must happen first), capability (you cannot do this kind of work), transient (a temporary outage). Your run ends; do not continue working.',
      inputSchema: {
        reason: z.string().min(1).max(2000).describe('What is needed, so a person can act on it.'),
        kind: z.enum(BLOCK_KINDS as [string, ...string[]]).describe('Why you are blocked.'),
        task_id: taskIdArg,
      },
    },
    ({ reason, kind, task_id }) =>
      tool(
        'block',
        async () => {
          own(task_id);
          return report('/block', 'block', { reason, kind });
        },
        false,
      ),
  );

  server.registerTool(
    'warden_approve',
    {
      title: 'Approve the work I review',
      description:
        'For a review run only: the work does what the task asks, and the task is done. Call once, then stop.',
      inputSchema: {
        summary: z.string().max(16_384).describe('Why the work is good, in a sentence or two.'),
        task_id: taskIdArg,
      },
    },
    ({ summary, task_id }) =>
      tool(
        'approve',
        async () => {
          own(task_id);
          return report('/approve', 'approve', { summary });
        },
        false,
      ),
  );

  server.registerTool(
    'warden_request_changes',
    {
      title: 'Request changes to the work I review',
      description:
        'For a review run only: send the work back with what to change; the next attempt reads it first. Call once, then stop.',
      inputSchema: {
        reason: z.string().min(1).max(16_384).describe('What to change, specifically.'),
        task_id: taskIdArg,
      },
    },
    ({ reason, task_id }) =>
      tool(
        'request changes',
        async () => {
          own(task_id);
          return report('/request-changes', 'request_changes', { reason });
        },
        false,
      ),
  );

  server.registerTool(
    'warden_ask',
    {
      title: 'Ask a person',
      description:
        'Ask a person a question you cannot answer yourself. Your run ends and the task waits; when a person answers, the task runs again and the next attempt reads your question and the answer first. Do not continue working after asking.',
      inputSchema: {
        question: z
          .string()
          .min(1)
          .max(2000)
          .describe('The question, with what a person needs to answer it.'),
        task_id: taskIdArg,
      },
    },
    ({ question, task_id }) =>
      tool(
        'ask',
        async () => {
          own(task_id);
          return report('/ask', 'ask', { question });
        },
        false,
      ),
  );

  server.registerTool(
    'warden_create',
    {
      title: 'Create a child task',
      description:
        'Split work off into a new task on the same board. It starts at once (or, with after_me, when your task is done). Use idempotency_key (e.g. a stable name for the piece of work) so a retry of your run does not create it twice. Returns the new task with its id.',
      inputSchema: {
        title: z.string().min(1).max(200).describe('The new task, in one line.'),
        body: z
          .string()
          .max(65_536)
          .optional()
          .describe('Everything the worker of the new task needs to know.'),
        assignee: z
          .string()
          .optional()
          .describe('The profile that should work it (e.g. the same as yours).'),
        priority: z.number().int().optional().describe('Higher runs first; default 0.'),
        after_me: z.boolean().optional().describe('Wait until your task is done before starting.'),
        idempotency_key: z
          .string()
          .max(200)
          .optional()
          .describe('Returns the existing open task with this key instead of a duplicate.'),
      },
    },
    (args) => tool('create', () => call('/create', keyedCreate(args))),
  );

  server.registerTool(
    'warden_link',
    {
      title: 'Link tasks',
      description:
        'Make `child` wait until `parent` is done. Only your own task and tasks you created can be linked.',
      inputSchema: {
        parent: z.number().int().positive().describe('The task that must finish first.'),
        child: z.number().int().positive().describe('The task that waits.'),
      },
    },
    ({ parent, child }) => tool('link', () => call('/link', { parent, child })),
  );
}
