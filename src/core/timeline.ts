import { formatDuration } from './duration.js';
import type { WardenEvent } from './events.js';
import type { EpochMs, RunId, TaskId } from './glossary.js';
import type { Run } from './run.js';
import { formatSize } from './size.js';

/**
 * A run's timeline (issue #15): its start, output bursts, progress calls, model requests,
 * commits, stall warnings, signals and its ending on one time axis, so a person sees at a
 * glance why a run was ended and what it was doing before. Built here from stored facts; the
 * store only reads them (src/store/sql/timeline.ts).
 */
export const TimelineKind = {
  start: 'start',
  /** The worker wrote to its log: a span from the previous batch to its last byte. */
  output: 'output',
  /** `progress` calls (CLI, HTTP, SDK, MCP) within one batch, with the latest note. */
  progress: 'progress',
  /** One model request through the proxy: a span from its start to its end. */
  model: 'model',
  /** A commit on the task's branch made during the run. */
  commit: 'commit',
  stall_warning: 'stall_warning',
  /** The run was fenced to end: the outcome and rule decided. */
  ending: 'ending',
  /** A signal the ending sent to the worker's process group, or the group found empty. */
  signal: 'signal',
  end: 'end',
  /** Anything else said of the run: adopted, log cut, processes escaped, a stale call. */
  other: 'other',
} as const;
export type TimelineKind = (typeof TimelineKind)[keyof typeof TimelineKind];

/** One thing on the axis: a moment, or a span when `until` is set. */
export interface TimelineItem {
  kind: TimelineKind;
  at: EpochMs;
  until: EpochMs | null;
  /** In words, for the CLI and the dashboard. */
  text: string;
  /** The numbers behind the words (bytes, calls, tokens, cost, signal, sha...). */
  figures: Record<string, number | string | boolean | null>;
}

/** A run's timeline as the API, the CLI and the dashboard give it. */
export interface RunTimeline {
  run_id: RunId;
  task_id: TaskId;
  attempt: number;
  state: Run['state'];
  outcome: Run['outcome'];
  from: EpochMs;
  /** The end of the axis: when the run ended, or now while it runs. */
  to: EpochMs;
  /** Why it ended and what it did last, in one line (null while it runs). */
  why: string | null;
  items: TimelineItem[];
  /** What was left off the start of a long run (only the newest rows of each are kept). */
  cut: { activity: boolean; requests: boolean; events: boolean };
}

/** What one progress batch saw of a run (`run_activity`). */
export interface ActivityRow {
  /** When the batch was written. */
  at: EpochMs;
  output_bytes: number;
  progress_calls: number;
  last_output_at: EpochMs | null;
  /** When the batch's last progress call came (older rows: the run's last progress of any kind). */
  last_progress_at: EpochMs | null;
  note: string | null;
}

/** One model request of the run (`llm_requests`). */
export interface ModelRequestRow {
  started_at: EpochMs;
  ended_at: EpochMs;
  model: string | null;
  status: number | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number | null;
  error: string | null;
}

/** What a timeline is built from, read by the store in one snapshot. */
export interface TimelineFacts {
  run: Run;
  events: WardenEvent[];
  activity: ActivityRow[];
  requests: ModelRequestRow[];
  cut: RunTimeline['cut'];
}

/** How many rows of each kind a timeline reads at most (the newest). */
export const TIMELINE_LIMITS = { activity: 2000, requests: 1000, events: 500 } as const;

/** Events drawn from the run row or the activity instead (their own items say it better). */
const DRAWN_ELSEWHERE = new Set(['run_started', 'run_ended']);

function item(
  kind: TimelineKind,
  at: EpochMs,
  text: string,
  figures: TimelineItem['figures'] = {},
  until: EpochMs | null = null,
): TimelineItem {
  return { kind, at, until, text, figures };
}

