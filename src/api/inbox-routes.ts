import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { INPUT_LIMITS } from '../core/defaults.js';
import { invalid } from '../core/errors.js';
import { readInbox } from '../store/inbox.js';
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

/** The attention inbox (issue #15): what waits for a person; admin token. */
export function inboxRoutes(store: Store): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  app.use('/inbox', requireAuth(store, 'admin'));
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
      const limit = Number(q.limit ?? 1000);
      if (limit < 1 || limit > INPUT_LIMITS.list_max) {
        throw invalid(`limit: must be from 1 to ${INPUT_LIMITS.list_max}, got ${limit}`);
      }
      return c.json(await readInbox(store, q.board ?? 'default', limit), 200);
    },
  );

  return app;
}
