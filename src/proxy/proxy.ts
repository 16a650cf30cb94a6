import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Actor } from '../core/actor.js';
import type { Clock } from '../core/clock.js';
import { RunRule } from '../core/ending.js';
import type { RunId } from '../core/glossary.js';
import { WardenError } from '../core/errors.js';
import {
  DEFAULT_MAX_RATE_LIMITS,
  LLM_PATH,
  LLM_TOKEN_HEADER,
  LLM_TOKEN_IN_HEADER,
  costOf,
  priceFor,
  spentBudget,
  totalTokens,
} from '../core/llm.js';
import type { LlmKind, LlmSpec, LlmState, PriceTable } from '../core/llm.js';
import type { RunReason } from '../core/run.js';
import type { LlmAdmission } from '../store/run-types.js';
import type { Outcome } from '../core/status.js';
import { hashToken } from '../os/token.js';
import type { Store } from '../store/store.js';
import { ActivityBook } from './activity.js';
import { AdmissionMemory } from './admissions.js';
import type { ProxiedRun } from './activity.js';
import { budgetRefusal, staleRefusal, writeRefusal } from './errors.js';
import type { ProxyRefusal } from './errors.js';
import { relay } from './relay.js';
import { baseOf, pathOf } from './upstream.js';
import { giveUpWhenIdle } from './idle.js';
import { UpstreamLimiter } from './limiter.js';
import { UsageTap } from './usage.js';

/**
 * The model-activity proxy (issue #13, docs/llm-proxy.md). Each spawned run of a profile with
 * `--llm-upstream` gets `serve`'s `/llm/<run token>` as its model base URL; a request there is
 * fenced by the token like every run-token call, checked against the profile's budgets, queued
 * behind `--llm-max-concurrency`, and forwarded to the upstream unchanged, its answer passed
 * back chunk by chunk as it arrives. On the way the proxy tells the host that the run is
 * working (every request and chunk) and records the tokens the answer says it used.
 */

/** An upstream that sends nothing for this long is given up (the agent gets a 504). */
export const UPSTREAM_IDLE_MS = 10 * 60_000;

/** Upstream answers that say "slow down": rate limits and overload. */
const RATE_LIMIT_STATUSES = new Set([429, 503, 529]);
/** Answers that refuse the run's credentials: a wrong or revoked key, a key without access. */
const KEY_REFUSED_STATUSES = new Set([401, 403]);
/**
 * Refusals of the credentials in a row after which the run ends `config_error`: an agent
 * retries them by itself (a trial's Claude Code, ten times over three and a half minutes,
 * holding a slot), and no retry mends a key.
 */
const MAX_KEY_REFUSALS = 3;

