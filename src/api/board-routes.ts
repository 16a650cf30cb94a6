import { resolve, sep } from 'node:path';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { person } from '../core/actor.js';
import { WardenError, notFound } from '../core/errors.js';
import { pauseReason } from '../core/inbox.js';
import { NO_TOKENS } from '../core/llm.js';
import { pauseNote } from '../core/profile.js';
import { TASK_STATUSES } from '../core/status.js';
import type { Run } from '../core/run.js';
import type { Task } from '../core/task.js';
import { readLog, runLogPath } from '../os/run-log.js';
import type { LogSlice } from '../os/run-log.js';
import type { Store } from '../store/store.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { onError, validationHook } from './errors.js';
import { redactRun } from '../core/hidden-env.js';
import { routesOf } from './routes.js';
import { idText } from './schemas.js';

/** What the board routes need from the host. */
export interface BoardContext {
  /** The home's runs folder: logs are served only from under it. */
  runsDir: string;
  /** Whether this host's dispatcher loop runs. */
  dispatching: () => boolean;
  /** A promise that settles when the store may have changed (or after `ms`). */
  changed(ms: number): Promise<void>;
}

/** A card: a task and, if it is running, its run's liveness figures. */
export type Card = Task & { run: Run | null };

const TAG = 'board';
const BoardQuery = z.object({
  board: z.string().optional(),
  q: z.string().max(200).optional(),
  limit: z
    .string()
    .regex(/^\d+$/)
    .optional()
    .openapi({ description: 'cards per column (default 50)' }),
  archived: z.enum(['0', '1']).optional(),
});

/** Most parents a board answer gives the status of (`off_board`). */
const OFF_BOARD_MAX = 500;

/**
 * The statuses of the waiting (`todo`) cards' parents that the columns do not show, so a
 * waiting card can say what holds it: one read, where the page used to read each parent.
 */
async function offBoard(
  store: Store,
  columns: Record<string, Card[]>,
): Promise<Record<number, string>> {
  const shown = new Set(Object.values(columns).flatMap((cards) => cards.map((c) => c.id)));
  const parents = new Set((columns.todo ?? []).flatMap((c) => c.parents));
  const missing = [...parents].filter((id) => !shown.has(id)).slice(0, OFF_BOARD_MAX);
  return store.taskStatuses(missing);
}

/** The cards of a column: its running tasks' runs read in one query, not one per card. */
async function cards(store: Store, tasks: readonly Task[]): Promise<Card[]> {
  const ids = tasks.flatMap((t) => (t.current_run_id === null ? [] : [t.current_run_id]));
  const runs = new Map((await store.getRuns(ids)).map((r) => [r.id, redactRun(r)]));
  return tasks.map((t) => ({
    ...t,
    run: t.current_run_id === null ? null : (runs.get(t.current_run_id) ?? null),
  }));
}

