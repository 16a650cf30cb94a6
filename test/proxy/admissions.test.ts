import { describe, expect, it } from 'vitest';
import { NO_BUDGET } from '../../src/core/llm.js';
import { AdmissionMemory } from '../../src/proxy/admissions.js';
import type { LlmAdmission } from '../../src/store/run-types.js';

function admission(over: Partial<LlmAdmission['run']> = {}, budget = NO_BUDGET): LlmAdmission {
  return {
    run: { id: 7, task_id: 3, mode: 'spawned', host_id: 'h1', profile: 'p', ...over },
    profile: { name: 'p', llm: null, budget, paused: false },
    use: { task_tokens: 100, task_cost: 1, day_cost: 0 },
  };
}

function memory(running = new Set([7])): { m: AdmissionMemory; clock: { t: number } } {
  const clock = { t: 0 };
  return {
    m: new AdmissionMemory(
      () => clock.t,
      (id) => running.has(id),
    ),
    clock,
  };
}

describe("the proxy's memory of admitted runs", () => {
  it('answers from memory while the run is still running here and nothing changed', () => {
    const { m } = memory();
    m.put('h', admission(), m.mark());
    expect(m.get('h')?.run.id).toBe(7);
    expect(m.get('other')).toBeNull();
  });

  it('forgets a run this host no longer sees running (ended, being ended, lost)', () => {
    const running = new Set([7]);
    const { m } = memory(running);
    m.put('h', admission(), m.mark());
    running.delete(7);
    expect(m.get('h')).toBeNull();
    running.add(7);
    // Forgotten for good: the next request reads the store again.
    expect(m.get('h')).toBeNull();
  });

  it('forgets everything on a change, and what a read saw across a change is not kept', () => {
    const { m } = memory();
    m.put('h', admission(), m.mark());
    m.invalidate();
    expect(m.get('h')).toBeNull();
    const before = m.mark();
    m.invalidate();
    m.put('h', admission(), before);
    expect(m.get('h')).toBeNull();
  });

  it('keeps nothing older than its bound', () => {
    const { m, clock } = memory();
    m.put('h', admission(), m.mark());
    clock.t = 29_999;
    expect(m.get('h')).not.toBeNull();
    clock.t = 30_000;
    expect(m.get('h')).toBeNull();
  });

  it('keeps no pull run and no profile with a day budget (other runs spend it)', () => {
    const { m } = memory();
    m.put('a', admission({ mode: 'pull' }), m.mark());
    m.put('b', admission({}, { ...NO_BUDGET, max_cost_per_day: 5 }), m.mark());
    expect(m.get('a')).toBeNull();
    expect(m.get('b')).toBeNull();
  });

  it("moves a task's budget figures with each request it records", () => {
    const { m } = memory();
    m.put('h', admission(), m.mark());
    m.spent(7, { input: 10, output: 5, cache_read: 3, cache_write: 2 }, 0.25);
    m.spent(8, { input: 1000, output: 0, cache_read: 0, cache_write: 0 }, 9);
    m.spent(7, { input: 1, output: 0, cache_read: 0, cache_write: 0 }, null);
    expect(m.get('h')?.use).toEqual({ task_tokens: 121, task_cost: 1.25, day_cost: 0 });
  });
});