/** Headers of one hop only (RFC 9110 §7.6.1), never forwarded. */
const HOP_BY_HOP = new Set([
  // Not a hop-by-hop header, but the run's token: never sent on.
  LLM_TOKEN_HEADER,
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** What the proxy tells the host it runs in. */
export interface ProxyHooks {
  /** Model traffic of a run: progress, and (when given) what it is doing now. */
  activity(run: ProxiedRun, state?: LlmState | null): void;
  /**
   * Ends a run for a rule the proxy found (a spent budget, upstream rate limits); resolves once
   * the ending is decided (a pull run's fence is written), which the proxy waits for before the
   * agent sees the answer that caused it.
   */
  end(run: AdmittedRun, outcome: Outcome, reason: RunReason): void | Promise<void>;
}

/** The run of a request, as admission reads it. */
type AdmittedRun = LlmAdmission['run'];

export interface LlmProxyOptions {
  store: Store;
  clock: Clock;
  /** The price table as configured now. */
  prices: () => PriceTable;
  hooks: ProxyHooks;
  /** Whether this host watches the spawned run and it is neither ending nor lost. */
  stillRunning: (runId: number) => boolean;
  /** Who the proxy's own writes are by (pausing a profile whose day's budget is spent). */
  actor: Actor;
  log: (line: string) => void;
  idleTimeoutMs?: number;
}

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** The provider shape to answer in before the run's profile is known. */
function kindOfPath(rest: string): LlmKind {
  return /(^|\/)messages(\/|\?|$)/.test(rest) ? 'anthropic' : 'openai';
}

export class LlmProxy {
  private readonly limiter = new UpstreamLimiter();
  /** Each run's latest request still being recorded: what it decides holds for the next. */
  private readonly recording = new Map<RunId, Promise<void>>();
  /** Runs this proxy ended for their rate limits, with why: refused while they end. */
  private readonly rateLimited = new Map<RunId, string>();
  /** Each run's refusals of its credentials in a row (KEY_REFUSED_STATUSES). */
  private readonly keyRefusals = new Map<RunId, number>();
  private readonly book: ActivityBook;
  private readonly memory: AdmissionMemory;
  private readonly agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  /** `close` was called: a request cut off now was cut by `serve` stopping, not its upstream. */
  private closing = false;

  constructor(private readonly opts: LlmProxyOptions) {
    this.book = new ActivityBook((run, state) => opts.hooks.activity(run, state));
    this.memory = new AdmissionMemory(() => opts.clock.monotonic(), opts.stillRunning);
  }

  /** Whether `url` is one of the proxy's paths. */
  static owns(url: string | undefined): boolean {
    return url?.startsWith(LLM_PATH) === true;
  }

  /** Answers one request under `/llm/`. Never throws: every failure is an answer. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').slice(LLM_PATH.length);
    const slash = path.indexOf('/');
    const inPath = slash < 0 ? path.split('?')[0] : path.slice(0, slash);
    const header = req.headers[LLM_TOKEN_HEADER];
    const token =
      inPath === LLM_TOKEN_IN_HEADER ? (typeof header === 'string' ? header : '') : inPath;
    const rest = slash < 0 ? '' : path.slice(slash + 1);
    const guess = kindOfPath(rest);
    const hash = hashToken(token ?? '');
    let admission = this.memory.get(hash);
    try {
      if (admission === null) {
        const generation = this.memory.mark();
        admission = await this.opts.store.llmAdmit(hash);
        this.memory.put(hash, admission, generation);
      }
    } catch (err) {
      req.resume();
      if (err instanceof WardenError && err.code === 'stale_run') {
        // An agent that calls again after its budget's refusal gets that refusal again, not
        // a 409 it has no words for.
        const spentRun = (err.details as { outcome?: string } | undefined)?.outcome;
        const answer =
          spentRun === 'budget_exhausted'
            ? budgetRefusal(guess, 'this run was ended for it')
            : staleRefusal(err.message);
        return writeRefusal(res, guess, answer);
      }
      if (err instanceof WardenError && err.code === 'unauthorized')
        return writeRefusal(res, guess, refusal(401, 'authentication_error', err.message, false));
      this.opts.log(`llm proxy: ${(err as Error).stack ?? String(err)}`);
      return writeRefusal(res, guess, refusal(500, 'api_error', 'warden: the store failed', true));
    }
    const { run, profile, use } = admission;
    const spec = profile?.llm ?? null;
    if (spec === null) {
      req.resume();
      return writeRefusal(
        res,
        guess,
        refusal(
          400,
          'invalid_request_error',
          `warden: run ${run.id}'s profile has no model proxy; add one with \`warden profile edit ${run.profile ?? 'NAME'} --llm-upstream URL --llm-kind KIND\``,
          false,
        ),
      );
    }
    // The run's last answer may still be on its way to the store; a run that answer ended for
    // its rate limits gets no more upstream calls while it ends (the agent would spin on).
    const recording = this.recording.get(run.id);
    if (recording !== undefined) await recording;
    const limited = this.rateLimited.get(run.id);
    if (limited !== undefined) {
      req.resume();
      return writeRefusal(
        res,
        spec.kind,
        refusal(429, 'rate_limit_error', `warden: ${limited}; the run is ending`, false),
      );
    }
    const spent = profile === null ? null : spentBudget(profile.budget, use);
    if (spent) {
      req.resume();
      const now = this.opts.clock.now();
      // Asked for first, so the store has the refusal before the run's ending.
      const recorded = this.record(run, spec, {
        model: null,
        status: null,
        started: now,
        queuedMs: 0,
        tap: null,
        error: `refused: budget spent: ${spent.message}`,
      });
      // Decided before the refusal goes out: a worker that exits on reading it ends its run
      // for the budget, not as a crash to be retried into the same refusal.
      await this.end(run, 'budget_exhausted', {
        rule: RunRule.llm_budget,
        message: spent.message,
        extra: { budget: spent.budget },
      });
      writeRefusal(res, spec.kind, budgetRefusal(spec.kind, spent.message));
      await recorded;
      // A day's budget is the profile's, not the task's: no other task of it starts today
      // only to be refused at its first request.
      if (spent.budget === 'max_cost_per_day' && profile !== null && !profile.paused) {
        await this.opts.store
          .setProfilePaused(
            profile.name,
            true,
            `daily cost budget spent: ${spent.message}; raise it with \`warden profile edit ${profile.name} --max-cost-per-day USD\` or wait for the next UTC day, then \`warden profile resume ${profile.name}\``,
            this.opts.actor,
          )
          .catch((err: unknown) => this.opts.log(`llm proxy: ${String(err)}`));
      }
      return;
    }
    await this.forward(req, res, run, spec, rest);
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    run: AdmittedRun,
    spec: LlmSpec,
    rest: string,
  ): Promise<void> {
    const me: ProxiedRun = { id: run.id, mode: run.mode };
    const started = this.opts.clock.now();
    const hungUp = new Promise<void>((resolve) => res.once('close', () => resolve()));
    let phase: LlmState | null = null;
    const moveTo = (to: LlmState | null): void => {
      if (to === phase) return;
      this.book.move(me, phase, to);
      phase = to;
    };
    const slot = this.limiter.acquire(
      spec.upstream,
      spec.max_concurrency,
      () => moveTo('queued'),
      hungUp,
    );
    const release = typeof slot === 'function' ? slot : await slot;
    const queuedMs = this.opts.clock.now() - started;
    if (release === null) {
      moveTo(null);
      return;
    }
    moveTo('waiting');
    const base = baseOf(spec.upstream);
    let settled: Promise<void> | null = null;
    /** Records the request once, however it ends; the record, asked for. */
    const finish = (
      status: number | null,
      tap: UsageTap | null,
      error: string | null,
    ): Promise<void> => {
      if (settled) return settled;
      release();
      moveTo(null);
      if (tap?.hasUsage) this.memory.spent(run.id, tap.tokens, this.cost(tap));
      const recorded = this.record(run, spec, {
        model: tap?.modelName ?? null,
        status,
        started,
        queuedMs,
        tap,
        // Closing the upstream connections cuts open requests ("socket hang up"): their
        // upstream did nothing wrong.
        error: this.closing && error !== null ? CUT_BY_STOP : (error ?? tap?.error ?? null),
      });
      settled = recorded;
      this.recording.set(run.id, recorded);
      void recorded.then(() => {
        if (this.recording.get(run.id) === recorded) this.recording.delete(run.id);
      });
      return recorded;
    };
    const upstream = (base.https ? https : http).request({
      protocol: base.https ? 'https:' : 'http:',
      hostname: base.hostname,
      port: base.port,
      path: pathOf(base, rest),
      ...(base.auth !== undefined ? { auth: base.auth } : {}),
      method: req.method ?? 'GET',
      headers: { ...forwardHeaders(req.headers), host: base.host },
      agent: base.https ? this.agents.https : this.agents.http,
    });
    giveUpWhenIdle(upstream, this.opts.idleTimeoutMs ?? UPSTREAM_IDLE_MS);
    // The answer so far, for an agent that hangs up mid-stream: what streamed was spent.
    let answered: { status: number; tap: UsageTap } | null = null;
    upstream.on('response', (answer) => {
      const status = answer.statusCode ?? 502;
      const tap = new UsageTap(spec.kind, answer.headers['content-type']);
      answered = { status, tap };
      relay(answer, res, tap, {
        headers: forwardHeaders(answer.headers),
        hold: RATE_LIMIT_STATUSES.has(status),
        chunk: () => {
          moveTo('streaming');
          this.book.chunk(me);
        },
        count: (error) => finish(status, tap, error),
      });
    });
    upstream.on('error', (err) => {
      const message = `warden: the model upstream ${base.origin} failed: ${err.message}`;
      const so = answered;
      if (so === null) {
        const timeout = err.message.startsWith('no answer');
        if (!res.headersSent)
          writeRefusal(
            res,
            spec.kind,
            refusal(timeout ? 504 : 502, timeout ? 'timeout_error' : 'api_error', message, true),
          );
        void finish(null, null, message.replace(/^warden: /, ''));
        return;
      }
      // Mid-answer: recorded as far as it came. One being passed on is cut off at once; one
      // held (a "slow down" not yet counted) is counted first.
      so.tap.end();
      const recorded = finish(so.status, so.tap, message.replace(/^warden: /, ''));
      if (res.headersSent) res.destroy();
      else void recorded.then(() => res.destroy());
    });
    res.once('close', () => {
      if (!res.writableFinished) {
        upstream.destroy();
        const so = answered;
        so?.tap.end();
        void finish(
          so?.status ?? null,
          so?.tap ?? null,
          'the agent hung up before the answer was complete',
        );
      }
    });
    req.pipe(upstream);
  }

  /** Records one request and ends the run when its upstream keeps saying "slow down". */
  private async record(
    run: AdmittedRun,
    spec: LlmSpec,
    r: {
      model: string | null;
      status: number | null;
      started: number;
      queuedMs: number;
      tap: UsageTap | null;
      error: string | null;
    },
  ): Promise<void> {
    const tokens = r.tap?.tokens ?? { input: 0, output: 0, cache_read: 0, cache_write: 0 };
    const cost = r.tap === null ? 0 : this.cost(r.tap);
    const rateLimited = r.status !== null && RATE_LIMIT_STATUSES.has(r.status);
    // A refusal other than a "slow down" (a wrong key, an unknown model, a bad request) is a
    // failed request: the agent may retry it for minutes, and the run's state should say why.
    const refused =
      r.status !== null && r.status >= 400 && !rateLimited
        ? `the model upstream answered ${r.status}${r.tap?.upstreamError ? ` (${r.tap.upstreamError})` : ''}`
        : null;
    const error = r.error ?? refused;
    try {
      const totals = await this.opts.store.recordLlmRequest(
        {
          run_id: run.id,
          model: r.model,
          status: r.status,
          started_at: r.started,
          ended_at: this.opts.clock.now(),
          queued_ms: r.queuedMs,
          tokens,
          cost_usd: cost,
          error,
        },
        rateLimited,
      );
      await this.judgeKey(run, r.status, error);
      const max = spec.max_rate_limits ?? DEFAULT_MAX_RATE_LIMITS;
      if (rateLimited && totals.rate_limits > max) {
        const message = `the model upstream answered ${totals.rate_limits} rate limits or overloads (last: ${r.status}; at most ${max}, --llm-max-rate-limits)`;
        // Kept for the few requests that may come while the run ends; the oldest goes first.
        if (this.rateLimited.size >= 1000)
          this.rateLimited.delete(this.rateLimited.keys().next().value ?? 0);
        this.rateLimited.set(run.id, message);
        await this.end(run, 'rate_limited', {
          rule: RunRule.llm_rate_limits,
          message,
          extra: { rate_limits: totals.rate_limits, max_rate_limits: max },
        });
      }
    } catch (err) {
      this.opts.log(`llm proxy: run ${run.id}: ${(err as Error).message}`);
    }
  }

  /**
   * Counts a refusal of the run's credentials; the MAX_KEY_REFUSALS-th in a row ends the run
   * `config_error` (its task is blocked at once, as exit 78 blocks it). Any other answer ends
   * the row.
   */
  private async judgeKey(
    run: AdmittedRun,
    status: number | null,
    error: string | null,
  ): Promise<void> {
    if (status === null || !KEY_REFUSED_STATUSES.has(status)) {
      this.keyRefusals.delete(run.id);
      return;
    }
    const n = (this.keyRefusals.get(run.id) ?? 0) + 1;
    if (this.keyRefusals.size >= 1000 && !this.keyRefusals.has(run.id))
      this.keyRefusals.delete(this.keyRefusals.keys().next().value ?? 0);
    this.keyRefusals.set(run.id, n);
    if (n !== MAX_KEY_REFUSALS) return;
    const last = error?.replace(/^the model upstream answered /, '') ?? String(status);
    await this.end(run, 'config_error', {
      rule: RunRule.llm_key_refused,
      message: `the model upstream refused the run's credentials ${n} times in a row (last: ${last}); fix the key in the profile's environment (\`warden profile show\` names it)`,
    });
  }

  /** Ends a run through the host (`ProxyHooks.end`), once it is decided; a failure is logged. */
  private async end(run: AdmittedRun, outcome: Outcome, reason: RunReason): Promise<void> {
    try {
      await this.opts.hooks.end(run, outcome, reason);
    } catch (err) {
      this.opts.log(`llm proxy: run ${run.id}: ${(err as Error).message}`);
    }
  }

  /** What an answer's tokens cost by the price table; null when its model has no price. */
  private cost(tap: UsageTap): number | null {
    const tokens = tap.tokens;
    if (totalTokens(tokens) === 0) return 0;
    const price = priceFor(this.opts.prices(), tap.modelName);
    return price === null ? null : costOf(tokens, price);
  }

  /** Something changed in the store: admissions are read again (src/proxy/admissions.ts). */
  invalidate(): void {
    this.memory.invalidate();
  }

  /** Lets go of idle upstream connections and the activity beat. */
  close(): void {
    this.closing = true;
    this.book.close();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/** What a request open when `serve` stopped is recorded with. */
const CUT_BY_STOP = 'warden serve stopped while the request was open; the agent may send it again';

function refusal(status: number, type: string, message: string, retry: boolean): ProxyRefusal {
  return { status, anthropic: type, openai: type, message, retry };
}
