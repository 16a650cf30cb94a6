import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { person } from '../core/actor.js';
import type { Actor } from '../core/actor.js';
import type { Store } from '../store/store.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { BEARER, RESPONSES, jsonBody, routesOf } from './routes.js';

const TAG = 'schedules';

// Shape and size at the edge; the store checks the expression, zone, board and profile.
const NewScheduleBody = z
  .object({
    name: z.string().max(64),
    board: z.string().max(64).optional(),
    cron: z.string().max(200).openapi({
      description: "five fields or a nickname (@hourly, @daily, ...), like '0 9 * * MON-FRI'",
    }),
    tz: z
      .string()
      .max(100)
      .optional()
      .openapi({ description: 'an IANA time zone; UTC by default' }),
    catch_up: z.enum(['skip', 'once']).optional().openapi({
      description: "missed firings: 'skip' them (default) or make 'once' one task for them all",
    }),
    template: z
      .object({
        title: z.string(),
        body: z.string().optional(),
        assignee: z.string().nullable().optional(),
        priority: z.number().int().optional(),
      })
      .strict()
      .openapi({ description: 'the task each firing creates, on the schedule’s board' }),
  })
  .strict()
  .openapi('NewScheduleBody');

const NameParam = z.object({
  name: z
    .string()
    .max(64)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'nightly' }),
});

const ListQuery = z.object({ board: z.string().max(64).optional() });

function actorOf(c: { get(key: 'token'): AuthVariables['token'] }): Actor {
  return person(c.get('token')?.name ?? 'unknown');
}

/** Schedules (issue #14): list, add, pause, resume, remove; admin token. */
export function scheduleRoutes(store: Store): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  for (const path of ['/schedules', '/schedules/*']) app.use(path, requireAuth(store, 'admin'));
  const route = routesOf(TAG);

  app.openapi(
    createRoute({
      ...route('get', '/schedules', 'list schedules (of one board)'),
      request: { query: ListQuery },
    }),
    async (c) => c.json({ schedules: await store.listSchedules(c.req.valid('query').board) }, 200),
  );

  app.openapi(
    createRoute({
      ...route('post', '/schedules', 'add a schedule'),
      request: { body: jsonBody(NewScheduleBody) },
    }),
    async (c) => c.json(await store.addSchedule(c.req.valid('json'), actorOf(c)), 200),
  );

  app.openapi(
    createRoute({
      ...route('get', '/schedules/{name}', 'one schedule'),
      request: { params: NameParam },
    }),
    async (c) => c.json(await store.getSchedule(c.req.valid('param').name), 200),
  );

  for (const verb of ['pause', 'resume'] as const) {
    app.openapi(
      createRoute({
        ...route(
          'post',
          `/schedules/{name}/${verb}`,
          verb === 'pause' ? 'pause a schedule' : 'resume a schedule from its next firing',
        ),
        request: { params: NameParam },
      }),
      async (c) =>
        c.json(
          await store.setSchedulePaused(c.req.valid('param').name, verb === 'pause', actorOf(c)),
          200,
        ),
    );
  }

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/schedules/{name}',
      summary: 'remove a schedule (the tasks it created stay)',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { params: NameParam },
    }),
    async (c) => {
      const name = c.req.valid('param').name;
      await store.removeSchedule(name, actorOf(c));
      return c.json({ removed: name }, 200);
    },
  );

  return app;
}
