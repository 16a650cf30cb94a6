import { describe, expect, it } from 'vitest';
import { NO_RUN_LLM } from '../../src/core/llm.js';
import type { Run } from '../../src/core/run.js';
import { buildTimeline } from '../../src/core/timeline.js';
import type { TimelineFacts } from '../../src/core/timeline.js';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

/** A run that talked for a minute, then sat silent until it stalled an hour later. */
const run: Run = {
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
  started_at: T0,
  ending_at: T0 + 61 * MIN,
  ended_at: T0 + 61 * MIN + 31_000,
  last_heartbeat_at: null,
  last_progress_at: T0 + MIN,
  last_output_at: T0 + MIN,
  progress_count: 1,
  output_bytes: 10,
  stall_warned_at: T0 + 11 * MIN,
  outcome: 'stalled',
  reason: {
    rule: 'stall_timeout',
    message: 'alive but silent for 60m (stall_timeout 60m)',
    phases: {
      pid: 4242,
      pgid: 4242,
      grace_ms: 30_000,
      term_at_ms: 5,
      term_ignored: true,
      kill_at_ms: 30_005,
      empty_at_ms: 30_050,
    },
  },
  exit_code: null,
  signal: 'SIGKILL',
  log_tail: null,
  last_note: null,
  used_protocol: true,
  stop_intent: null,
  result: null,
  evidence: {
    branch: 'warden/3',
    base: 'a'.repeat(40),
    head: 'c'.repeat(40),
    commits: 3,
    commit_list: [
      { sha: 'c'.repeat(40), subject: 'this run', at: T0 + 50_000 },
      { sha: 'b'.repeat(40), subject: 'the run before', at: T0 - 10 * MIN },
      { sha: 'd'.repeat(40), subject: 'recorded before commit times' },
    ],
    diffstat: { files: 1, insertions: 2, deletions: 0 },
    rescue: null,
  },
  llm: NO_RUN_LLM,
  role: 'work',
};

const facts: TimelineFacts = {
  run,
  events: [
    {
      id: 1,
      board: 'default',
      task_id: 3,
      run_id: 7,
      actor: 'dispatcher:h1',
      kind: 'stall_warning',
      payload: { silent_ms: 10 * MIN, stall_timeout: 60 * MIN },
      at: T0 + 11 * MIN,
    },
    {
      id: 2,
      board: 'default',
      task_id: 3,
      run_id: 7,
      actor: 'dispatcher:h1',
      kind: 'run_ending',
      payload: { outcome: 'stalled', message: 'alive but silent for 60m (stall_timeout 60m)' },
      at: T0 + 61 * MIN,
    },
  ],
  activity: [
    {
      at: T0 + 15_000,
      output_bytes: 2048,
      progress_calls: 0,
      last_output_at: T0 + 14_000,
      last_progress_at: null,
      note: null,
    },
    {
      at: T0 + 75_000,
      output_bytes: 100,
      progress_calls: 2,
      last_output_at: T0 + MIN,
      last_progress_at: T0 + MIN,
      note: 'tests pass',
    },
  ],
  requests: [
    {
      started_at: T0 + 20_000,
      ended_at: T0 + 40_000,
      model: 'claude',
      status: 200,
      input_tokens: 1200,
      output_tokens: 300,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0.0123,
      error: null,
    },
    {
      started_at: T0 + 45_000,
      ended_at: T0 + 46_000,
      model: 'claude',
      status: 429,
      input_tokens: 0,
      output_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: null,
      error: null,
    },
  ],
  cut: { activity: false, requests: true, events: false },
};

describe("a run timeline's model requests", () => {
  it('name every kind of token the cost counts, cache reads and writes included', () => {
    const cached = {
      ...facts,
      requests: [
        {
          ...facts.requests[0]!,
          input_tokens: 3390,
          output_tokens: 50,
          cache_read_tokens: 27_000,
          cache_write_tokens: 800,
        },
      ],
    };
    const [model] = buildTimeline(cached, T0 + 999 * MIN).items.filter((i) => i.kind === 'model');
    expect(model?.text).toBe(
      'claude, 3390 in, 50 out, 27000 cache read, 800 cache write tokens, $0.0123',
    );
  });
});

describe('a run timeline', () => {
  const t = buildTimeline(facts, T0 + 999 * MIN);

  it('puts everything on one axis in time order, the ending before its signals', () => {
    expect(t.items.map((i) => [i.kind, i.at - T0])).toEqual([
      ['start', 0],
      ['output', 0],
      ['output', 15_000],
      ['model', 20_000],
      ['model', 45_000],
      ['commit', 50_000],
      ['progress', MIN],
      ['stall_warning', 11 * MIN],
      ['ending', 61 * MIN],
      ['signal', 61 * MIN + 5],
      ['signal', 61 * MIN + 30_005],
      ['signal', 61 * MIN + 30_050],
      ['end', 61 * MIN + 31_000],
    ]);
    expect(t.from).toBe(T0);
    expect(t.to).toBe(run.ended_at);
    expect(t.cut).toEqual(facts.cut);
  });

  it('says each thing in words with its numbers, spans with their ends', () => {
    const of = (kind: string) => t.items.filter((i) => i.kind === kind);
    expect(of('output')[0]).toMatchObject({ until: T0 + 14_000, text: 'wrote 2.0 KiB' });
    expect(of('output')[1]).toMatchObject({
      at: T0 + 15_000,
      until: T0 + MIN,
      text: 'wrote 100 B',
    });
    expect(of('progress')[0]?.text).toBe('2 calls: tests pass');
    expect(of('model')[0]).toMatchObject({
      until: T0 + 40_000,
      text: 'claude, 1200 in, 300 out tokens, $0.0123',
    });
    expect(of('model')[1]?.text).toBe('claude, rate limited (429)');
    // Only this run's commits with a known time: the one before and the undated one are left.
    expect(of('commit').map((c) => c.figures.subject)).toEqual(['this run']);
    expect(of('signal').map((s) => s.text)).toEqual([
      'SIGTERM to process group 4242',
      'SIGKILL to process group 4242 (SIGTERM ignored)',
      'process group verified gone',
    ]);
    expect(of('stall_warning')[0]?.text).toBe('silent for 10m');
  });

  it('says why it ended and how long before the ending each sign of life was last seen', () => {
    expect(t.why).toBe(
      'stalled after 1h1m: alive but silent for 60m (stall_timeout 60m); last output 1h before, progress call 1h before, model request 1h before, commit 1h before',
    );
  });

  it('while the run goes on, the axis ends now and there is no why yet', () => {
    const open = buildTimeline(
      {
        ...facts,
        run: {
          ...run,
          state: 'running',
          ending_at: null,
          ended_at: null,
          reason: null,
          outcome: null,
        },
      },
      T0 + 5 * MIN,
    );
    expect(open.to).toBe(T0 + 5 * MIN);
    expect(open.why).toBeNull();
    expect(open.items.some((i) => i.kind === 'end' || i.kind === 'signal')).toBe(false);
  });

  it('a run that never did anything says so', () => {
    const silent = buildTimeline(
      { ...facts, activity: [], requests: [], events: [], run: { ...run, evidence: null } },
      T0,
    );
    expect(silent.why).toContain('no output, progress call, model request or commit seen');
  });
});
