/**
 * The model-activity proxy end to end (issue #13): real workers running the official `openai`
 * and `@anthropic-ai/sdk` clients (test/fixtures/llm-*.mjs) under a real `serve`, whose model
 * traffic goes through `serve`'s proxy (the SDKs read OPENAI_BASE_URL / ANTHROPIC_BASE_URL,
 * which `serve` points at the run's own path) to local stand-ins of the two APIs
 * (test/helpers/*-standin.ts) that stream with a model's pacing, report usage, and answer
 * errors, 429s and overloads as the real ones do. No network.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { costOf, totalTokens } from '../../src/core/llm.js';
import type { Price, TokenUsage } from '../../src/core/llm.js';
import type { WardenEvent } from '../../src/core/events.js';
import type { Run } from '../../src/core/run.js';
import type { Task } from '../../src/core/task.js';
import { startAnthropicStandin } from '../helpers/anthropic-standin.js';
import type { AnthropicStandinOptions } from '../helpers/anthropic-standin.js';
import { expectError } from '../helpers/cli.js';
import { FIXTURES, TestHome, fixture, waitFor } from '../helpers/host.js';
import { startOpenAIStandin } from '../helpers/openai-standin.js';
import type { OpenAIStandinOptions } from '../helpers/openai-standin.js';
import type { SeenRequest, StandinBase } from '../helpers/standin-http.js';

let home: TestHome | undefined;
const standins: StandinBase[] = [];

afterEach(async () => {
  await home?.cleanup();
  home = undefined;
  for (const s of standins.splice(0)) await s.close();
});

async function newHome(): Promise<TestHome> {
  home = await new TestHome().init();
  return home;
}

async function anthropic(options: AnthropicStandinOptions = {}): Promise<StandinBase> {
  const s = await startAnthropicStandin([], '', options);
  standins.push(s);
  return s;
}

async function openai(options: OpenAIStandinOptions = {}): Promise<StandinBase> {
  const s = await startOpenAIStandin(options);
  standins.push(s);
  return s;
}

type Kind = 'openai' | 'anthropic';

/**
 * A profile whose worker is the SDK fixture of `kind`, its traffic proxied to `upstream`;
 * `env` is the fixture's settings (LLM_REQUESTS, ...), `options` more profile options.
 */
async function llmProfile(
  h: TestHome,
  name: string,
  kind: Kind,
  upstream: string,
  env: Record<string, string> = {},
  options: readonly string[] = [],
): Promise<void> {
  await h.profile(
    name,
    [process.execPath, join(FIXTURES, `llm-${kind}.mjs`)],
    [
      '--llm-upstream',
      upstream,
      '--llm-kind',
      kind,
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...options,
    ],
  );
}

/** The task as `warden show ID --json` prints it, runs included. */
async function shown(h: TestHome, id: number): Promise<Task & { runs: Run[] }> {
  return JSON.parse(await h.ok(['show', String(id), '--json'])) as Task & { runs: Run[] };
}

