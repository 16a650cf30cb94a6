/**
 * Model usage as people read it (issue #13): `runs`, `show`, `stats` and `doctor` on a home
 * whose runs have requests recorded through the store, exactly as the proxy records them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { describeRun, usageLine } from '../../src/core/describe.js';
import { formatDuration } from '../../src/core/duration.js';
import type { LlmRequestRecord, TokenUsage } from '../../src/core/llm.js';
import type { Run } from '../../src/core/run.js';
import type { Task } from '../../src/core/task.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/sqlite/open.js';
import type { LlmStatRow } from '../../src/store/sql/llm-stats.js';
import { createHome, expectError } from '../helpers/cli.js';
import type { Cli } from '../helpers/cli.js';

const DAY = 86_400_000;
/** When the recent requests started: fixed once, so a run across midnight (UTC) sees one day. */
const RECENT = Date.now() - 60_000;
/** When the `coded` task's model began streaming: 3m12s before the setup's end. */
let streamingSince = 0;
const ana = person('ana');

let cli: Cli;
let store: SqliteStore;
/** Tasks: `coded` has 14k priced tokens and a streaming run, `mixed` one unpriced request. */
const ids = { coded: 0, mixed: 0, ops: 0, quiet: 0 };
const runOf = { coded: 0, mixed: 0, ops: 0 };

function tokens(input: number, output: number, cache_read = 0, cache_write = 0): TokenUsage {
  return { input, output, cache_read, cache_write };
}

async function record(
  runId: number,
  t: TokenUsage,
  cost: number | null,
  startedAt = RECENT,
  model = 'claude-test',
): Promise<void> {
  const rec: LlmRequestRecord = {
    run_id: runId,
    model,
    status: 200,
    started_at: startedAt,
    ended_at: startedAt + 2_000,
    queued_ms: 0,
    tokens: t,
    cost_usd: cost,
    error: null,
  };
  await store.recordLlmRequest(rec);
}

/** Claims the one ready task on host h1 and returns its run id. */
async function claim(): Promise<number> {
  const [c] = await store.claimRuns(
    { host: 'h1', maxWorkers: 8, limit: 1, mode: 'spawned' },
    join(cli.home, 'ws'),
  );
  if (!c) throw new Error('nothing claimed');
  return c.run.id;
}

beforeAll(async () => {
  cli = await createHome();
  store = await openSqliteStore(join(cli.home, 'warden.db'), new ManualClock(Date.now()));
  await store.addProfile('coder', { argv: ['/bin/true'] }, ana);
  await store.addProfile('helper', { argv: ['/bin/true'] }, ana);
  await store.addBoard('ops', ana);
  const make = async (title: string, assignee: string, board?: string): Promise<number> =>
    (await store.createTask({ title, assignee, ...(board ? { board } : {}) }, ana)).id;
  ids.coded = await make('Write the parser', 'coder');
  runOf.coded = await claim();
  ids.mixed = await make('Try a new model', 'helper');
  runOf.mixed = await claim();
  ids.ops = await make('Rotate the keys', 'coder', 'ops');
  runOf.ops = await claim();
  ids.quiet = await make('Think quietly', 'coder');
  await claim();
  // 2 requests, 14k tokens (in 9k, out 3k, cache read 2k), USD 0.42.
  await record(runOf.coded, tokens(6_000, 2_000, 2_000), 0.3);
  await record(runOf.coded, tokens(3_000, 1_000), 0.12, RECENT - 3 * DAY);
  // One priced, one without a price for its model.
  await record(runOf.mixed, tokens(800, 200), 0.01);
  await record(runOf.mixed, tokens(150, 50), null, RECENT, 'mystery-1');
  // Ten days ago: outside `stats`'s default seven days.
  await record(runOf.ops, tokens(1_000_000, 20_000, 0, 10_000), 3.5, Date.now() - 10 * DAY);
  streamingSince = Date.now() - 192_300;
  await store.recordProgress([
    { runId: runOf.coded, llm_state: 'streaming', llm_state_since: streamingSince },
  ]);
}, 60_000);