function activityItems(run: Run, rows: readonly ActivityRow[]): TimelineItem[] {
  const items: TimelineItem[] = [];
  let since = run.started_at;
  for (const r of rows) {
    if (r.output_bytes > 0) {
      const until = Math.max(since, r.last_output_at ?? r.at);
      items.push(
        item(
          'output',
          since,
          `wrote ${formatSize(r.output_bytes)}`,
          { bytes: r.output_bytes },
          until,
        ),
      );
    }
    if (r.progress_calls > 0) {
      const calls = `${r.progress_calls} call${r.progress_calls === 1 ? '' : 's'}`;
      items.push(
        item('progress', r.last_progress_at ?? r.at, r.note ? `${calls}: ${r.note}` : calls, {
          calls: r.progress_calls,
          note: r.note,
        }),
      );
    }
    since = r.at;
  }
  return items;
}

/** `1200 in, 300 out, 27000 cache read tokens`: the cache kinds only when there are any. */
function tokenWords(r: ModelRequestRow): string {
  const kinds = [`${r.input_tokens} in`, `${r.output_tokens} out`];
  if (r.cache_read_tokens > 0) kinds.push(`${r.cache_read_tokens} cache read`);
  if (r.cache_write_tokens > 0) kinds.push(`${r.cache_write_tokens} cache write`);
  return `${kinds.join(', ')} tokens`;
}

function requestItem(r: ModelRequestRow): TimelineItem {
  const tokens = r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens;
  const words = [
    r.model ?? 'model request',
    r.status === 429
      ? 'rate limited (429)'
      : r.status !== null && r.status >= 400
        ? `status ${r.status}`
        : null,
    r.error ?? null,
    // Every kind its cost counts: without the cache reads, the figures would not add up to it.
    tokens > 0 ? tokenWords(r) : null,
    r.cost_usd !== null && r.cost_usd > 0 ? `$${r.cost_usd.toFixed(4)}` : null,
  ].filter((w) => w !== null);
  return item(
    'model',
    r.started_at,
    words.join(', '),
    {
      model: r.model,
      status: r.status,
      input_tokens: r.input_tokens,
      output_tokens: r.output_tokens,
      cache_read_tokens: r.cache_read_tokens,
      cache_write_tokens: r.cache_write_tokens,
      cost_usd: r.cost_usd,
      error: r.error,
    },
    Math.max(r.started_at, r.ended_at),
  );
}

/** Commits of the run's worktree evidence made while it ran (earlier attempts' are older). */
function commitItems(run: Run, to: EpochMs): TimelineItem[] {
  const list = run.evidence?.commit_list ?? [];
  return list
    .filter((c) => c.at !== undefined && c.at >= run.started_at - 1000 && c.at <= to)
    .map((c) =>
      item('commit', c.at ?? to, `commit ${c.sha.slice(0, 10)} ${c.subject}`, {
        sha: c.sha,
        subject: c.subject,
      }),
    );
}

/** The ending's signals, placed from the phases' offsets after the fence. */
function signalItems(run: Run): TimelineItem[] {
  const phases = run.reason?.phases;
  if (!phases || run.ending_at === null) return [];
  const base = run.ending_at;
  const pg = { pid: phases.pid, pgid: phases.pgid };
  const out: TimelineItem[] = [];
  if (phases.term_at_ms !== undefined)
    out.push(
      item('signal', base + phases.term_at_ms, `SIGTERM to process group ${phases.pgid}`, {
        signal: 'SIGTERM',
        grace_ms: phases.grace_ms,
        ...pg,
      }),
    );
  if (phases.kill_at_ms !== undefined)
    out.push(
      item(
        'signal',
        base + phases.kill_at_ms,
        `SIGKILL to process group ${phases.pgid}${phases.term_ignored ? ' (SIGTERM ignored)' : ''}`,
        { signal: 'SIGKILL', ...pg },
      ),
    );
  if (phases.empty_at_ms !== undefined)
    out.push(item('signal', base + phases.empty_at_ms, 'process group verified gone', pg));
  if (phases.held_at_ms !== undefined)
    out.push(
      item('signal', base + phases.held_at_ms, 'process group survived SIGKILL: task held', pg),
    );
  return out;
}

