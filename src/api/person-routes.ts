import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { person } from '../core/actor.js';
import { INPUT_LIMITS } from '../core/defaults.js';
import type { PolicyOverrides } from '../core/policy.js';
import type { Store } from '../store/store.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { jsonBody, routesOf } from './routes.js';
import { TaskIdParam } from './schemas.js';

const ChangesBody = z
  .object({ reason: z.string().min(1).max(INPUT_LIMITS.summary_max_bytes) })
  .strict()
  .openapi('ChangesBody');

const AnswerBody = z
  .object({
    answer: z.string().min(1).max(INPUT_LIMITS.summary_max_bytes),
    /** The question answered, as the person read it: refused (409) if the task asks another. */
    question: z.string().max(INPUT_LIMITS.summary_max_bytes).optional(),
  })
  .strict()
  .openapi('AnswerBody');

/**
 * A person's replies over HTTP (issue #14), the same store calls as `warden answer` and
 * `warden approve`: 409 `illegal_state` for a task that asked nothing or waits for no approval,
 * 409 `conflict` for an answer to a question the task no longer asks.
 */
export function personRoutes(
  store: Store,
  config: () => PolicyOverrides,
): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  for (const path of ['/tasks/:id/answer', '/tasks/:id/approve', '/tasks/:id/request-changes'])
    app.use(path, requireAuth(store, 'admin'));
  const route = routesOf('tasks');
  const actor = (c: { get(key: 'token'): AuthVariables['token'] }) =>
    person(c.get('token')?.name ?? 'unknown');

  app.openapi(
    createRoute({
      ...route(
        'post',
        '/tasks/{id}/answer',
        "answer the worker's question: the task goes back in line with the answer in its next context",
      ),
      request: { params: TaskIdParam, body: jsonBody(AnswerBody) },
    }),
    async (c) =>
      c.json(
        await store.answerTask(
          Number(c.req.valid('param').id),
          c.req.valid('json').answer,
          actor(c),
          c.req.valid('json').question,
        ),
        200,
      ),
  );

  app.openapi(
    createRoute({
      ...route(
        'post',
        '/tasks/{id}/approve',
        'approve a task waiting for approval (it may run) or in review (it is done)',
      ),
      request: { params: TaskIdParam },
    }),
    async (c) => c.json(await store.approveTask(Number(c.req.valid('param').id), actor(c)), 200),
  );
  app.openapi(
    createRoute({
      ...route(
        'post',
        '/tasks/{id}/request-changes',
        'send a task in review back for more work with what to change',
      ),
      request: { params: TaskIdParam, body: jsonBody(ChangesBody) },
    }),
    async (c) =>
      c.json(
        await store.requestChanges(
          Number(c.req.valid('param').id),
          c.req.valid('json').reason,
          actor(c),
          { config: config() },
        ),
        200,
      ),
  );
  return app;
}
