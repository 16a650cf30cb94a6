import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { person } from '../core/actor.js';
import type { Actor } from '../core/actor.js';
import type { Json } from '../core/events.js';
import { invalid } from '../core/errors.js';
import { BLOCK_KINDS, TASK_STATUSES } from '../core/status.js';
import type { BlockKind, TaskStatus } from '../core/status.js';
import { parseTaskCursor, taskCursorText } from '../core/task.js';
import type { Store, TaskMove } from '../store/store.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { jsonBody, routesOf } from './routes.js';
import { ClearPolicy, CommentBody, TaskIdParam, idText } from './schemas.js';
import { redactRun } from '../core/hidden-env.js';
import { taskDiffView } from '../git/worktree.js';
import { parseWhen } from '../core/when.js';
import { workOffBranch } from '../core/worktree.js';

const TAG = 'tasks';

const NewTaskBody = z
  .object({
    board: z.string().optional(),
    title: z.string(),
    body: z.string().optional(),
    assignee: z.string().nullable().optional(),
    priority: z.number().int().optional(),
    parents: z.array(z.number().int().positive()).max(100).optional(),
    triage: z.boolean().optional(),
    idempotency_key: z.string().optional(),
    not_before: z
      .union([z.number().int(), z.string().max(100)])
      .nullable()
      .optional()
      .openapi({
        description:
          'not dispatched before then: epoch ms, an ISO 8601 time, or a duration from now (30m, 2h); a past time means now',
      }),
    needs_approval: z.boolean().optional(),
    policy: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .openapi('NewTaskBody');

const EditBody = z
  .object({
    title: z.string().optional(),
    body: z.string().optional(),
    assignee: z.string().nullable().optional(),
    priority: z.number().int().optional(),
    policy: z.record(z.string(), z.unknown()).optional(),
    clear_policy: ClearPolicy.optional(),
  })
  .strict()
  .openapi('EditBody');

const MoveBody = z
  .object({
    verb: z.enum(['accept', 'block', 'unblock', 'retry', 'reopen', 'done', 'archive']),
    reason: z.string().optional(),
    kind: z.enum(BLOCK_KINDS as [string, ...string[]]).optional(),
    summary: z.string().optional(),
    metadata: z.unknown().optional(),
  })
  .strict()
  .openapi('MoveBody');

const ListQuery = z.object({
  board: z.string().optional(),
  status: z.string().optional().openapi({ description: 'comma-separated statuses' }),
  assignee: z.string().optional(),
  limit: z.string().regex(/^\d+$/).optional(),
  // Past 15 digits a number is no longer a whole one to the database (nor to JavaScript).
  offset: z
    .string()
    .regex(/^\d{1,15}$/, 'a whole number of at most 15 digits')
    .optional()
    .openapi({
      description: 'skip this many (prefer `after`: a deep offset walks every row it skips)',
    }),
  after: z.string().optional().openapi({
    description:
      "keyset paging: the previous page's `next` (`PRIORITY:ID` of its last task); tasks created meanwhile are neither skipped nor repeated",
  }),
  q: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: 'search: #id, or words in the title or assignee' }),
});

const EventsQuery = z.object({
  board: z.string().optional(),
  task: idText.optional(),
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'an event id: a whole number of at most 15 digits')
    .optional(),
  limit: z.string().regex(/^\d+$/).optional(),
});

function actorOf(c: { get(key: 'token'): AuthVariables['token'] }): Actor {
  return person(c.get('token')?.name ?? 'unknown');
}

function toMove(b: z.infer<typeof MoveBody>): TaskMove {
  switch (b.verb) {
    case 'block':
      return {
        verb: 'block',
        reason: b.reason ?? '',
        kind: (b.kind ?? 'needs_input') as BlockKind,
      };
    case 'done':
      return {
        verb: 'done',
        ...(b.summary !== undefined ? { summary: b.summary } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata as Json } : {}),
      };
    default:
      return { verb: b.verb };
  }
}

