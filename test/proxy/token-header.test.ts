import { afterEach, describe, expect, it } from 'vitest';
import { LLM_TOKEN_HEADER } from '../../src/core/llm.js';
import { ProxyHarness } from '../helpers/llm-proxy.js';

/**
 * A run's token in a header (`/llm/-/...`), for an agent whose base URL would put it on its
 * command line (Codex's provider settings, docs/llm-proxy.md): the request is the run's, as
 * with the token in the path, and the header never reaches the upstream.
 */
describe('the model proxy: the run token in a header', () => {
  const h = new ProxyHarness();
  afterEach(() => h.close());

  it("admits the run the header names, forwards to the upstream's path without the header, and refuses a missing or unknown token", async () => {
    const seen: { url: string | undefined; headers: Record<string, unknown> }[] = [];
    const upstream = await h.serving((req, res) => {
      seen.push({ url: req.url, headers: { ...req.headers } });
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'r1',
          object: 'chat.completion',
          model: 'gpt-5',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }],
          usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
        }),
      );
    });
    const { store, claim, origin } = await h.proxied(`${upstream}/v1`, () => undefined);
    const post = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${origin}/llm/-/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-u', ...headers },
        body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
      });

    const ok = await post({ [LLM_TOKEN_HEADER]: claim.token });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: 'r1' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url).toBe('/v1/chat/completions');
    expect(seen[0]?.headers).toMatchObject({ authorization: 'Bearer sk-u' });
    expect(seen[0]?.headers).not.toHaveProperty(LLM_TOKEN_HEADER);
    expect((await store.getRun(claim.run.id)).llm).toMatchObject({ requests: 1 });

    const refusals: Record<string, string>[] = [{}, { [LLM_TOKEN_HEADER]: 'wrun_unknown' }];
    for (const headers of refusals) {
      const refused = await post(headers);
      expect(refused.status).toBe(401);
    }
    expect(seen).toHaveLength(1);
  });
});
