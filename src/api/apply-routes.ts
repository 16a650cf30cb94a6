import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { person } from '../core/actor.js';
import { parseTaskGraph } from '../core/apply.js';
import type { Store } from '../store/store.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { jsonBody, routesOf } from './routes.js';

const GraphTask = z
  .object({
    name: z.string().openapi({ description: 'local name; other tasks name it in `after`' }),
    title: z.string(),
    body: z.string().optional(),
    assignee: z.string().nullable().optional(),
    priority: z.number().int().optional(),
    after: z
      .array(z.union([z.string(), z.number().int().positive()]))
      .optional()
      .openapi({ description: 'local names of this graph, or ids of tasks on the board' }),
    key: z
      .string()
      .optional()
      .openapi({ description: 'idempotency key; default apply:GRAPH/NAME' }),
    policy: z.record(z.string(), z.unknown()).optional(),
    triage: z.boolean().optional(),
  })
  // Unknown fields reach parseTaskGraph, which names them (`depends_on` is not `after`).
  .loose()
  .openapi('GraphTask');

const ApplyBody = z
  .object({
    name: z.string().optional().openapi({ description: "the graph's name, kept in derived keys" }),
    board: z.string().optional(),
    tasks: z.array(GraphTask),
    dry_run: z
      .boolean()
      .optional()
      .openapi({ description: 'say what it would create; default false' }),
  })
  .loose()
  .openapi('ApplyBody');

/**
 * `POST /api/v1/apply` (issue #14): a task graph, the JSON of a `warden apply` file, created in
 * one transaction or not at all. The graph is checked by the same `parseTaskGraph` as the CLI's.
 */
export function applyRoutes(store: Store): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  app.use('/apply', requireAuth(store, 'admin'));
  const route = routesOf('tasks');
  app.openapi(
    createRoute({
      ...route('post', '/apply', 'create a task graph in one transaction (or say what it would)'),
      request: { body: jsonBody(ApplyBody) },
    }),
    async (c) => {
      const { dry_run: dryRun, ...raw } = c.req.valid('json');
      const graph = parseTaskGraph(raw);
      const actor = person(c.get('token')?.name ?? 'unknown');
      return c.json(await store.applyGraph(graph, actor, { dryRun: dryRun === true }), 200);
    },
  );
  return app;
}
