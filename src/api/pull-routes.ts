import { PULL_DEFAULTS } from '../core/defaults.js';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { hostname } from 'node:os';
import { dispatcher } from '../core/actor.js';
import type { Store } from '../store/store.js';
import type { LeaseInfo, ReissuedRun } from '../store/run-types.js';
import type { PullSupervisor } from '../supervisor/pull.js';
import type { AuthVariables } from './auth.js';
import { requireAuth } from './auth.js';
import { hashToken } from '../os/token.js';
import { refuseCharacters } from '../core/validate.js';
import { onError, oneLine, validationHook } from './errors.js';
import { BEARER, RESPONSES, jsonBody } from './routes.js';
import { CompleteBody, FailBody } from './schemas.js';
import type { ReportResult } from './worker-routes.js';
import { WardenError } from '../core/errors.js';
import type {
  ClaimAnswer,
  ReportOutcome,
  TerminalCall,
  WorkerContext,
} from '../core/worker-protocol.js';
import { ClaimAnswers } from './claim-answers.js';
import type { Json } from '../core/events.js';

/** A long-poll's turn to look for work after a change; `done` says whether it found any. */
export interface WorkTurn {
  done(found: boolean): void;
}

/** The terminal call a carried report stands for. */
function callOf(r: PullReport): TerminalCall {
  const metadata =
    'metadata' in r && r.metadata !== undefined ? { metadata: r.metadata as Json } : {};
  if (r.op === 'fail') return { op: 'fail', reason: r.reason };
  if (r.op === 'request_review') return { op: 'request_review', summary: r.summary, ...metadata };
  return {
    op: 'complete',
    summary: r.summary,
    ...metadata,
    ...(r.created !== undefined ? { created: r.created } : {}),
  };
}

/** How the claim route reports the results a worker carries on it. */
export interface PullResults {
  report: ReportResult;
  /** Something a report did may let other work start (a freed slot, a promoted child). */
  changed(): void;
  /** A report failed in `serve` itself: for the serve log, as a 5xx answer would be. */
  failed(err: unknown): void;
}

/** What the pull routes need from the host. */
export interface PullControl {
  pull: PullSupervisor;
  /**
   * Waits up to `ms` for this long-poll's turn to look for work after a change (null when the
   * time ran out first); the turn is handed on by saying whether the look found any.
   */
  waitForWork(ms: number, profiles: readonly string[]): Promise<WorkTurn | null>;
  leaseTtlMs: number;
  /** The host answering, recorded on lease events. */
  host: string;
}

const TAG = 'pull';

const LeaseBody = z
  .object({
    name: z
      .string()
      .min(1)
      .max(200)
      .superRefine(refuseCharacters(false))
      .optional()
      .openapi({ description: 'what the worker calls itself, e.g. host:pid' }),
    profiles: z
      .array(z.string())
      .max(64)
      .optional()
      .openapi({ description: "profiles to serve (default: all of the token's)" }),
  })
  .strict()
  .openapi('LeaseBody');

const RenewBody = z
  .object({
    acks: z
      .array(z.number().int().positive())
      .max(1000)
      .optional()
      .openapi({ description: 'cancelled runs whose handlers have stopped' }),
  })
  .strict()
  .openapi('RenewBody');

const runToken = z
  .string()
  .regex(/^wrun_[A-Za-z0-9_-]{1,200}$/, 'must be a run token (wrun_...)')
  .openapi({ description: "the finished run's token, as its own report would send it" });

/** A finished run's result, carried on the claim that follows it instead of a request of its own. */
const PullReport = z
  .discriminatedUnion('op', [
    CompleteBody.extend({ op: z.literal('complete'), token: runToken }),
    CompleteBody.omit({ created: true }).extend({
      op: z.literal('request_review'),
      token: runToken,
    }),
    FailBody.extend({ op: z.literal('fail'), token: runToken }),
  ])
  .openapi('PullReport');
type PullReport = z.infer<typeof PullReport>;

/** A run a claim hands its worker: made now, or made by this claim before and handed over again. */
type Handed = ReissuedRun & { context?: WorkerContext | undefined };

