import { describe, expect, it } from 'vitest';
import { describeReason, describeRun, describeTaskState } from '../../src/core/describe.js';
import type { Task } from '../../src/core/task.js';
import type { Run } from '../../src/core/run.js';
import { NO_RUN_LLM } from '../../src/core/llm.js';
import { reapedReason } from '../../src/core/reasons.js';

const base: Run = {
  id: 7,
  task_id: 3,
  board: 'default',
  attempt: 2,
  state: 'ended',
  mode: 'spawned',
  host_id: 'h1',
  worker_id: null,
  profile: 'p',
  profile_version: 1,
  argv: ['x'],
  env: {},
  cwd: '/w',
  process: { boot_id: 'b', pid: 4242, start_time: '1' },
  log_path: '/w/log',
  started_at: 0,
  ending_at: 3_600_000,
  ended_at: 3_601_000,
  last_heartbeat_at: null,
  last_progress_at: 60_000,
  last_output_at: 60_000,
  progress_count: 1,
  output_bytes: 10,
  stall_warned_at: 660_000,
  outcome: 'stalled',
  reason: {
    rule: 'stall_timeout',
    message: 'alive but silent for 59m (stall_timeout 59m)',
    limits: { stall_warn_after: 600_000, stall_timeout: 3_540_000 },
    last_progress_at: 60_000,
    last_output_at: 60_000,
    last_heartbeat_at: null,
    alive: true,
    host: 'h1',
    extra: { pid: 4242 },
  },
  exit_code: null,
  signal: 'SIGTERM',
  log_tail: 'thinking...\nstill thinking\n',
  last_note: null,
  used_protocol: false,
  stop_intent: null,
  result: null,
  evidence: null,
  llm: NO_RUN_LLM,
  role: 'work',
};

describe('describing runs in words', () => {
  it('says how a run ended, with the last thing it printed', () => {
    expect(describeRun(base, 4_000_000)).toBe(
      'attempt 2: stalled after 1h (signal SIGTERM) — alive but silent for 59m (stall_timeout 59m); last output: "still thinking"',
    );
  });

  it("names a run's rate limits and failed model requests, which the agent's retries hide", () => {
    const llm = {
      ...NO_RUN_LLM,
      requests: 5,
      tokens: { ...NO_RUN_LLM.tokens, input: 3_000, output: 500 },
      cost_usd: 0.02,
      rate_limits: 3,
      errors: 1,
      last_error: 'the model upstream https://api.anthropic.com failed: overloaded',
    };
    expect(describeRun({ ...base, llm }, 4_000_000)).toContain(
      '; model 3.5k tokens, USD 0.02, 3 rate limits, 1 model request failed (last: the model upstream https://api.anthropic.com failed: overloaded)',
    );
    expect(describeRun({ ...base, llm: { ...llm, errors: 0, last_error: null } }, 0)).toMatch(
      /, 3 rate limits — /,
    );
  });

  it('gives the numbers behind the ending', () => {
    expect(describeReason(base)).toBe(
      'rule stall_timeout; limits stall_warn_after 10m, stall_timeout 59m; before the ending: last progress 59m earlier, last output 59m earlier, last heartbeat never; pid 4242; alive when the ending began; host h1; signal SIGTERM',
    );
  });

  it('describes a live run by its age and progress', () => {
    expect(describeRun({ ...base, state: 'running', ended_at: null, outcome: null }, 120_000)).toBe(
      'attempt 2: running for 2m, last progress 1m ago',
    );
  });

  it('times an ending from when it began, not from the start (a trial read "ending for 1m28s" of a 22 s ending)', () => {
    const ending = {
      ...base,
      state: 'ending' as const,
      ending_at: 66_000,
      ended_at: null,
      outcome: null,
    };
    expect(describeRun(ending, 88_000)).toBe(
      'attempt 2: ending for 22s (after 1m6s of running), last progress 28s ago',
    );
  });

  it('does not say a reaped run had exited: the reaping host cannot see its processes', () => {
    const reason = reapedReason('h2', 'h3', 1, { lease_expired_at: 1000, reaped_at: 2000 });
    expect(describeReason({ ...base, reason })).not.toMatch(/already exited|alive/);
  });
});

describe('describing a card', () => {
  // Only what the note reads of a ready task.
  const ready = {
    id: 4,
    status: 'ready',
    assignee: 'coder',
    not_before: null,
    approval: { required: false, at: null },
    parents: [],
  } as unknown as Task;

  it('says a ready card is held by its profile paused by the breaker, with the next probe', () => {
    const note = describeTaskState(ready, 1_000, undefined, (name) =>
      name === 'coder'
        ? {
            name,
            paused_by: 'breaker',
            paused_reason: 'breaker: 5 failed runs in a row',
            breaker: {
              failures: 5,
              trips: 1,
              failed_probes: 0,
              probe_at: 601_000,
              probe_run: null,
            },
          }
        : undefined,
    );
    expect(note).toBe(
      'held: profile coder is paused by its breaker; next probe run in 10m — `warden profile resume coder`',
    );
    // Its profile not paused: nothing holds it.
    expect(describeTaskState(ready, 1_000, undefined, () => undefined)).toBe('');
  });

  it('says why a delayed card waits: a rate limit, failures, or nothing for a set delay', () => {
    const counters = {
      attempts: 3,
      failures: 0,
      stall_streak: 0,
      rate_limited_streak: 0,
      spawn_failures: 0,
      host_losses: 0,
    };
    const delayed = (c: Partial<typeof counters>): Task => ({
      ...ready,
      not_before: 61_000,
      counters: { ...counters, ...c },
    });
    const at = 'waiting until 1970-01-01T00:01:01.000Z (in 1m)';
    expect(describeTaskState(delayed({ rate_limited_streak: 2, failures: 1 }), 1_000)).toBe(
      `rate limited; ${at}`,
    );
    expect(describeTaskState(delayed({ failures: 1 }), 1_000)).toBe(`failed once; ${at}`);
    expect(describeTaskState(delayed({ failures: 3 }), 1_000)).toBe(`failed 3 times; ${at}`);
    expect(describeTaskState(delayed({}), 1_000)).toBe(at);
  });

  it('says a ready card that nobody is assigned to will not start, and how to assign it', () => {
    expect(describeTaskState({ ...ready, assignee: null }, 1_000)).toBe(
      'nobody is assigned, so nothing starts it: `warden edit 4 --assignee PROFILE`',
    );
  });
});