function num(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

function eventItem(e: WardenEvent): TimelineItem | null {
  if (DRAWN_ELSEWHERE.has(e.kind)) return null;
  const p = e.payload;
  switch (e.kind) {
    case 'stall_warning': {
      const silent = num(p.silent_ms);
      return item(
        'stall_warning',
        e.at,
        `silent for ${silent === null ? '?' : formatDuration(silent)}`,
        { silent_ms: silent, stall_timeout: num(p.stall_timeout) },
      );
    }
    case 'run_ending':
      return item(
        'ending',
        e.at,
        `${typeof p.outcome === 'string' ? p.outcome : ''}${typeof p.message === 'string' ? `: ${p.message}` : ''}`,
        { outcome: typeof p.outcome === 'string' ? p.outcome : null, by: e.actor },
      );
    default:
      return item(
        'other',
        e.at,
        `${e.kind.replaceAll('_', ' ')}${typeof p.message === 'string' ? `: ${p.message}` : ''}`,
        { event: e.kind, by: e.actor },
      );
  }
}

/** The last time of each kind of sign of life before `to`, for the one-line why. */
function lastSigns(items: readonly TimelineItem[], to: EpochMs): string {
  const last = (kind: TimelineKind, end = false): string | null => {
    const times = items.filter((i) => i.kind === kind).map((i) => (end ? (i.until ?? i.at) : i.at));
    if (times.length === 0) return null;
    return `${formatDuration(Math.max(0, to - Math.max(...times)))} before`;
  };
  const signs = [
    ['output', last('output', true)],
    ['progress call', last('progress')],
    ['model request', last('model', true)],
    ['commit', last('commit')],
  ].filter((s): s is [string, string] => s[1] !== null);
  if (signs.length === 0) return 'no output, progress call, model request or commit seen';
  return `last ${signs.map(([what, when]) => `${what} ${when}`).join(', ')}`;
}

/** Builds the run's timeline, oldest first; spans sort by their start. */
export function buildTimeline(facts: TimelineFacts, now: EpochMs): RunTimeline {
  const { run } = facts;
  const to = run.ended_at ?? Math.max(now, run.started_at);
  const items: TimelineItem[] = [
    item(
      'start',
      run.started_at,
      `attempt ${run.attempt} on ${run.host_id ?? run.worker_id ?? 'a pull worker'}${run.process ? `, pid ${run.process.pid}` : ''}`,
      {
        attempt: run.attempt,
        host: run.host_id,
        worker: run.worker_id,
        profile: run.profile,
        pid: run.process?.pid ?? null,
      },
    ),
    ...activityItems(run, facts.activity),
    ...facts.requests.map(requestItem),
    ...commitItems(run, to),
    ...facts.events.map(eventItem).filter((i) => i !== null),
    ...signalItems(run),
  ];
  if (run.ended_at !== null) {
    items.push(
      item('end', run.ended_at, `${run.outcome ?? ''}: ${run.reason?.message ?? ''}`, {
        outcome: run.outcome,
        rule: run.reason?.rule ?? null,
        exit_code: run.exit_code,
        signal: run.signal,
      }),
    );
  }
  items.sort((a, b) => a.at - b.at || order(a.kind) - order(b.kind));
  const why =
    run.ended_at === null
      ? null
      : `${run.outcome ?? 'ended'} after ${formatDuration(run.ended_at - run.started_at)}: ${run.reason?.message ?? 'no reason recorded'}; ${lastSigns(items, run.ending_at ?? run.ended_at)}`;
  return {
    run_id: run.id,
    task_id: run.task_id,
    attempt: run.attempt,
    state: run.state,
    outcome: run.outcome,
    from: run.started_at,
    to,
    why,
    items,
    cut: facts.cut,
  };
}

/** Same-time items in the order things happen: start first, end last. */
function order(kind: TimelineKind): number {
  return Object.values(TimelineKind).indexOf(kind);
}