const ClaimBody = z
  .object({
    lease_id: z.string().min(1),
    claim_id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or -')
      .optional()
      .openapi({
        description:
          'the same for every retry of one claim: a retry whose first answer was lost gets that answer again, not new runs (after a serve restart, the same runs with new tokens)',
      }),
    reports: z.array(PullReport).max(PULL_DEFAULTS.max_claim).optional().openapi({
      description:
        'results of runs this worker finished, each reported (and fenced) as /worker/complete, /worker/request-review or /worker/fail would, before the claim',
    }),
    max: z
      .number()
      .int()
      .min(1)
      .max(PULL_DEFAULTS.max_claim)
      .optional()
      .openapi({ description: 'free slots (default 1)' }),
    wait_ms: z
      .number()
      .int()
      .min(0)
      .max(PULL_DEFAULTS.max_wait_ms)
      .optional()
      .openapi({ description: 'long-poll: wait this long for work before answering with none' }),
  })
  .strict()
  .openapi('ClaimBody');

const LeaseParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

/**
 * The lease a claim names (its body's `lease_id`), for the auth middleware to read with the
 * worker's token; undefined for any other request, or a body that is not one.
 */
async function claimedLease(c: Context): Promise<string | undefined> {
  if (c.req.method !== 'POST' || !c.req.path.endsWith('/claim')) return undefined;
  try {
    const body = await c.req.json<{ lease_id?: unknown } | null>();
    return typeof body?.lease_id === 'string' ? body.lease_id : undefined;
  } catch {
    return undefined;
  }
}

/** A lease read ahead, or the refusal reading it found. */
function given(checked: LeaseInfo | WardenError): LeaseInfo {
  if (checked instanceof WardenError) throw checked;
  return checked;
}

/**
 * Pull mode over HTTP (SPEC §4): a worker process opens one lease for all its runs, renews
 * it, claims runs by long-polling, and works them through the worker routes with each run's
 * token. Cancellations ride the renewal answer; a lapsed lease ends its runs `lease_lost`.
 */