afterAll(async () => {
  await store?.close();
  cli?.remove();
});

/**
 * Runs the CLI, with what it may say the `coded` run's model has been streaming for: the time
 * since `streamingSince` at some moment of the CLI's run (it reads the clock once).
 */
async function runTimed(args: string[]): Promise<{ stdout: string; streaming: string[] }> {
  const from = Date.now();
  const r = await cli.run(args);
  const to = Date.now();
  const streaming: string[] = [];
  const last = Math.ceil((to - streamingSince) / 1000);
  for (let s = Math.floor((from - streamingSince) / 1000); s <= last; s++)
    streaming.push(formatDuration(s * 1000));
  return { stdout: r.stdout, streaming };
}

describe.concurrent('model usage on the command line', () => {
  it('show: one line of usage with the split by kind, and the cost', async () => {
    const r = await cli.run(['show', String(ids.coded)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'model:     2 requests, 14k tokens (in 9k, out 3k, cache read 2k), USD 0.42\n',
    );
    expect(r.stdout).not.toContain('cost unknown');
  });

  it('show: says which cost is unknown and how to add a price', async () => {
    const r = await cli.run(['show', String(ids.mixed)]);
    expect(r.stdout).toContain(
      'model:     2 requests, 1.2k tokens (in 950, out 250), USD 0.01 + 1 unpriced\n' +
        '           cost unknown for 1 request: no price for their model; add it to llm_prices in config.json\n',
    );
  });

  it('show: nothing about the model for a task without traffic', async () => {
    const r = await cli.run(['show', String(ids.quiet)]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('model');
  });

  it('show --json: the task and each run carry their totals', async () => {
    const shown = await cli.json<Task & { runs: Run[] }>(['show', String(ids.coded)]);
    expect(shown.llm).toMatchObject({ requests: 2, tokens: 14_000, unpriced: 0 });
    expect(shown.llm.cost_usd).toBeCloseTo(0.42, 10);
    expect(shown.runs[0]?.llm).toMatchObject({
      requests: 2,
      tokens: tokens(9_000, 3_000, 2_000),
      unpriced: 0,
      state: 'streaming',
    });
    const mixed = await cli.json<Task>(['show', String(ids.mixed)]);
    expect(mixed.llm).toMatchObject({ requests: 2, tokens: 1_200, unpriced: 1 });
    expect(mixed.llm.cost_usd).toBeCloseTo(0.01, 10);
  });

  it('runs: each run line carries its tokens and cost, or what its model is doing', async () => {
    const mixed = await cli.run(['runs', String(ids.mixed)]);
    expect(mixed.stdout).toMatch(
      new RegExp(
        `^run ${runOf.mixed} attempt 1: running for .*; model 1.2k tokens, USD 0.01 \\+ 1 unpriced$`,
        'm',
      ),
    );
    const coded = await runTimed(['runs', String(ids.coded)]);
    const shown = /; model streaming for (\S+), 14k tokens$/m.exec(coded.stdout)?.[1];
    expect(coded.streaming).toContain(shown);
  });

  it('doctor: a streaming run is not "silent"; a run between requests shows its usage', async () => {
    const coded = await runTimed(['doctor', String(ids.coded)]);
    const shown = /model streaming for (\S+), 14k tokens; warns at /.exec(coded.stdout)?.[1];
    expect(coded.streaming).toContain(shown);
    expect(coded.stdout).not.toMatch(/silent \d/);
    const mixed = await cli.run(['doctor', String(ids.mixed)]);
    expect(mixed.stdout).toMatch(/model so far: 1.2k tokens, USD 0.01 \+ 1 unpriced; silent /);
  });

  it('stats: model usage per profile, per board and per day over the last 7 days', async () => {
    const r = await cli.run(['stats']);
    expect(r.code).toBe(0);
    const after = r.stdout.slice(r.stdout.indexOf('\nmodel usage'));
    expect(after).toMatch(/^\nmodel usage, last 7 days \(UTC\)\nper profile on board default:\n/);
    expect(after).toMatch(
      /^ {2}PROFILE +REQUESTS +TOKENS +IN +OUT +CACHE READ +CACHE WRITE +COST$/m,
    );
    expect(after).toMatch(/^ {2}coder +2 +14k +9k +3k +2k +0 +USD 0\.42$/m);
    expect(after).toMatch(/^ {2}helper +2 +1\.2k +950 +250 +0 +0 +USD 0\.01 \+ 1 unpriced$/m);
    // Board ops's only request is ten days old.
    expect(after).toMatch(/^per board:\n.*\n {2}default +4 +15\.2k .*USD 0\.43 \+ 1 unpriced\n/m);
    expect(after).not.toContain('ops');
    const today = new Date(RECENT).toISOString().slice(0, 10);
    const threeAgo = new Date(RECENT - 3 * DAY).toISOString().slice(0, 10);
    expect(after).toMatch(new RegExp(`^ {2}${threeAgo} +1 +4k `, 'm'));
    expect(after).toMatch(new RegExp(`^ {2}${today} +3 +11\\.2k `, 'm'));
  });

  it('stats --json --days 30: the same sums as numbers, the older board included', async () => {
    const out = await cli.json<{
      llm: {
        days: number;
        since: number;
        by_profile: LlmStatRow[];
        by_board: LlmStatRow[];
        by_day: LlmStatRow[];
      };
    }>(['stats', '--days', '30']);
    expect(out.llm.days).toBe(30);
    expect(out.llm.by_profile.map((r) => r.key)).toEqual(['coder', 'helper']);
    expect(out.llm.by_profile[0]).toMatchObject({
      key: 'coder',
      requests: 2,
      tokens: tokens(9_000, 3_000, 2_000),
      unpriced: 0,
    });
    expect(out.llm.by_profile[0]?.cost_usd).toBeCloseTo(0.42, 10);
    expect(out.llm.by_board).toEqual([
      expect.objectContaining({ key: 'default', requests: 4, unpriced: 1 }),
      {
        key: 'ops',
        requests: 1,
        tokens: tokens(1_000_000, 20_000, 0, 10_000),
        cost_usd: 3.5,
        unpriced: 0,
      },
    ]);
    expect(out.llm.by_day.map((r) => r.requests)).toEqual([1, 3]);
  });

  it('stats: a board without recent traffic has empty sections, or one line with none at all', async () => {
    const ops = await cli.run(['stats', '--board', 'ops']);
    expect(ops.stdout).toContain('per profile on board ops: none\n');
    expect(ops.stdout).toContain('per day on board ops: none\n');
    const home = await createHome();
    try {
      const r = await home.run(['stats']);
      expect(r.stdout).toMatch(
        /\nmodel usage, last 7 days \(UTC\): no requests through the model proxy\n$/,
      );
    } finally {
      home.remove();
    }
  });

  it('stats --days refuses what is not a number of days, in one line', async () => {
    expectError(
      await cli.run(['stats', '--days', '0']),
      2,
      /--days: must be from 1 to 3660, got 0/,
    );
    expectError(
      await cli.run(['stats', '--days', 'week']),
      2,
      /--days: 'week' is not a whole number/,
    );
  });
});

describe('model usage in words', () => {
  it('an ended run says what its model traffic cost', async () => {
    const run = await store.getRun(runOf.ops);
    const ended: Run = {
      ...run,
      state: 'ended',
      outcome: 'completed',
      ended_at: run.started_at + 60_000,
    };
    expect(describeRun(ended, Date.now())).toBe(
      'attempt 1: completed after 1m; model 1.03M tokens, USD 3.50',
    );
    expect(usageLine(ended.llm)).toBe(
      '1 request, 1.03M tokens (in 1M, out 20k, cache write 10k), USD 3.50',
    );
  });

  it('a run whose every request was unpriced says the cost is unknown', () => {
    const u = { requests: 3, tokens: tokens(10, 5), cost_usd: 0, unpriced: 3 };
    expect(usageLine(u)).toBe('3 requests, 15 tokens (in 10, out 5), cost unknown');
  });
});