function logOf(run: Run | undefined): string {
  const path = run?.log_path;
  return path && existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** The usage the worker's SDK saw, from the summary the fixture completed with. */
function sdkUsage(task: Task): TokenUsage {
  const json = /usage (\{.*\})/.exec(task.result?.summary ?? '')?.[1];
  return JSON.parse(json ?? 'null') as TokenUsage;
}

const durationMs = (r: SeenRequest): number => Number((r.finished ?? r.arrived) - r.arrived) / 1e6;

/**
 * The stall warnings of a task whose silence (the `silent_ms` before the warning) took in a
 * time when one of its model requests was open, queued included: the proxy's record of each
 * request, on the same clock as the events. Silence before a worker's first request (its
 * start, loading its SDK) or after its last (running `warden worker complete`) is real
 * silence, and on a busy machine may outlast a short `--stall-warn-after`. A quarter second at
 * each end of a request allows for a look judged just before the request and written after.
 */
async function warningsDuringTraffic(h: TestHome, taskId: number): Promise<WardenEvent[]> {
  const store = await h.store();
  const open = await store.sqlite.all<{ started_at: number; ended_at: number }>(
    'SELECT started_at, ended_at FROM llm_requests WHERE task_id = ?',
    [taskId],
  );
  expect(open.length).toBeGreaterThan(0);
  return (await h.events(taskId)).filter((e) => {
    if (e.kind !== 'stall_warning') return false;
    const silentFrom = e.at - Number(e.payload['silent_ms']);
    return open.some((r) => silentFrom < r.ended_at - 250 && e.at > r.started_at + 250);
  });
}

/** The proxy's record of each request of a run: the upstream's status and the error. */
async function requestRows(
  h: TestHome,
  runId: number,
): Promise<{ status: number | null; error: string | null }[]> {
  const store = await h.store();
  return store.sqlite.all('SELECT status, error FROM llm_requests WHERE run_id = ? ORDER BY id', [
    runId,
  ]);
}

/** A port of 127.0.0.1 nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the model proxy: progress from the model traffic', () => {
  it('a worker silent on its output while its model streams gets no stall warning', async () => {
    const h = await newHome();
    // 10 pieces 100 ms apart: each answer streams for well over a second.
    const pacing = { chunks: 10, chunkDelayMs: 100 };
    const claude = await anthropic(pacing);
    const gpt = await openai(pacing);
    const stall = ['--stall-warn-after', '1s', '--stall-timeout', '30s'];
    // One line once its SDK is loaded (which takes a while on a busy machine), then silence.
    const ready = { LLM_SAY_READY: '1', LLM_REQUESTS: '2' };
    await llmProfile(h, 'claude', 'anthropic', claude.url, ready, stall);
    await llmProfile(h, 'gpt', 'openai', gpt.url, { ...ready, LLM_API: 'chat,responses' }, stall);
    // The control: as long a silence with no model traffic is warned of.
    await h.profile('quiet', fixture('silent-then-complete.sh', '3'), stall);
    const streaming = [
      await h.task('think with claude', ['--assignee', 'claude']),
      await h.task('think with gpt', ['--assignee', 'gpt']),
    ];
    const control = await h.task('think alone', ['--assignee', 'quiet']);
    await h.serve();

    for (const id of [...streaming, control]) await h.waitStatus(id, 'done', 30_000);
    for (const s of [claude, gpt]) {
      expect(s.seen.map((r) => r.status)).toEqual([200, 200]);
      for (const r of s.seen) expect(durationMs(r)).toBeGreaterThan(1000);
    }
    for (const id of streaming) {
      const [run] = await h.runs(id);
      expect(run?.outcome).toBe('completed');
      expect((run?.ended_at ?? 0) - (run?.started_at ?? 0)).toBeGreaterThan(2000);
      // Nothing in its log but its ready line and what `warden worker complete` printed.
      expect(logOf(run)).not.toMatch(/llm-fixture/);
      expect(logOf(run)).toContain('sdk loaded\n');
    }
    for (const id of streaming) expect(await warningsDuringTraffic(h, id)).toEqual([]);
    expect((await h.events(control)).map((e) => e.kind)).toContain('stall_warning');
  }, 45_000);
});

describe('the model proxy: tokens and cost', () => {
  it('records exactly the usage the upstream reported, per run and per task, for both SDKs', async () => {
    const h = await newHome();
    const prices: Record<string, Price> = {
      'claude-standin': { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
      'gpt-*': { input: 2, output: 8, cache_read: 0.5 },
    };
    writeFileSync(join(h.root, 'config.json'), JSON.stringify({ llm_prices: prices }));
    const cases: {
      name: string;
      kind: Kind;
      env: Record<string, string>;
      standin: StandinBase;
      price: Price | undefined;
    }[] = [
      {
        name: 'gpt-stream',
        kind: 'openai',
        // Chat completions with the usage chunk, and the Responses API, streamed by turns.
        env: { LLM_API: 'chat,responses', LLM_REQUESTS: '4', LLM_PARALLEL: '2' },
        standin: await openai({
          chunks: 4,
          usage: (n) => ({
            prompt: 1000 + 111 * n,
            completion: 50 + 7 * n,
            cached: 100 * n,
            reasoning: n,
          }),
        }),
        price: prices['gpt-*'],
      },
      {
        name: 'gpt-plain',
        kind: 'openai',
        env: { LLM_API: 'chat,responses', LLM_REQUESTS: '2', LLM_STREAM: '0' },
        standin: await openai({
          usage: (n) => ({ prompt: 2000 + n, completion: 20 + n, cached: 1500 }),
        }),
        price: prices['gpt-*'],
      },
      {
        name: 'claude-stream',
        kind: 'anthropic',
        env: { LLM_REQUESTS: '3' },
        standin: await anthropic({
          chunks: 4,
          usage: (n) => ({
            input: 30 + n,
            output: 400 + 10 * n,
            cacheRead: 3000 + n,
            cacheWrite: 1200 * (n % 2),
          }),
        }),
        price: prices['claude-standin'],
      },
      {
        name: 'claude-plain',
        kind: 'anthropic',
        env: { LLM_REQUESTS: '1', LLM_STREAM: '0' },
        standin: await anthropic({
          usage: { input: 70, output: 9, cacheRead: 0, cacheWrite: 512 },
        }),
        price: prices['claude-standin'],
      },
    ];
    const ids: number[] = [];
    for (const c of cases) {
      await llmProfile(h, c.name, c.kind, c.standin.url, c.env);
      ids.push(await h.task(`count ${c.name}`, ['--assignee', c.name]));
    }
    await h.serve();

    for (const [i, c] of cases.entries()) {
      const id = ids[i] ?? 0;
      await h.waitStatus(id, 'done', 30_000);
      const usage = c.standin.usage();
      const requests = Number(c.env.LLM_REQUESTS);
      expect(c.standin.seen.map((r) => [r.status, r.apiKey])).toEqual(
        Array.from({ length: requests }, () => [200, true]),
      );
      expect(usage.input, c.name).toBeGreaterThan(0);
      const task = await shown(h, id);
      // The SDK saw the upstream's figures through the proxy, unchanged.
      expect(sdkUsage(task), c.name).toEqual(usage);
      const [run] = task.runs;
      expect(run?.llm.tokens, c.name).toEqual(usage);
      expect(run?.llm.requests, c.name).toBe(requests);
      expect(run?.llm.unpriced, c.name).toBe(0);
      expect(run?.llm.cost_usd, c.name).toBeCloseTo(costOf(usage, c.price as Price), 9);
      expect(task.llm, c.name).toMatchObject({ requests, tokens: totalTokens(usage), unpriced: 0 });
      expect(task.llm.cost_usd, c.name).toBeCloseTo(costOf(usage, c.price as Price), 9);
      // `warden runs` says the same.
      const runs = JSON.parse(await h.ok(['runs', String(id), '--json'])) as Run[];
      expect(runs[0]?.llm.tokens, c.name).toEqual(usage);
    }
  }, 45_000);
});

describe('the model proxy: budgets', () => {
  it('a spent token budget blocks the task with the figures; the next request gets the provider’s error; raising it resumes', async () => {
    const h = await newHome();
    // 510k tokens a request: two reach 1.02M, past a budget of 1M.
    const claude = await anthropic({
      usage: { input: 100_000, output: 10_000, cacheRead: 300_000, cacheWrite: 100_000 },
    });
    const gpt = await openai({ usage: { prompt: 500_000, completion: 10_000, cached: 200_000 } });
    // The SDKs may retry; the refusal says they must not.
    const env = { LLM_REQUESTS: '3', LLM_MAX_RETRIES: '2' };
    const budget = ['--max-tokens-per-task', '1M'];
    await llmProfile(h, 'claude', 'anthropic', claude.url, env, budget);
    await llmProfile(h, 'gpt', 'openai', gpt.url, env, budget);
    const ids = {
      anthropic: await h.task('spend with claude', ['--assignee', 'claude']),
      openai: await h.task('spend with gpt', ['--assignee', 'gpt']),
    };
    await h.serve();

    const refusals = {
      anthropic:
        /status=400 type=invalid_request_error name=BadRequestError should_retry=false message=400 .*warden: budget spent: 1\.02M tokens of 1M/,
      openai:
        /status=429 type=insufficient_quota name=RateLimitError should_retry=false message=429 warden: budget spent: 1\.02M tokens of 1M/,
    };
    for (const kind of ['anthropic', 'openai'] as const) {
      const id = ids[kind];
      const blocked = await h.waitStatus(id, 'blocked', 30_000);
      // Issue #14 types the block: a spent budget is its own kind.
      expect(blocked.block_kind).toBe('budget');
      expect(blocked.block_reason).toContain(
        '1.02M tokens of 1M for this task (max_tokens_per_task)',
      );
      const standin = kind === 'anthropic' ? claude : gpt;
      // The third request never reached the upstream.
      expect(standin.seen).toHaveLength(2);
      const task = await shown(h, id);
      const [run] = task.runs;
      expect(run?.outcome).toBe('budget_exhausted');
      expect(run?.llm.tokens).toEqual(standin.usage());
      expect(task.llm.tokens).toBe(1_020_000);
      // What the worker's SDK got: the provider's own error, not to be retried.
      expect(logOf(run)).toMatch(refusals[kind]);
    }

    // Raised, and unblocked: the task goes on where it was, its tokens kept.
    await h.ok(['profile', 'edit', 'claude', '--max-tokens-per-task', '5M']);
    await h.ok(['unblock', String(ids.anthropic)]);
    await h.waitStatus(ids.anthropic, 'done', 30_000);
    const task = await shown(h, ids.anthropic);
    expect(task.runs.map((r) => r.outcome)).toEqual(['budget_exhausted', 'completed']);
    expect(claude.seen).toHaveLength(5);
    expect(task.llm.tokens).toBe(5 * 510_000);
  }, 50_000);
});

describe('the model proxy: the upstream’s limits', () => {
  it('with --llm-max-concurrency 2 the upstream never sees a third request in flight; every request completes; time queued is no stall', async () => {
    const h = await newHome();
    // Four seconds a request: six, two at a time, keep the last ones queued for eight, over
    // twice the warning's threshold, if the three workers ask at once; a loaded machine that
    // starts them up to five seconds apart still queues one past it. The threshold leaves such a
    // machine time to start them (each loads the OpenAI SDK before its first request, silent
    // until then).
    const gpt = await openai({ chunks: 8, chunkDelayMs: 500 });
    await llmProfile(
      h,
      'gpt',
      'openai',
      gpt.url,
      { LLM_API: 'chat,responses', LLM_REQUESTS: '2', LLM_PARALLEL: '2' },
      ['--llm-max-concurrency', '2', '--stall-warn-after', '3s', '--stall-timeout', '30s'],
    );
    const ids = [
      await h.task('one', ['--assignee', 'gpt']),
      await h.task('two', ['--assignee', 'gpt']),
      await h.task('three', ['--assignee', 'gpt']),
    ];
    await h.serve();
    for (const id of ids) await h.waitStatus(id, 'done', 60_000);
    expect(gpt.seen.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(gpt.maxInFlight).toBe(2);
    for (const id of ids) {
      expect((await shown(h, id)).llm.requests).toBe(2);
      expect(await warningsDuringTraffic(h, id)).toEqual([]);
    }
    const queued = await (
      await h.store()
    ).sqlite.all<{ queued_ms: number }>('SELECT queued_ms FROM llm_requests');
    // Queued longer than the warning's threshold, and still no warning.
    expect(Math.max(...queued.map((q) => q.queued_ms))).toBeGreaterThan(3000);
  }, 90_000);

  it('upstream 429s and overloads past --llm-max-rate-limits end the run rate_limited', async () => {
    const h = await newHome();
    const gpt = await openai();
    gpt.always = { kind: 'status', status: 429, retryAfter: 0 };
    const claude = await anthropic();
    claude.always = { kind: 'status', status: 529 };
    // The SDKs retry on their own, with their own backoff: warden ends the spin at 2.
    const env = { LLM_MAX_RETRIES: '10' };
    // One rate-limited run blocks the task (rate_limit_loop), so no next attempt starts.
    const options = ['--llm-max-rate-limits', '2', '--max-rate-limited', '1'];
    await llmProfile(h, 'gpt', 'openai', gpt.url, env, options);
    await llmProfile(h, 'claude', 'anthropic', claude.url, env, options);
    const ids = [
      await h.task('limited gpt', ['--assignee', 'gpt']),
      await h.task('overloaded claude', ['--assignee', 'claude']),
    ];
    await h.serve();
    for (const id of ids) {
      await h.waitStatus(id, 'blocked', 30_000);
      const [run, ...more] = await h.runs(id);
      expect(more).toEqual([]);
      expect(run?.outcome).toBe('rate_limited');
      expect(run?.llm.rate_limits).toBe(3);
      // The limit is named by the option that sets it.
      expect(run?.reason?.message).toMatch(
        /rate limits or overloads \(last: (429|529); at most 2, --llm-max-rate-limits\)/,
      );
    }
    for (const s of [gpt, claude]) expect(s.seen.length).toBeGreaterThanOrEqual(3);
  }, 40_000);

  it('a key the upstream refuses three times in a row ends the run config_error at once, not after the agent’s retries', async () => {
    const h = await newHome();
    const claude = await anthropic();
    claude.always = { kind: 'status', status: 401 };
    // An agent that tries again by itself (Claude Code: ten times, over minutes).
    await llmProfile(h, 'claude', 'anthropic', claude.url, {
      LLM_REQUESTS: '20',
      LLM_KEEP_GOING: '1',
      LLM_HOLD: '1',
    });
    const id = await h.task('with a bad key', ['--assignee', 'claude']);
    await h.serve();
    await h.waitStatus(id, 'blocked', 30_000);
    const [run, ...more] = await h.runs(id);
    expect(more).toEqual([]);
    expect(run?.outcome).toBe('config_error');
    expect(run?.reason?.rule).toBe('llm_key_refused');
    expect(run?.reason?.message).toMatch(
      /^the model upstream refused the run's credentials 3 times in a row \(last: 401.*\); fix the key in the profile's environment/,
    );
    expect(claude.seen.length).toBeLessThan(20);
  }, 40_000);
});

describe('the model proxy: fencing', () => {
  it('a superseded run’s proxy path gets 409 stale_run; the current run’s is forwarded', async () => {
    const h = await newHome();
    const claude = await anthropic();
    const urlFile = join(h.root, 'llm-url');
    await llmProfile(h, 'claude', 'anthropic', claude.url, {
      LLM_URL_FILE: urlFile,
      LLM_HOLD: '1',
    });
    const id = await h.task('hold', ['--assignee', 'claude']);
    await h.serve();
    const urlOf = (attempt: number): Promise<string> =>
      waitFor(`attempt ${attempt}'s WARDEN_LLM_URL`, () =>
        existsSync(`${urlFile}-${attempt}`)
          ? readFileSync(`${urlFile}-${attempt}`, 'utf8')
          : undefined,
      );
    const first = await urlOf(1);
    // The fixture writes its URL before it asks: stopped in between (a busy machine), the first
    // attempt would never ask at all.
    await waitFor('the first attempt’s request', () =>
      claude.seen.some((r) => r.status === 200) ? true : undefined,
    );
    await h.ok(['stop', String(id), '--requeue']);
    const second = await urlOf(2);
    expect(second).not.toBe(first);

    // Claude Code asks `/v1/messages?beta=true`: the query goes along.
    const ask = (base: string): Promise<Response> =>
      fetch(`${base}/v1/messages?beta=true`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'test-key',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({
          model: 'claude-standin',
          max_tokens: 16,
          messages: [{ role: 'user', content: 'hello' }],
        }),
      });
    const stale = await ask(first);
    expect(stale.status).toBe(409);
    expect(stale.headers.get('x-should-retry')).toBe('false');
    expect(await stale.json()).toMatchObject({ type: 'error', error: { type: 'stale_run' } });
    const current = await ask(second);
    expect(current.status).toBe(200);
    expect(await current.json()).toMatchObject({ type: 'message', content: [{ text: 'OK' }] });
    // The upstream answered the two attempts' own requests and this one; the 409 never left.
    await waitFor('both attempts’ requests', () =>
      claude.seen.filter((r) => r.status === 200).length === 3 ? true : undefined,
    );
    expect(claude.seen).toHaveLength(3);
    expect(claude.seen.map((r) => r.search)).toContain('?beta=true');

    // A person's block ends the current run: its path is refused at once, though its last
    // request was admitted a moment ago (the proxy remembers admissions only while nothing
    // changed).
    await h.ok(['block', String(id), '--reason', 'enough']);
    const blocked = await ask(second);
    expect(blocked.status).toBe(409);
    expect(claude.seen).toHaveLength(3);
  }, 40_000);
});

describe('the model proxy: bad input', () => {
  it('profile add refuses a bad upstream, kind or budget with one line and stores nothing', async () => {
    const h = await newHome();
    const cmd = ['--', process.execPath, join(FIXTURES, 'llm-openai.mjs')];
    const upstream = ['--llm-upstream', 'http://127.0.0.1:9/v1'];
    const cases: [string[], RegExp][] = [
      [
        ['--llm-upstream', 'ftp://x', '--llm-kind', 'openai'],
        /--llm-upstream: 'ftp:\/\/x' is not an http/,
      ],
      [
        [...upstream, '--llm-kind', 'foo'],
        /--llm-kind: 'foo' is not a kind; use openai or anthropic/,
      ],
      [
        [...upstream, '--llm-kind', 'openai', '--max-cost-per-task', '0'],
        /--max-cost-per-task: '0' is not a budget/,
      ],
      [
        [...upstream, '--llm-kind', 'openai', '--max-tokens-per-task', '-5'],
        /--max-tokens-per-task: '-5' is not a token count/,
      ],
    ];
    for (const [options, message] of cases) {
      const r = await h.cli(['profile', 'add', 'bad', ...options, ...cmd]);
      expectError(r, 2, message, options.join(' '));
    }
    expect(JSON.parse(await h.ok(['profile', 'list', '--json']))).toEqual([]);
  });

  it('an upstream that is down or answers garbage fails the run with the error recorded; the board keeps working', async () => {
    const h = await newHome();
    const garbage = await openai();
    garbage.always = { kind: 'garbage' };
    const once = ['--max-failures', '1'];
    await llmProfile(h, 'down', 'anthropic', `http://127.0.0.1:${await closedPort()}`, {}, once);
    await llmProfile(h, 'garbage', 'openai', garbage.url, { LLM_STREAM: '0' }, once);
    await h.profile('plain', fixture('short-job.sh'));
    const down = await h.task('upstream down', ['--assignee', 'down']);
    const junk = await h.task('upstream garbage', ['--assignee', 'garbage']);
    const serve = await h.serve();

    await h.waitStatus(down, 'blocked', 30_000);
    const [downRun] = await h.runs(down);
    expect(downRun?.outcome).toBe('crashed');
    // The worker's SDK got a gateway error in Anthropic's shape.
    expect(logOf(downRun)).toMatch(/llm-fixture: error status=50[234] type=(?!-)\S+ /);
    expect(downRun?.llm.requests).toBe(1);
    expect(await requestRows(h, downRun?.id ?? 0)).toEqual([
      { status: null, error: expect.stringMatching(/ECONNREFUSED/) as string },
    ]);

    await h.waitStatus(junk, 'blocked', 30_000);
    const [junkRun] = await h.runs(junk);
    expect(junkRun?.outcome).toBe('crashed');
    expect(logOf(junkRun)).toMatch(/llm-fixture: error /);
    expect(garbage.seen).toHaveLength(1);
    // Passed on as it came (a 200), and recorded as an answer that was not the API's.
    expect(await requestRows(h, junkRun?.id ?? 0)).toEqual([
      { status: 200, error: expect.any(String) as string },
    ]);

    // A refusal other than a rate limit (a wrong key) is a failed request, with its error.
    const refusing = await anthropic();
    refusing.always = { kind: 'status', status: 401 };
    await llmProfile(h, 'badkey', 'anthropic', refusing.url, {}, once);
    const badKey = await h.task('wrong key', ['--assignee', 'badkey']);
    await h.waitStatus(badKey, 'blocked', 30_000);
    const [badRun] = await h.runs(badKey);
    const said = 'the model upstream answered 401 (authentication_error: invalid x-api-key)';
    expect(badRun?.llm).toMatchObject({ errors: 1, last_error: said });
    expect(await requestRows(h, badRun?.id ?? 0)).toEqual([{ status: 401, error: said }]);

    // The board goes on: serve is up, and another task runs to done.
    const next = await h.task('still working', ['--assignee', 'plain']);
    await h.waitStatus(next, 'done', 20_000);
    expect(serve.proc.exitCode).toBeNull();
    expect(JSON.parse(await h.ok(['list', '--json']))).toHaveLength(4);
  }, 40_000);
});
