import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatcher, person } from '../../src/core/actor.js';
import { WardenError } from '../../src/core/errors.js';
import { buildTimeline } from '../../src/core/timeline.js';
import type { Claim } from '../../src/store/run-types.js';
import type { Store } from '../../src/store/store.js';
import type { StoreFixture } from './suite.js';

const ana = person('ana');
const h1 = dispatcher('h1');

/**
 * A run's timeline in the store (issue #15): activity booked with the progress batches (one
 * row per run per batch that saw any, none for a quiet one), model requests, events, and the
 * figures `/metrics` reads of open runs and model use.
 */
export function runTimelineSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`Store timeline and metric figures: ${name}`, () => {
    let f: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    async function running(): Promise<Claim> {
      await store.addProfile('p', { argv: ['true'] }, ana);
      await store.createTask({ title: 't', assignee: 'p' }, ana);
      const [claim] = await store.claimRuns(
        { host: 'h1', maxWorkers: 5, limit: 1, mode: 'spawned' },
        '/ws',
      );
      if (!claim) throw new Error('nothing claimed');
      return claim;
    }

    it('books what each batch saw, once, and nothing for a batch that saw nothing', async () => {
      const c = await running();
      const runId = c.run.id;
      const t0 = f.clock.now();
      f.clock.advance(1000);
      await store.recordProgress([
        { runId, output_bytes: 500, last_output_at: t0 + 900, progress_count: 0 },
      ]);
      f.clock.advance(1000);
      // The same figures again (a batch of another run's change, or a heartbeat): no row.
      await store.recordProgress([{ runId, output_bytes: 500, last_heartbeat_at: t0 + 1900 }]);
      f.clock.advance(1000);
      await store.recordProgress([
        {
          runId,
          output_bytes: 800,
          last_output_at: t0 + 2500,
          progress_count: 2,
          last_progress_at: t0 + 2800,
          last_note: 'tests pass',
        },
      ]);
      f.clock.advance(1000);
      // The ending's own figures are booked with it.
      expect(
        await store.beginEnding(runId, 'crashed', { rule: 'exit_code', message: 'exit 1' }, h1),
      ).toBe(true);
      await store.finishRun(
        runId,
        {
          outcome: 'crashed',
          reason: { rule: 'exit_code', message: 'exit 1' },
          exit_code: 1,
          progress: { runId, output_bytes: 1000, last_output_at: t0 + 3500, progress_count: 2 },
        },
        { host: 'h1', config: {} },
      );
      const facts = await store.timelineFacts(runId);
      expect(facts.activity).toEqual([
        {
          at: t0 + 1000,
          output_bytes: 500,
          progress_calls: 0,
          last_output_at: t0 + 900,
          last_progress_at: null,
          note: null,
        },
        {
          at: t0 + 3000,
          output_bytes: 300,
          progress_calls: 2,
          last_output_at: t0 + 2500,
          last_progress_at: t0 + 2800,
          note: 'tests pass',
        },
        {
          at: t0 + 4000,
          output_bytes: 200,
          progress_calls: 0,
          last_output_at: t0 + 3500,
          last_progress_at: null,
          note: null,
        },
      ]);
      // After the ending nothing more is booked.
      await store.recordProgress([{ runId, output_bytes: 5000, progress_count: 9 }]);
      expect((await store.timelineFacts(runId)).activity).toHaveLength(3);
      expect(facts.events.map((e) => e.kind)).toEqual([
        'run_started',
        'run_ending',
        'run_ended',
        'task_requeued',
      ]);
      expect(facts.cut).toEqual({ activity: false, requests: false, events: false });
      const t = buildTimeline(facts, f.clock.now());
      expect(t.items.map((i) => i.kind)).toEqual([
        'start',
        'output',
        'output',
        'progress',
        'output',
        'ending',
        'end',
        'other',
      ]);
      expect(t.why).toMatch(
        /^crashed after 4s: exit 1; last output 500ms before, progress call 1s before/,
      );
    });

    it("reads the run's model requests, newest kept, and refuses a run that does not exist", async () => {
      const c = await running();
      await store.recordLlmRequest(
        {
          run_id: c.run.id,
          model: 'gpt-5',
          status: 429,
          started_at: f.clock.now() + 10,
          ended_at: f.clock.now() + 30,
          queued_ms: 0,
          tokens: { input: 0, output: 0, cache_read: 0, cache_write: 0 },
          cost_usd: null,
          error: null,
        },
        true,
      );
      const facts = await store.timelineFacts(c.run.id);
      expect(facts.requests).toEqual([
        expect.objectContaining({ model: 'gpt-5', status: 429, started_at: f.clock.now() + 10 }),
      ]);
      const err = await store.timelineFacts(999_999).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WardenError);
      expect((err as WardenError).code).toBe('not_found');
    });

    it("gc's pruning of a finished task takes its runs' activity with its events", async () => {
      const c = await running();
      await store.recordProgress([{ runId: c.run.id, output_bytes: 10, progress_count: 1 }]);
      const reason = { rule: 'exit_code' as const, message: 'exit 0' };
      await store.beginEnding(c.run.id, 'completed', reason, h1);
      await store.finishRun(
        c.run.id,
        { outcome: 'completed', reason, exit_code: 0 },
        { host: 'h1', config: {} },
      );
      await store.moveTask(c.task.id, { verb: 'archive' }, ana);
      f.clock.advance(60_000);
      await store.pruneEvents(f.clock.now(), true);
      expect((await store.timelineFacts(c.run.id)).activity).toHaveLength(1);
      await store.pruneEvents(f.clock.now(), false);
      const facts = await store.timelineFacts(c.run.id);
      expect(facts.activity).toEqual([]);
      expect(facts.events).toEqual([]);
      expect(facts.run.outcome).toBe('completed');
    });

    it('counts open runs by board, profile, host and state, and sums model use', async () => {
      const c = await running();
      await store.recordLlmRequest({
        run_id: c.run.id,
        model: 'gpt-5',
        status: 200,
        started_at: f.clock.now(),
        ended_at: f.clock.now() + 5,
        queued_ms: 0,
        tokens: { input: 100, output: 20, cache_read: 3, cache_write: 4 },
        cost_usd: 0.25,
        error: null,
      });
      const figures = await store.metricFigures();
      expect(figures.workers).toEqual([
        { board: 'default', profile: 'p', host: 'h1', mode: 'spawned', state: 'running', n: 1 },
      ]);
      expect(figures.llm).toEqual([
        {
          board: 'default',
          profile: 'p',
          requests: 1,
          input_tokens: 100,
          output_tokens: 20,
          cache_read_tokens: 3,
          cache_write_tokens: 4,
          cost_usd: 0.25,
        },
      ]);
      await store.beginEnding(c.run.id, 'stopped', { rule: 'stopped_by', message: 'stop' }, h1);
      expect((await store.metricFigures()).workers).toEqual([
        { board: 'default', profile: 'p', host: 'h1', mode: 'spawned', state: 'ending', n: 1 },
      ]);
    });
  });
}
