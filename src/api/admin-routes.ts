import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { conflict, illegalState } from '../core/errors.js';
import type { Store } from '../store/store.js';
import type { EndResult, StopIntent } from '../core/ending.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { BEARER, RESPONSES, jsonBody } from './routes.js';
import { StopBody, TaskIdParam } from './schemas.js';

/** What the admin routes need from the host. */
export interface HostControl {
  /** Ends the task's run on this host; null if this host has no run of the task. */
  stop(taskId: number, by: string, intent: StopIntent): Promise<EndResult | null>;
}

const TAG = 'tasks';

/** Routes for people holding an admin token. */
export function adminRoutes(
  store: Store,
  host: HostControl,
): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  // Only the admin routes: other /api/v1 paths (a mistyped worker route) must 404, not 401.
  app.use('/tasks/*', requireAuth(store, 'admin'));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{id}/stop',
      summary:
        'end the task’s run `stopped` and wait until its processes are verified gone; blocks the task unless requeue',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { params: TaskIdParam, body: jsonBody(StopBody) },
    }),
    async (c) => {
      const id = Number(c.req.valid('param').id);
      const { run_id: meant, ...intent } = c.req.valid('json') as StopIntent & { run_id?: number };
      const task = await store.getTask(id);
      if (meant !== undefined && task.current_run_id !== meant) {
        throw conflict(
          `run ${meant} of task ${id} is no longer in progress (the task is ${task.status}${task.current_run_id === null ? '' : `, its run now is ${task.current_run_id}`}); nothing was stopped`,
        );
      }
      if (typeof intent.reassign === 'string') await store.getProfile(intent.reassign);
      const by = c.get('token')?.name ?? 'a person';
      const result = await host.stop(id, by, intent);
      if (result === null) {
        throw illegalState(`task ${id} has no run in progress on this host (it is ${task.status})`);
      }
      return c.json(result, 200);
    },
  );
  return app;
}
