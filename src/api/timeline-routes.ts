import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { buildTimeline } from '../core/timeline.js';
import type { Store } from '../store/store.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { routesOf } from './routes.js';
import { idText } from './schemas.js';

/**
 * `GET /api/v1/runs/{id}/timeline` (issue #15): a run's start, output bursts, progress calls,
 * model requests, commits, stall warnings, signals and ending on one time axis, built from
 * what the store keeps (src/core/timeline.ts). A person's read, like the run's log.
 */
export function timelineRoutes(store: Store): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  app.use('/runs/:id/timeline', requireAuth(store, 'admin'));
  const route = routesOf('board');
  app.openapi(
    createRoute({
      ...route(
        'get',
        '/runs/{id}/timeline',
        'a run’s timeline: output, progress, model requests, commits, warnings, signals, ending',
      ),
      request: { params: z.object({ id: idText }) },
    }),
    async (c) => {
      const facts = await store.timelineFacts(Number(c.req.valid('param').id));
      return c.json(buildTimeline(facts, Date.now()), 200);
    },
  );
  return app;
}
