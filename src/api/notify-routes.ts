import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { person } from '../core/actor.js';
import {
  DEAD_LETTER_PAGE,
  DEAD_LETTER_PAGE_MAX,
  NOTIFY_FORMATS,
  NOTIFY_KINDS,
} from '../core/notify.js';
import { dashboardBase, notifyPolicyFromEnv } from '../serve/notify.js';
import { resendDeadLetter, sendTestMessage } from '../serve/notify-test.js';
import type { TestSend } from '../serve/notify-test.js';
import type { Store } from '../store/store.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { BEARER, RESPONSES, jsonBody, routesOf } from './routes.js';

const TAG = 'notifications';

// Shape and size at the edge; the store checks the URL, kinds, format, board and task.
const NewSubscriptionBody = z
  .object({
    url: z
      .string()
      .max(2000)
      .openapi({ description: 'the http(s) address each message is POSTed to' }),
    events: z
      .array(z.string().max(40))
      .max(NOTIFY_KINDS.length)
      .optional()
      .openapi({ description: `notification kinds (default: all): ${NOTIFY_KINDS.join(', ')}` }),
    format: z
      .string()
      .max(20)
      .optional()
      .openapi({ description: `${NOTIFY_FORMATS.join(', ')} (default json)` }),
    board: z.string().max(64).nullable().optional(),
    task_id: z.number().int().positive().nullable().optional(),
    secret: z.string().max(200).nullable().optional().openapi({
      description: 'signs each message: X-Warden-Signature: sha256=HMAC of timestamp.key.body',
    }),
  })
  .strict()
  .openapi('NewSubscriptionBody');

const IdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' }, example: 1 }),
});

const DeadQuery = z.object({
  subscription: z.coerce.number().int().positive().optional(),
  after: z.coerce
    .number()
    .int()
    .nonnegative()
    .optional()
    .openapi({ description: 'only dead letters after this id: the last id of the page before' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(DEAD_LETTER_PAGE_MAX)
    .optional()
    .openapi({ description: `at most this many (default ${DEAD_LETTER_PAGE})` }),
});

const timeout = (): number => notifyPolicyFromEnv().timeoutMs;

/** What a target answered to a send by hand. */
function answerOf(id: number, t: TestSend): Record<string, unknown> {
  const { ok, status, error, answer } = t.result;
  return { id, ok, status, error, answer, ms: t.ms };
}

/** Webhook subscriptions and dead letters (issue #15); admin token. */
export function notifyRoutes(store: Store): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  app.use('/notify/*', requireAuth(store, 'admin'));
  const route = routesOf(TAG);

  app.openapi(
    createRoute(route('get', '/notify/subscriptions', 'list webhook subscriptions')),
    async (c) => c.json({ subscriptions: await store.listSubscriptions() }, 200),
  );

  app.openapi(
    createRoute({
      ...route('post', '/notify/subscriptions', 'subscribe a webhook; it hears what happens next'),
      request: { body: jsonBody(NewSubscriptionBody) },
    }),
    async (c) => {
      const { events, ...rest } = c.req.valid('json');
      const actor = person(c.get('token')?.name ?? 'unknown');
      return c.json(await store.addSubscription({ ...rest, kinds: events }, actor), 200);
    },
  );

  app.openapi(
    createRoute({
      ...route('get', '/notify/subscriptions/{id}', 'one subscription'),
      request: { params: IdParam },
    }),
    async (c) => c.json(await store.getSubscription(c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/notify/subscriptions/{id}',
      summary: 'remove a subscription and its dead letters',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { params: IdParam },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      await store.removeSubscription(id);
      return c.json({ removed: id }, 200);
    },
  );

  app.openapi(
    createRoute({
      ...route(
        'post',
        '/notify/subscriptions/{id}/test',
        'send a test message now; `ok` false and `error` when the target did not take it',
      ),
      request: { params: IdParam },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const base = dashboardBase(new URL(c.req.url).origin);
      return c.json(answerOf(id, await sendTestMessage(store, id, base, timeout())), 200);
    },
  );

  app.openapi(
    createRoute({
      ...route(
        'post',
        '/notify/dead/{id}/resend',
        'send a dead letter again now; removed from the dead letters once its target takes it',
      ),
      request: { params: IdParam },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const base = dashboardBase(new URL(c.req.url).origin);
      return c.json(answerOf(id, await resendDeadLetter(store, id, base, timeout())), 200);
    },
  );

  app.openapi(
    createRoute({
      ...route('get', '/notify/dead', 'notifications that used up their attempts'),
      request: { query: DeadQuery },
    }),
    async (c) => c.json({ dead: await store.listDeadLetters(c.req.valid('query')) }, 200),
  );

  return app;
}