/** What the dashboard reads: the board in columns, health, run logs, live events. */
export function boardRoutes(
  store: Store,
  ctx: BoardContext,
): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  for (const path of ['/board', '/health', '/runs/*', '/stream', '/boards/*', '/profiles/*'])
    app.use(path, requireAuth(store, 'admin'));
  const route = routesOf(TAG);

  app.openapi(
    createRoute({
      ...route('get', '/board', 'a board in columns: counts and the first cards of each status'),
      request: { query: BoardQuery },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const name = q.board ?? 'default';
      const board = await store.getBoard(name);
      const limit = Math.min(Number(q.limit ?? 50), 500);
      const shown = TASK_STATUSES.filter((s) => s !== 'archived' || q.archived === '1');
      const found = await store.boardColumns({
        board: name,
        limit,
        shown,
        ...(q.q !== undefined ? { q: q.q } : {}),
      });
      const columns: Record<string, Card[]> = {};
      for (const status of shown) columns[status] = await cards(store, found.columns[status] ?? []);
      return c.json(
        {
          board: name,
          paused: board.paused,
          counts: found.counts,
          columns,
          off_board: await offBoard(store, columns),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      ...route('get', '/health', 'what the banner and the health panel show'),
      request: { query: z.object({ board: z.string().optional() }) },
    }),
    async (c) => {
      const name = c.req.valid('query').board ?? 'default';
      const board = await store.getBoard(name);
      const profiles = await store.listProfiles();
      const byProfile = await store.runningByAssignee(name);
      const held = (
        await store.listEvents({ board: name, kinds: ['kill_failed'], limit: 200, newest: true })
      ).map((e) => e.run_id);
      const killFailed: { run_id: number; task_id: number }[] = [];
      for (const id of new Set(held)) {
        if (id === null) continue;
        const run = await store.getRun(id);
        if (run.state !== 'ended') killFailed.push({ run_id: run.id, task_id: run.task_id });
      }
      const hour = Date.now() - 3_600_000;
      const buckets = Array.from({ length: 12 }, (_, i) => ({
        at: hour + i * 300_000,
        completed: 0,
        failed: 0,
      }));
      // The board's model traffic in the same window: one row, summed by the database.
      const [llm] = await store.llmStats({ by: 'board', board: name, since: hour });
      for (const r of await store.endedRuns(name, hour)) {
        const b = buckets[Math.min(11, Math.floor((r.ended_at - hour) / 300_000))];
        if (!b) continue;
        if (r.outcome === 'completed' || r.outcome === 'review_requested') b.completed += 1;
        else if (!['stopped', 'rate_limited', 'worker_blocked'].includes(r.outcome)) b.failed += 1;
      }
      return c.json(
        {
          board: name,
          dispatching: ctx.dispatching() && !board.paused,
          board_paused: board.paused,
          paused_profiles: profiles
            .filter((p) => p.paused)
            .map((p) => ({
              name: p.name,
              by: p.paused_by,
              reason: pauseReason(p.paused_by, p.paused_reason),
              probe_at: p.breaker.probe_at,
            })),
          kill_failed: killFailed,
          running_by_profile: byProfile,
          last_hour: buckets,
          llm_last_hour: {
            requests: llm?.requests ?? 0,
            tokens: llm?.tokens ?? NO_TOKENS,
            cost_usd: llm?.cost_usd ?? 0,
            unpriced: llm?.unpriced ?? 0,
          },
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      ...route(
        'get',
        '/runs/{id}/log',
        'a run’s log (stdout and stderr together): its end, or a range of it',
      ),
      request: {
        params: z.object({ id: idText }),
        query: z.object({
          bytes: z.string().regex(/^\d+$/).optional(),
          offset: z
            .string()
            .regex(/^\d+$/)
            .optional()
            .openapi({ description: 'where to start, in bytes (default: the last `bytes`)' }),
        }),
      },
    }),
    async (c) => {
      const run = await store.getRun(Number(c.req.valid('param').id));
      const root = resolve(ctx.runsDir) + sep;
      // A log path comes from the store; it is served only from inside this home's runs folder.
      if (run.log_path !== null && !resolve(run.log_path).startsWith(root)) {
        throw notFound(`run ${run.id} has no log on this host`);
      }
      const query = c.req.valid('query');
      const bytes = Math.min(Number(query.bytes ?? 16_384), 1_048_576);
      let slice: LogSlice;
      try {
        slice = readLog(runLogPath(run), query.offset ? Number(query.offset) : -bytes, bytes);
      } catch (err) {
        if (err instanceof WardenError) throw err;
        throw notFound(`run ${run.id}'s log is gone`);
      }
      return c.json(
        {
          run_id: run.id,
          state: run.state,
          log: slice.data.toString('utf8'),
          offset: slice.offset,
          length: slice.data.length,
          size: slice.size,
          cut: slice.cut,
          cutting: slice.cutting,
        },
        200,
      );
    },
  );

  for (const verb of ['pause', 'resume'] as const) {
    app.openapi(
      createRoute({
        ...route('post', `/boards/{name}/${verb}`, `${verb} dispatch on a board`),
        request: { params: z.object({ name: z.string() }) },
      }),
      async (c) => {
        const actor = person(c.get('token')?.name ?? 'unknown');
        return c.json(
          await store.setBoardPaused(c.req.valid('param').name, verb === 'pause', actor),
          200,
        );
      },
    );
  }

  // A profile's pause, as `warden profile pause|resume NAME` (the banner's Resume button).
  for (const verb of ['pause', 'resume'] as const) {
    app.openapi(
      createRoute({
        ...route('post', `/profiles/{name}/${verb}`, `${verb} the runs of a profile`),
        request: { params: z.object({ name: z.string() }) },
      }),
      async (c) => {
        const who = c.get('token')?.name ?? 'unknown';
        const paused = verb === 'pause';
        const name = c.req.valid('param').name;
        return c.json(
          await store.setProfilePaused(name, paused, pauseNote(paused, who), person(who)),
          200,
        );
      },
    );
  }

  // Server-sent events: every new event of the board (and home-wide ones), resumable by id.
  app.get('/stream', async (c) => {
    const board = c.req.query('board') ?? 'default';
    await store.getBoard(board);
    const last = Number(c.req.header('last-event-id') ?? c.req.query('after') ?? NaN);
    let cursor = Number.isFinite(last)
      ? last
      : ((
          await store.listEvents({
            board,
            include_global: true,
            limit: 1,
            newest: true,
            final: true,
          })
        )[0]?.id ?? 0);
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      let quiet = 0;
      while (open) {
        const events = await store.listEvents({
          board,
          include_global: true,
          after_id: cursor,
          limit: 500,
        });
        for (const e of events) {
          await stream.writeSSE({ id: String(e.id), event: 'warden', data: JSON.stringify(e) });
          cursor = e.id;
        }
        if (events.length === 0 && (quiet += 1) >= 30) {
          await stream.writeSSE({ event: 'ping', data: '{}' });
          quiet = 0;
        }
        await ctx.changed(500);
      }
    });
  });
  return app;
}
