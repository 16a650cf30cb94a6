import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { person } from '../core/actor.js';
import { BULK_VERBS, parseBulkFilter } from '../core/bulk.js';
import { bulkMove } from '../store/bulk.js';
import type { Store } from '../store/store.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { jsonBody, routesOf } from './routes.js';

const List = z.union([z.string(), z.array(z.string())]);

const BulkBody = z
  .object({
    verb: z.enum(BULK_VERBS),
    board: z.string().optional(),
    status: List.optional().openapi({ description: 'statuses (a list, or comma-separated)' }),
    assignee: z.string().optional(),
    kind: List.optional().openapi({ description: 'block kinds (a list, or comma-separated)' }),
    dry_run: z.boolean().optional().openapi({ description: 'default true: change nothing' }),
  })
  .strict()
  .openapi('BulkBody');

/**
 * `POST /api/v1/tasks/bulk` (issue #14): retry, unblock or archive every task a filter matches,
 * a dry run unless `dry_run` is false. Answers 200 with each task's result, refused ones
 * included (the others were changed); a bad filter is 400 and changes nothing.
 */
export function bulkRoutes(store: Store): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  app.use('/tasks/bulk', requireAuth(store, 'admin'));
  const route = routesOf('tasks');
  app.openapi(
    createRoute({
      ...route('post', '/tasks/bulk', 'retry, unblock or archive the tasks a filter matches'),
      request: { body: jsonBody(BulkBody) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const filter = parseBulkFilter(body);
      const actor = person(c.get('token')?.name ?? 'unknown');
      const dryRun = body.dry_run !== false;
      return c.json(await bulkMove(store, body.verb, filter, { dryRun }, actor), 200);
    },
  );
  return app;
}
