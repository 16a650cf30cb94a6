import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcher, person } from '../../src/core/actor.js';
import { WardenError } from '../../src/core/errors.js';
import type { LlmRequestRecord } from '../../src/core/llm.js';
import { hashToken } from '../../src/os/token.js';
import type { Claim } from '../../src/store/run-types.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');
const h1 = dispatcher('h1');
const LLM = {
  upstream: 'http://127.0.0.1:9/v1',
  kind: 'openai' as const,
  max_concurrency: null,
  max_rate_limits: null,
};

/** The model proxy's half of the store contract (issue #13): admission, usage, budgets. */
export function runLlmSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store model usage: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    async function running(budget = {}): Promise<Claim> {
      await store.addProfile('p', { argv: ['true'], llm: LLM, budget }, ana);
      await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [claim] = await store.claimRuns(
        { host: 'h1', maxWorkers: 5, limit: 1, mode: 'spawned' },
        '/ws',
      );
      if (!claim) throw new Error('nothing claimed');
      return claim;
    }

    function request(runId: number, over: Partial<LlmRequestRecord> = {}): LlmRequestRecord {
      return {
        run_id: runId,
        model: 'gpt-5',
        status: 200,
        started_at: f.clock.now(),
        ended_at: f.clock.now() + 10,
        queued_ms: 0,
        tokens: { input: 100, output: 20, cache_read: 30, cache_write: 0 },
        cost_usd: 0.5,
        error: null,
        ...over,
      };
    }

    it('admits a current run with its profile and the figures its budgets count', async () => {
      const c = await running({ max_tokens_per_task: 1000, max_cost_per_day: 5 });
      const a = await store.llmAdmit(hashToken(c.token));
      expect(a.run.id).toBe(c.run.id);
      expect(a.profile?.llm).toEqual(LLM);
      expect(a.profile?.budget).toEqual({
        max_tokens_per_task: 1000,
        max_cost_per_task: null,
        max_cost_per_day: 5,
      });
      expect(a.use).toEqual({ task_tokens: 0, task_cost: 0, day_cost: 0 });
      // Model traffic is not the worker protocol: exit 0 keeps its meaning.
      expect((await store.getRun(c.run.id)).used_protocol).toBe(false);
    });

    it('adds each request to its run and task, exactly; unpriced ones are counted apart', async () => {
      const c = await running({ max_cost_per_day: 100 });
      await store.recordLlmRequest(request(c.run.id));
      const totals = await store.recordLlmRequest(
        request(c.run.id, {
          model: 'unknown',
          tokens: { input: 1, output: 2, cache_read: 0, cache_write: 4 },
          cost_usd: null,
          status: 429,
        }),
        true,
      );
      expect(totals).toMatchObject({
        requests: 2,
        tokens: { input: 101, output: 22, cache_read: 30, cache_write: 4 },
        cost_usd: 0.5,
        unpriced: 1,
        rate_limits: 1,
      });
      expect(totals).toMatchObject({ errors: 0, last_error: null });
      const failed = await store.recordLlmRequest(
        request(c.run.id, {
          status: null,
          model: null,
          tokens: { input: 0, output: 0, cache_read: 0, cache_write: 0 },
          cost_usd: 0,
          error: 'the model upstream http://127.0.0.1:9 failed: connect ECONNREFUSED',
        }),
      );
      expect(failed).toMatchObject({ requests: 3, errors: 1, last_error: /ECONNREFUSED/ });
      const task = await store.getTask(c.task.id);
      expect(task.llm).toEqual({ requests: 3, tokens: 157, cost_usd: 0.5, unpriced: 1 });
      const a = await store.llmAdmit(hashToken(c.token));
      expect(a.use).toEqual({ task_tokens: 157, task_cost: 0.5, day_cost: 0.5 });
      const rows = await store.llmStats({ by: 'profile' });
      expect(rows[0]).toMatchObject({ key: 'p', requests: 3 });
    });

    it('refuses a run that is no longer current (stale_run), recording the refusal', async () => {
      const c = await running();
      await store.beginEnding(c.run.id, 'stopped', { rule: 'stopped_by', message: 'x' }, h1);
      const err = await store.llmAdmit(hashToken(c.token)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WardenError);
      expect((err as WardenError).code).toBe('stale_run');
      const events = await store.listEvents({ task_id: c.task.id, kinds: ['stale_run'] });
      expect(events.at(-1)?.payload).toMatchObject({ op: 'llm' });
      // Its tokens were spent all the same: a late answer is still recorded.
      await store.recordLlmRequest(request(c.run.id));
      expect((await store.getTask(c.task.id)).llm.requests).toBe(1);
    });

    it('still admits a run ending on its own report: an agent may have a last turn', async () => {
      const c = await running();
      await store.workerTerminal(hashToken(c.token), { op: 'complete', summary: 'done' });
      expect((await store.llmAdmit(hashToken(c.token))).run.id).toBe(c.run.id);
      expect((await store.getRun(c.run.id)).state).toBe('ending');
    });

    it('refuses an unknown token', async () => {
      await running();
      const err = await store.llmAdmit(hashToken('nope')).catch((e: unknown) => e);
      expect((err as WardenError).code).toBe('unauthorized');
    });

    it('a budget needs the proxy; an edit merges proxy settings and checks them whole', async () => {
      const refused = await store
        .addProfile('q', { argv: ['true'], budget: { max_cost_per_task: 1 } }, ana)
        .catch((e: unknown) => e);
      expect((refused as WardenError).message).toMatch(/--llm-upstream/);
      expect(await store.listProfiles()).toEqual([]);
      await store.addProfile('p', { argv: ['true'], llm: LLM }, ana);
      const edited = await store.editProfile('p', { llm: { max_concurrency: 2 } }, ana);
      expect(edited.llm).toEqual({ ...LLM, max_concurrency: 2 });
      const bad = await store
        .editProfile('p', { llm: { upstream: 'ftp://x' } }, ana)
        .catch((e: unknown) => e);
      expect((bad as WardenError).code).toBe('invalid');
      expect((await store.getProfile('p')).version).toBe(2);
    });
  });
}
