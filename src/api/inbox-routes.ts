import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { INPUT_LIMITS } from '../core/defaults.js';
import { invalid } from '../core/errors.js';
import { parseWindowStart } from '../core/when.js';
import { readInbox } from '../store/inbox.js';
import { readReport } from '../store/report.js';
import type { Store } from '../store/store.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { routesOf } from './routes.js';

const InboxQuery = z.object({
  board: z.string().max(64).optional().openapi({ description: "the board; 'default' if none" }),
  limit: z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .optional()
    .openapi({ description: `at most this many tasks (1 to ${INPUT_LIMITS.list_max}; 1000)` }),
});

const ReportQuery = InboxQuery.extend({
  since: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'an ISO 8601 time, or how far back (12h, 2d); 24h if none' }),
});

/** The `limit` of a query: 1000 if none, else from 1 to `list_max`. */
function limitOf(text: string | undefined): number {
  const limit = Number(text ?? 1000);
  if (limit < 1 || limit > INPUT_LIMITS.list_max) {
    throw invalid(`limit: must be from 1 to ${INPUT_LIMITS.list_max}, got ${limit}`);
  }
  return limit;
}

/**
 * What a person reads on coming back, admin token: the attention inbox (issue #15), what
 * waits for them, and the report, what the workers did meanwhile.
 */
export function inboxRoutes(store: Store): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  for (const path of ['/inbox', '/report']) app.use(path, requireAuth(store, 'admin'));
  const route = routesOf('inbox');

  app.openapi(
    createRoute({
      ...route(
        'get',
        '/inbox',
        'everything that waits for a person, newest first, each with the command that clears it',
      ),
      request: { query: InboxQuery },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await readInbox(store, q.board ?? 'default', limitOf(q.limit)), 200);
    },
  );

  app.openapi(
    createRoute({
      ...route(
        'get',
        '/report',
        "what a board's workers did since a time: each task with its branch, work and cost",
      ),
      request: { query: ReportQuery },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const now = Date.now();
      // A minute's slack for a client whose clock runs ahead of this one.
      const since = parseWindowStart(q.since ?? '24h', now, 'since', 60_000);
      const limit = limitOf(q.limit);
      return c.json(await readReport(store, q.board ?? 'default', since, limit, now), 200);
    },
  );

  return app;
}
