import { afterEach, describe, expect, it } from 'vitest';
import { dispatcher } from '../../src/core/actor.js';
import type { Outcome } from '../../src/core/status.js';
import { ProxyHarness } from '../helpers/llm-proxy.js';

/**
 * A request of a run that is ending or ended (docs/llm-proxy.md): refused without reaching the
 * upstream. One ended for its budget gets the budget's refusal again, which agents print and
 * stop on (Claude Code called once more after it and was answered 409 `stale_run`); any other
 * gets `stale_run`.
 */
describe('the model proxy: a run that is no longer current', () => {
  const h = new ProxyHarness();
  afterEach(() => h.close());

  async function refusedAfter(outcome: Outcome): Promise<{ status: number; body: unknown }> {
    let reached = 0;
    const upstream = await h.serving((req, res) => {
      reached += 1;
      req.resume();
      res.writeHead(500).end();
    });
    const { store, claim, ask } = await h.proxied(`${upstream}/v1`, () => undefined);
    const reason = { rule: 'llm_budget', message: 'tokens 2M of 2M' } as const;
    expect(await store.beginEnding(claim.run.id, outcome, reason, dispatcher('h1'))).toBe(true);
    const answer = await ask();
    expect(reached).toBe(0);
    return { status: answer.status, body: await answer.json() };
  }

  it("answers a run ended for its budget with the budget's refusal", async () => {
    expect(await refusedAfter('budget_exhausted')).toMatchObject({
      status: 429,
      body: {
        error: {
          code: 'insufficient_quota',
          message: expect.stringMatching(
            /^warden: budget spent: this run was ended for it; /,
          ) as unknown,
        },
      },
    });
  });

  it('answers a run ended otherwise with stale_run', async () => {
    expect(await refusedAfter('stopped')).toMatchObject({
      status: 409,
      body: { error: { code: 'stale_run' } },
    });
  });
});