/** People's task operations over HTTP: the same store calls as the CLI (SPEC §6). */
export function taskRoutes(store: Store): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  // Scoped to these paths: other /api/v1 paths (a mistyped worker route) must 404, not 401.
  for (const path of ['/tasks', '/tasks/*', '/events']) app.use(path, requireAuth(store, 'admin'));
  const route = routesOf(TAG);

  app.openapi(
    createRoute({
      ...route('get', '/tasks', 'list tasks of a board'),
      request: { query: ListQuery },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const statuses = q.status?.split(',').map((s) => s.trim()) as TaskStatus[] | undefined;
      for (const s of statuses ?? []) {
        // Thrown, so the answer is made as every other error's is: its message kept to one
        // line, whatever the query quoted in it held.
        if (!(TASK_STATUSES as readonly string[]).includes(s))
          throw invalid(`unknown status '${s}'; use one of ${TASK_STATUSES.join(', ')}`);
      }
      const after = q.after === undefined ? undefined : parseTaskCursor(q.after);
      if (after === null)
        throw invalid(`after: '${q.after}' is not a cursor; pass a page's \`next\` (PRIORITY:ID)`);
      if (after !== undefined && q.offset !== undefined)
        throw invalid('after and offset cannot be combined; page with after alone');
      const board = q.board ?? 'default';
      await store.getBoard(board);
      const limit = Math.min(Number(q.limit ?? 1000), 10_000);
      const tasks = await store.listTasks({
        board,
        ...(statuses ? { statuses } : {}),
        ...(q.assignee !== undefined ? { assignee: q.assignee } : {}),
        ...(q.q !== undefined ? { q: q.q } : {}),
        ...(after !== undefined ? { after } : { offset: Number(q.offset ?? 0) }),
        limit,
      });
      // A full page may have more after it; a short one is the last.
      const last = tasks.length === limit ? tasks[tasks.length - 1] : undefined;
      return c.json({ tasks, next: last ? taskCursorText(last) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      ...route('post', '/tasks', 'create a task'),
      request: { body: jsonBody(NewTaskBody) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const notBefore =
        typeof body.not_before === 'string'
          ? parseWhen(body.not_before, Date.now(), 'not_before')
          : body.not_before;
      const input = { ...body, not_before: notBefore };
      return c.json(await store.createTask(input as never, actorOf(c)), 200);
    },
  );

  app.openapi(
    createRoute({
      ...route('get', '/tasks/{id}', 'one task with its questions, comments and runs'),
      request: { params: TaskIdParam },
    }),
    async (c) => {
      const id = Number(c.req.valid('param').id);
      const task = await store.getTask(id);
      return c.json(
        {
          ...task,
          comments: await store.listComments(id),
          questions: await store.listQuestions(id),
          runs: (await store.listRuns(id)).map(redactRun),
          worktree: await store.getWorktree(id),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      ...route('get', '/tasks/{id}/diff', "a task's diff against its base (worktree workspaces)"),
      request: {
        params: TaskIdParam,
        query: z.object({ stat: z.enum(['1', 'true']).optional() }),
      },
    }),
    async (c) => {
      const id = Number(c.req.valid('param').id);
      await store.getTask(id);
      const view = await taskDiffView(
        id,
        await store.getWorktree(id),
        c.req.valid('query').stat === undefined,
      );
      return c.json({ ...view, off_branch: workOffBranch(await store.listRuns(id)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      ...route('patch', '/tasks/{id}', 'edit a task (never its status or counters)'),
      request: { params: TaskIdParam, body: jsonBody(EditBody) },
    }),
    async (c) =>
      c.json(
        await store.editTask(
          Number(c.req.valid('param').id),
          c.req.valid('json') as never,
          actorOf(c),
        ),
        200,
      ),
  );

  app.openapi(
    createRoute({
      ...route('post', '/tasks/{id}/move', 'move a task through the transition table'),
      request: { params: TaskIdParam, body: jsonBody(MoveBody) },
    }),
    async (c) =>
      c.json(
        await store.moveTask(
          Number(c.req.valid('param').id),
          toMove(c.req.valid('json')),
          actorOf(c),
        ),
        200,
      ),
  );

  app.openapi(
    createRoute({
      ...route('post', '/tasks/{id}/comments', 'comment on a task'),
      request: { params: TaskIdParam, body: jsonBody(CommentBody) },
    }),
    async (c) =>
      c.json(
        await store.addComment(
          Number(c.req.valid('param').id),
          c.req.valid('json').body,
          actorOf(c),
        ),
        200,
      ),
  );

  app.openapi(
    createRoute({
      ...route('post', '/tasks/{id}/links', 'make this task a child of `parent`'),
      request: {
        params: TaskIdParam,
        body: jsonBody(z.object({ parent: z.number().int().positive() }).strict()),
      },
    }),
    async (c) =>
      c.json(
        await store.linkTasks(
          c.req.valid('json').parent,
          Number(c.req.valid('param').id),
          actorOf(c),
        ),
        200,
      ),
  );

  app.openapi(
    createRoute({
      ...route('get', '/events', 'events, oldest first, after a cursor'),
      request: { query: EventsQuery },
    }),
    async (c) => {
      const q = c.req.valid('query');
      // An unknown board or task is 404, as on `/board` and in `warden events`.
      if (q.task !== undefined) await store.getTask(Number(q.task));
      else await store.getBoard(q.board ?? 'default');
      const events = await store.listEvents({
        ...(q.task !== undefined
          ? { task_id: Number(q.task) }
          : { board: q.board ?? 'default', include_global: true }),
        ...(q.after !== undefined ? { after_id: Number(q.after) } : { newest: true }),
        // The follower's door: every page's last event is a cursor that never skips.
        final: true,
        limit: Math.min(Number(q.limit ?? 1000), 10_000),
      });
      return c.json({ events }, 200);
    },
  );
  return app;
}
