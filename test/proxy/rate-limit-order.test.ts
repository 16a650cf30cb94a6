import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatcher, person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Outcome } from '../../src/core/status.js';
import { LlmProxy } from '../../src/proxy/proxy.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';
import { startOpenAIStandin } from '../helpers/openai-standin.js';
import type { OpenAIStandin } from '../helpers/openai-standin.js';

/**
 * The order of a rate-limit ending (issue #13): the run is ended for its limits before its
 * agent can read the answer that made them one too many. An agent that quits on that answer
 * must find its run already ending `rate_limited`, not be judged a crash and retried.
 */
describe('the model proxy: an upstream 429', () => {
  const closing: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  it('is passed to the agent only after it is counted and the run is ended for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-proxy-'));
    const clock = new ManualClock();
    const store = await openSqliteStore(join(dir, 'warden.db'), clock, { create: true });
    closing.push(() => rmSync(dir, { recursive: true, force: true }));
    closing.push(() => store.close());
    const upstream: OpenAIStandin = await startOpenAIStandin();
    closing.push(() => upstream.close());
    upstream.always = { kind: 'status', status: 429, retryAfter: 0 };

    const ana = person('ana');
    await store.addBoard('default', ana);
    const llm = { upstream: upstream.url, kind: 'openai' as const, max_concurrency: null };
    await store.addProfile('p', { argv: ['true'], llm: { ...llm, max_rate_limits: 1 } }, ana);
    await store.createTask({ title: 't', assignee: 'p' }, ana);
    const [claim] = await store.claimRuns(
      { host: 'h1', maxWorkers: 1, limit: 1, mode: 'spawned' },
      '/ws',
    );
    if (!claim) throw new Error('nothing claimed');

    // The second request's record, the one that ends the run, is held until the agent has its
    // answer or a second has passed without it: an answer passed on before it is counted
    // arrives while held.
    let answered = false;
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
      setTimeout(resolve, 1000);
    });
    let records = 0;
    const gated = new Proxy(store, {
      get(target, key) {
        if (key === 'recordLlmRequest') {
          return async (...args: Parameters<Store['recordLlmRequest']>) => {
            if (++records === 2) await held;
            return target.recordLlmRequest(...args);
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const ends: { outcome: Outcome; answered: boolean }[] = [];
    const proxy = new LlmProxy({
      store: gated,
      clock,
      prices: () => ({}),
      hooks: {
        activity: () => undefined,
        end: (_run, outcome) => ends.push({ outcome, answered }),
      },
      stillRunning: () => true,
      actor: dispatcher('h1'),
      log: () => undefined,
    });
    closing.push(() => proxy.close());
    const server: Server = createServer((req, res) => void proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closing.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const ask = (): Promise<Response> =>
      fetch(`http://127.0.0.1:${port}/llm/${claim.token}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
      });
    // One 429 is within max_rate_limits 1: counted, passed on, and the run goes on.
    expect((await ask()).status).toBe(429);
    expect(ends).toEqual([]);
    const answer = await ask();
    answered = true;
    release();
    const body = (await answer.json()) as { error?: { type?: string } };

    expect(answer.status).toBe(429);
    // The upstream's own answer, whole.
    expect(body.error?.type).toBe('requests');
    expect(answer.headers.get('retry-after')).toBe('0');
    expect(ends).toEqual([{ outcome: 'rate_limited', answered: false }]);
    expect(upstream.seen.map((s) => s.status)).toEqual([429, 429]);
    const [run] = await store.listRuns(claim.task.id);
    expect(run?.llm.rate_limits).toBe(2);
  });
});
