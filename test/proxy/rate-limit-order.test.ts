import type { RequestListener } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/core/status.js';
import { HOLD_MAX_BYTES } from '../../src/proxy/relay.js';
import type { ProxyHooks } from '../../src/proxy/proxy.js';
import { ProxyHarness } from '../helpers/llm-proxy.js';
import { startOpenAIStandin } from '../helpers/openai-standin.js';

/**
 * The order of a rate-limit ending (issue #13): the run is ended for its limits before its
 * agent can read the answer that made them one too many. An agent that quits on that answer
 * must find its run already ending `rate_limited`, not be judged a crash and retried.
 */
describe('the model proxy: an upstream "slow down"', () => {
  const h = new ProxyHarness();
  afterEach(() => h.close());
  const serving = (handler: RequestListener): Promise<string> => h.serving(handler);
  const proxied = (
    upstream: string,
    end: ProxyHooks['end'],
    beforeRecord?: () => Promise<void>,
  ): ReturnType<ProxyHarness['proxied']> => h.proxied(upstream, end, { beforeRecord });

  it('is passed to the agent only after it is counted and the run’s ending is decided', async () => {
    const upstream = await startOpenAIStandin();
    h.defer(() => upstream.close());
    upstream.always = { kind: 'status', status: 429, retryAfter: 0 };
    // The host's ending (a pull run's fence is a store write) is held until the agent has its
    // answer or a second has passed without it: an answer passed on before the ending is
    // decided arrives while it is held.
    let answered = false;
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
      setTimeout(resolve, 1000);
    });
    const ends: { outcome: Outcome; asked: boolean; decided: boolean }[] = [];
    const { store, claim, ask } = await proxied(upstream.url, async (_run, outcome) => {
      const ending = { outcome, asked: !answered, decided: false };
      ends.push(ending);
      await held;
      ending.decided = !answered;
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
    // Asked for, and decided, before the agent had the answer.
    expect(ends).toEqual([{ outcome: 'rate_limited', asked: true, decided: true }]);
    expect(upstream.seen.map((s) => s.status)).toEqual([429, 429]);
    const [run] = await store.listRuns(claim.task.id);
    expect(run?.llm.rate_limits).toBe(2);
  });

  it('streams one too long to be a rate limit’s answer (a gateway’s page) as it comes, and counts it', async () => {
    // A 503 whose page is twice what the proxy holds back.
    const page = Buffer.alloc(HOLD_MAX_BYTES * 2, 'x');
    const gateway = await serving((req, res) => {
      req.resume();
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end(page);
    });
    const ends: Outcome[] = [];
    const { store, claim, ask } = await proxied(`${gateway}/v1`, (_run, outcome) => {
      ends.push(outcome);
    });

    const answer = await ask();
    expect(answer.status).toBe(503);
    expect((await answer.arrayBuffer()).byteLength).toBe(page.length);
    // Counted once it ended: the first of max_rate_limits 1, so the run goes on.
    await expect
      .poll(async () => (await store.listRuns(claim.task.id))[0]?.llm.rate_limits)
      .toBe(1);
    expect(ends).toEqual([]);
  });

  /** An upstream that answers `status`, sends one chunk and then drops its connection. */
  async function breaksOff(status: number): Promise<string> {
    const upstream = await serving((req, res) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'text/event-stream' });
      res.write('data: {"partial":\n', () => setTimeout(() => res.socket?.destroy(), 50));
    });
    return `${upstream}/v1`;
  }

  it('cuts the agent off when a streamed answer breaks off, and records how far it came', async () => {
    const { store, claim, ask } = await proxied(await breaksOff(200), () => undefined);

    const answer = await ask();
    // The headers and the first chunk came through as they arrived; then the cut.
    expect(answer.status).toBe(200);
    await expect(answer.text()).rejects.toThrow();
    await expect.poll(async () => (await store.listRuns(claim.task.id))[0]?.llm.errors).toBe(1);
    const [run] = await store.listRuns(claim.task.id);
    expect(run?.llm.requests).toBe(1);
    expect(run?.llm.rate_limits).toBe(0);
    expect(run?.llm.last_error).toMatch(/^the upstream's answer broke off/);
  });

  it('counts a held "slow down" that breaks off before cutting the agent off', async () => {
    // The record is held until the agent's request has failed or a second has passed: a cut
    // made before the count happens while it is held.
    let cut = false;
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
      setTimeout(resolve, 1000);
    });
    let recordedBeforeCut: boolean | null = null;
    const { store, claim, ask } = await proxied(
      await breaksOff(429),
      () => undefined,
      async () => {
        await held;
        recordedBeforeCut = !cut;
      },
    );
    // Nothing of a held answer is passed on before the cut, so the agent's request fails whole.
    const failed = await ask().then(
      () => null,
      (err: unknown) => err,
    );
    cut = true;
    release();

    expect(failed).toBeInstanceOf(Error);
    expect(recordedBeforeCut).toBe(true);
    await expect
      .poll(async () => (await store.listRuns(claim.task.id))[0]?.llm.rate_limits)
      .toBe(1);
    const [run] = await store.listRuns(claim.task.id);
    expect(run?.llm.last_error).toMatch(/^the upstream's answer broke off/);
  });
});