export function pullRoutes(
  store: Store,
  control: PullControl,
  results: PullResults,
): OpenAPIHono<{ Variables: AuthVariables }> {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  app.onError(onError);
  // Before any lease is read: after an absence of this serve or of its store, the leases get
  // their time first (lease-grace.ts); until they have it, a pull request is answered 503.
  app.use('*', async (c, next) => {
    const catchingUp = control.pull.grace.present();
    if (catchingUp !== null) await catchingUp;
    await next();
    // A store that went away is noticed here too, not only at the next tick.
    if (c.error !== undefined) control.pull.grace.storeFailed(c.error);
  });
  app.use('*', requireAuth(store, 'worker', { leaseOf: claimedLease }));
  const token = (c: {
    get(key: 'token'): AuthVariables['token'];
  }): NonNullable<AuthVariables['token']> => {
    const t = c.get('token');
    if (!t) throw new Error('auth middleware did not run');
    return t;
  };
  /** Each lease's last claim answer, for a retry of the same claim (claim-answers.ts). */
  const answers = new ClaimAnswers<ClaimAnswer>();
  const leaseAnswer = (lease: { id: string; expires_at: number; profiles: string[] }) => ({
    lease_id: lease.id,
    profiles: lease.profiles,
    expires_at: lease.expires_at,
    ttl_ms: control.leaseTtlMs,
    renew_every_ms: Math.floor(control.leaseTtlMs / 3),
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/leases',
      summary: 'open a lease for this worker process (one for all its runs)',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(LeaseBody) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const t = token(c);
      const lease = await store.openLease(
        t,
        b.name ?? `${hostname()}?`,
        b.profiles,
        control.leaseTtlMs,
      );
      await store.writeEvent(dispatcher(control.host), {
        kind: 'lease_opened',
        payload: { lease: lease.id, name: lease.name, profiles: lease.profiles, token: t.name },
      });
      return c.json(leaseAnswer(lease), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/leases/{id}/renew',
      summary: 'renew the lease; the answer lists runs to cancel',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { params: LeaseParam, body: jsonBody(RenewBody) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { acks } = c.req.valid('json');
      await store.checkLease(id, token(c));
      if (acks && acks.length > 0) await control.pull.acknowledge(id, acks);
      const { lease, cancel } = await store.renewLease(id, token(c), control.leaseTtlMs);
      return c.json({ ...leaseAnswer(lease), cancel }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/leases/{id}/close',
      summary: 'close the lease; runs it still holds end lease_lost',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { params: LeaseParam },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await store.checkLease(id, token(c));
      await control.pull.closeLease(id);
      answers.forget(id);
      return c.json({ lease_id: id, closed: true }, 200);
    },
  );

  /**
   * Reports each carried result as its own worker call would, all at once (so they share a
   * group commit). A refusal (a stale run, a task it did not create) is that report's answer.
   * So is a failure of `serve` itself, marked `again`: the worker sends that report again
   * on its own, which is safe because a repeated report gets the answer the first one got.
   * It is said per report rather than failing the request, whose claim may already be made.
   */
  const reportAll = async (reports: readonly PullReport[]): Promise<ReportOutcome[]> => {
    const outcomes = await Promise.all(
      reports.map((r) =>
        results.report(hashToken(r.token), callOf(r)).then(
          (answer): ReportOutcome => ({ ok: true, answer }),
          (err: unknown): ReportOutcome => {
            if (err instanceof WardenError && err.httpStatus < 500)
              return { ok: false, error: { code: err.code, message: oneLine(err.message) } };
            results.failed(err);
            const code = err instanceof WardenError ? err.code : 'internal';
            const message = 'serve could not take this report; send it on its own';
            return { ok: false, again: true, error: { code, message } };
          },
        ),
      ),
    );
    if (outcomes.some((o) => o.ok)) results.changed();
    return outcomes;
  };

  /**
   * Reports what the worker carries and claims up to `max` runs, long-polling up to `wait_ms`
   * for work; the lease, already checked once, is checked again after each wait.
   */
  const claimFor = async (
    b: z.infer<typeof ClaimBody>,
    t: NonNullable<AuthVariables['token']>,
    checked: LeaseInfo,
    /** The lease's last claim is not known here: this may be a retry of one whose answer was lost. */
    lookBack: boolean,
  ): Promise<ClaimAnswer> => {
    let lease = checked;
    // Asked for before the claim and not waited for, so on SQLite the reports and the claim
    // share one group commit (in that order: the claim sees the slots they freed).
    const reporting = b.reports ? reportAll(b.reports) : Promise.resolve(undefined);
    /** The answer: the runs handed over (each with its context) and the reports' outcomes. */
    const answer = async (runs: readonly Handed[]): Promise<ClaimAnswer> => {
      const claims: ClaimAnswer['claims'] = [];
      for (const r of runs) {
        claims.push({
          run_id: r.runId,
          attempt: r.attempt,
          token: r.token,
          context: r.context ?? (await store.workerContext(hashToken(r.token))),
        });
      }
      const reports = await reporting;
      return { claims, ...(reports ? { reports } : {}) };
    };
    const max = b.max ?? 1;
    const deadline = Date.now() + (b.wait_ms ?? 0);
    // The turn a change gave this poll is handed on however its look ends.
    let turn: WorkTurn | null = null;
    // The request's first look goes straight to the turn: a worker asks when it has free
    // slots, usually right after finishing work, so there usually is more. Later looks
    // follow wake-ups, most of which find nothing, and look first outside the turn.
    let first = true;
    try {
      if (lookBack && b.claim_id) {
        // The runs this claim made before its answer was lost (serve restarted since, or the
        // first try reached another host), handed over again with new tokens.
        const again = await store.reissueClaim(lease.id, b.claim_id);
        if (again.length > 0) return await answer(again);
      }
      for (;;) {
        // The worker counts its own free slots (`max`); only profile and group caps apply.
        const claims = await store.claimRuns(
          {
            host: 'pull',
            mode: 'pull',
            workerId: lease.id,
            profiles: lease.profiles,
            maxWorkers: Number.MAX_SAFE_INTEGER,
            limit: max,
            noLook: first,
            ...(b.claim_id ? { claimId: b.claim_id } : {}),
          },
          null,
        );
        first = false;
        turn?.done(claims.length > 0);
        turn = null;
        if (claims.length > 0 || Date.now() >= deadline) {
          return await answer(
            claims.map((c) => ({
              runId: c.run.id,
              attempt: c.run.attempt,
              token: c.token,
              context: c.context,
            })),
          );
        }
        turn = await control.waitForWork(deadline - Date.now(), lease.profiles);
        await control.pull.grace.present();
        lease = await store.checkLease(b.lease_id, t);
      }
    } finally {
      turn?.done(false);
      // A claim that failed still waits for its reports (reportAll never rejects).
      await reporting;
    }
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/claim',
      summary:
        'report runs this worker finished (`reports`), then claim up to `max` runs, waiting up to `wait_ms` for work',
      tags: [TAG],
      security: BEARER,
      responses: RESPONSES,
      request: { body: jsonBody(ClaimBody) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const t = token(c);
      // The lease first: a refused claim reports nothing either. It was read with the token.
      const read = c.get('lease');
      const lease =
        read?.id === b.lease_id ? given(read.checked) : await store.checkLease(b.lease_id, t);
      const answer = b.claim_id
        ? answers.answer(lease.id, b.claim_id, (known) => claimFor(b, t, lease, !known))
        : claimFor(b, t, lease, false);
      return c.json(await answer, 200);
    },
  );
  return app;
}
