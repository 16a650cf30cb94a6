import { afterEach, describe, expect, it } from 'vitest';
import { ProxyHarness } from '../helpers/llm-proxy.js';

/** Holds this process's event loop for `ms`, as a stopped or paused `serve` is held. */
function holdLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-5',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});

/**
 * The model proxy's idle timeout (docs/llm-proxy.md): an upstream that sends nothing for that
 * long is given up, but an answer that came while `serve` itself was held up is not lost to it.
 */
describe('the model proxy: an upstream that sends nothing', () => {
  const h = new ProxyHarness();
  afterEach(() => h.close());

  it('is given up after the idle time: the agent gets a 504 timeout_error, and it is recorded', async () => {
    const silent = await h.serving((req) => {
      req.resume();
    });
    const { store, claim, ask } = await h.proxied(`${silent}/v1`, () => undefined, {
      idleTimeoutMs: 300,
    });

    const answer = await ask();
    expect(answer.status).toBe(504);
    const body = (await answer.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('timeout_error');
    expect(body.error.message).toMatch(/no answer for 0\.3 s/);
    await expect.poll(async () => (await store.listRuns(claim.task.id))[0]?.llm.errors).toBe(1);
  });

  it('records a request cut off by serve stopping as that, not as its upstream failing', async () => {
    let asked = (): void => undefined;
    const reached = new Promise<void>((resolve) => (asked = resolve));
    const silent = await h.serving((req) => {
      req.resume();
      asked();
    });
    const { store, claim, ask, proxy } = await h.proxied(`${silent}/v1`, () => undefined);
    const answer = ask().catch((err: unknown) => err);
    await reached;
    proxy.close();
    await answer;
    await expect.poll(async () => (await store.listRuns(claim.task.id))[0]?.llm.errors).toBe(1);
    const [run] = await store.listRuns(claim.task.id);
    expect(run?.llm.last_error).toBe(
      'warden serve stopped while the request was open; the agent may send it again',
    );
  });

  it('passes on an answer that came while serve was held up past the idle time', async () => {
    // The answer is sent at once, and then the process is held for over three idle times: when
    // it goes on, the proxy's idle timer is overdue and runs before the answer waiting in the
    // socket is read.
    const upstream = await h.serving((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(COMPLETION);
        holdLoop(1_000);
      });
    });
    const { store, claim, ask } = await h.proxied(`${upstream}/v1`, () => undefined, {
      idleTimeoutMs: 300,
    });

    const answer = await ask();
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe(COMPLETION);
    await expect.poll(async () => (await store.listRuns(claim.task.id))[0]?.llm.requests).toBe(1);
    const [run] = await store.listRuns(claim.task.id);
    expect(run?.llm.errors).toBe(0);
  });

  it('still gives up an upstream that goes quiet after an answer so kept', async () => {
    // The headers and a first chunk come while the process is held; then nothing more.
    const upstream = await h.serving((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"partial":\n');
        holdLoop(1_000);
      });
    });
    const { store, claim, ask } = await h.proxied(`${upstream}/v1`, () => undefined, {
      idleTimeoutMs: 300,
    });

    const answer = await ask();
    expect(answer.status).toBe(200);
    await expect(answer.text()).rejects.toThrow();
    await expect.poll(async () => (await store.listRuns(claim.task.id))[0]?.llm.errors).toBe(1);
    const [run] = await store.listRuns(claim.task.id);
    expect(run?.llm.last_error).toMatch(/no answer for 0\.3 s/);
  });
});
