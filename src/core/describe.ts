import { formatDuration } from './duration.js';
import type { EndingPhases } from './ending.js';
import type { EpochMs } from './glossary.js';
import type { Profile } from './profile.js';
import { NO_TOKENS, addTokens, formatCost, formatTokens, totalTokens } from './llm.js';
import type { LlmState, RunLlm, TokenUsage } from './llm.js';
import type { Run } from './run.js';
import { holdsChildren } from './status.js';
import type { Task } from './task.js';
import { lastLine } from './reasons.js';

/** A run's ending in plain words, with the numbers behind it (SPEC §3 "Diagnosis"). */
export function describeRun(run: Run, now: EpochMs): string {
  const head = `attempt ${run.attempt}`;
  if (run.state !== 'ended') {
    // Clamped: another host's clock may run a little ahead of this one.
    const age = formatDuration(Math.max(0, now - run.started_at));
    const progress =
      run.last_progress_at === null
        ? 'no progress yet'
        : `last progress ${formatDuration(Math.max(0, now - run.last_progress_at))} ago`;
    const phases = run.reason?.phases;
    const held =
      phases?.held_at_ms !== undefined
        ? `; held: ${phases.escaped ? 'a process of the run' : 'its process group'} survived SIGKILL, so the task keeps it and nothing starts beside it`
        : '';
    const model = runModelText(run, now);
    // An ending is timed from when it began, with how long the run had gone by then.
    const state =
      run.state === 'ending' && run.ending_at !== null
        ? `ending for ${formatDuration(Math.max(0, now - run.ending_at))} (after ${formatDuration(Math.max(0, run.ending_at - run.started_at))} of running)`
        : `${run.state} for ${age}`;
    return `${head}: ${state}, ${progress}${model}${held}`;
  }
  const lasted =
    run.ended_at === null ? '' : ` after ${formatDuration(run.ended_at - run.started_at)}`;
  const reason = run.reason?.message ? ` — ${run.reason.message}` : '';
  const exit =
    run.exit_code !== null
      ? ` (exit code ${run.exit_code})`
      : run.signal !== null
        ? ` (signal ${run.signal})`
        : '';
  const last = run.reason?.last_output ?? lastLine(run.log_tail) ?? '';
  const evidence =
    run.outcome !== 'completed' && last !== '' ? `; last output: "${last.slice(0, 200)}"` : '';
  const model = runModelText(run, now);
  return `${head}: ${run.outcome ?? 'ended'}${lasted}${exit}${model}${reason}${evidence}`;
}

/** `; model 14k tokens, USD 0.42` or `; model streaming for 40s, 14k tokens`; empty without traffic. */
function runModelText(run: Run, now: EpochMs): string {
  const activity = run.state === 'ended' ? null : describeLlmState(run.llm, now);
  const failed = modelErrorsText(run.llm);
  if (activity !== null) return `; ${activity}${failed}`;
  return run.llm.requests > 0 ? `; model ${usageShort(run.llm)}${failed}` : '';
}

/**
 * `, 3 rate limits, 2 model requests failed (last: the model upstream ... failed: ECONNREFUSED)`,
 * or empty: what the agent's retries hid (its log shows a silent gap).
 */
function modelErrorsText(llm: RunLlm): string {
  const limits =
    llm.rate_limits > 0 ? `, ${llm.rate_limits} rate limit${llm.rate_limits === 1 ? '' : 's'}` : '';
  if (llm.errors === 0 || llm.last_error === null) return limits;
  const last = llm.last_error.length > 160 ? `${llm.last_error.slice(0, 159)}…` : llm.last_error;
  return `${limits}, ${llm.errors} model request${llm.errors === 1 ? '' : 's'} failed (last: ${last})`;
}

/**
 * Why a task waits before its next attempt, as its counters tell it: its last run was rate
 * limited (a cooldown, not a failure), or it has failed (a backoff); nothing for a delay a
 * person or a schedule set. A trial's card and report said only "waiting" for both.
 */
export function delayCause(task: Pick<Task, 'counters'>): string {
  const c = task.counters;
  if (c.rate_limited_streak > 0) return 'rate limited; ';
  if (c.failures > 0) return `failed ${c.failures === 1 ? 'once' : `${c.failures} times`}; `;
  return '';
}

/** What a card says beside its status: a delay, a block reason or a result. */
export function describeTaskState(
  task: Task,
  now: EpochMs,
  /** Parents' statuses where known: a waiting card says what holds it ("held by #8 (blocked)"). */
  statusOf?: (id: number) => string | undefined,
  /** Paused profiles where known: a ready card that nothing will start says why. */
  pausedProfile?: (name: string) => PausedProfile | undefined,
): string {
  if (task.status === 'blocked') {
    const kind = task.block_kind ?? 'unknown';
    const reason = task.block_reason ?? 'no reason given';
    // A question says how to answer it: the one step that clears it.
    if (task.block_rule === 'question')
      return `asks (${kind}): ${reason} — \`warden answer ${task.id} TEXT\``;
    return `blocked (${kind}): ${reason}`;
  }
  const gated = task.approval.required && task.approval.at === null;
  if (gated && (task.status === 'ready' || task.status === 'todo' || task.status === 'triage')) {
    return `waiting for approval: \`warden approve ${task.id}\``;
  }
  if (task.status === 'ready' && task.not_before !== null && task.not_before > now) {
    return `${delayCause(task)}waiting until ${new Date(task.not_before).toISOString()} (in ${formatDuration(task.not_before - now)})`;
  }
  // No profile works an unassigned task: it would wait in `ready` for good, with no word why.
  if (task.status === 'ready' && task.assignee === null) {
    return `nobody is assigned, so nothing starts it: \`warden edit ${task.id} --assignee PROFILE\``;
  }
  const paused =
    task.status === 'ready' && task.assignee ? pausedProfile?.(task.assignee) : undefined;
  if (paused !== undefined) return pausedNote(paused, now);
  if (task.status === 'todo' && task.parents.length > 0) {
    if (statusOf === undefined) return `waiting for parents ${task.parents.join(', ')}`;
    const holding = task.parents
      .map((id) => ({ id, status: statusOf(id) }))
      .filter((p) => holdsChildren(p.status ?? '?'));
    return `held by ${holding.map((p) => `#${p.id} (${p.status ?? '?'})`).join(', ')}`;
  }
  return '';
}

/** What a card needs of its paused profile to say why it does not start. */
export type PausedProfile = Pick<Profile, 'name' | 'paused_by' | 'paused_reason' | 'breaker'>;

/** A ready card held by its paused profile: who paused it, the next probe, and the way out. */
function pausedNote(p: PausedProfile, now: EpochMs): string {
  const by = p.paused_by === 'breaker' ? 'by its breaker' : 'by a person';
  const probe =
    p.paused_by === 'breaker' && p.breaker.probe_at !== null && p.breaker.probe_at > now
      ? `; next probe run in ${formatDuration(p.breaker.probe_at - now)}`
      : '';
  return `held: profile ${p.name} is paused ${by}${probe} — \`warden profile resume ${p.name}\``;
}

function clock(at: EpochMs | null | undefined, now: EpochMs): string {
  return at === null || at === undefined
    ? 'never'
    : `${formatDuration(Math.max(0, now - at))} earlier`;
}

/**
 * The numbers behind a run's ending, in words: the rule, the limits in force, when it last
 * showed progress, output and a heartbeat (relative to the ending), the process, exit code
 * and signal.
 */
export function describeReason(run: Run): string {
  const r = run.reason;
  if (r === null) return '';
  const end = run.ending_at ?? run.ended_at ?? run.started_at;
  const parts = [`rule ${r.rule}`];
  if (r.limits) {
    parts.push(
      `limits ${Object.entries(r.limits)
        .map(([k, v]) => `${k} ${typeof v === 'number' ? formatDuration(v) : v}`)
        .join(', ')}`,
    );
  }
  if (r.last_progress_at !== undefined || r.last_output_at !== undefined) {
    parts.push(
      `before the ending: last progress ${clock(r.last_progress_at, end)}, last output ${clock(r.last_output_at, end)}, last heartbeat ${clock(r.last_heartbeat_at, end)}`,
    );
  }
  const pid = typeof r.extra?.pid === 'number' ? r.extra.pid : run.process?.pid;
  if (pid !== undefined) parts.push(`pid ${pid}`);
  if (r.alive !== undefined) parts.push(r.alive ? 'alive when the ending began' : 'already exited');
  if (r.host !== undefined) parts.push(`host ${r.host}`);
  if (run.exit_code !== null) parts.push(`exit code ${run.exit_code}`);
  if (run.signal !== null) parts.push(`signal ${run.signal}`);
  if (r.phases) parts.push(describePhases(r.phases));
  return parts.join('; ');
}

/** Seconds with one decimal: phases are read to the tenth. */
function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * What the phases of an ending did, in words, e.g. "ignored SIGTERM; SIGKILL after 2s grace;
 * group empty at 5.1s" (times from when the ending began), first naming the processes that had
 * left the group.
 */
export function describePhases(p: EndingPhases): string {
  const parts: string[] = [];
  if (p.escaped && p.escaped.length > 0) {
    const n = p.escaped.length;
    parts.push(
      `${n} process${n === 1 ? '' : 'es'} had left the process group (setsid, a daemon): ${p.escaped.map((e) => `pid ${e.pid} ${e.command}`.trim()).join(', ')}`,
    );
  }
  const what = p.escaped ? 'a process of the run' : 'the group';
  if (p.waited_exit_ms !== undefined)
    parts.push(`waited ${seconds(p.waited_exit_ms)} for the worker to exit by itself`);
  if (p.term_at_ms !== undefined)
    parts.push(p.term_ignored ? 'ignored SIGTERM' : `SIGTERM at ${seconds(p.term_at_ms)}`);
  if (p.kill_at_ms !== undefined)
    parts.push(
      p.term_at_ms !== undefined
        ? `SIGKILL after ${formatDuration(p.grace_ms)} grace`
        : `SIGKILL at ${seconds(p.kill_at_ms)} (no grace)`,
    );
  if (p.empty_at_ms !== undefined)
    parts.push(`${p.escaped ? 'all gone' : 'group empty'} at ${seconds(p.empty_at_ms)}`);
  if (p.held_at_ms !== undefined)
    parts.push(`${what} survived SIGKILL: held since ${seconds(p.held_at_ms)}`);
  return parts.length === 0 ? `process group ${p.pgid}` : parts.join('; ');
}

/** Model usage as summed per run, task, profile, board or day. */
export interface UsageFigures {
  requests: number;
  tokens: TokenUsage;
  cost_usd: number;
  unpriced: number;
}

/** The sum of several usages, such as a task's runs. */
export function sumUsage(items: readonly UsageFigures[]): UsageFigures {
  let sum: UsageFigures = { requests: 0, tokens: NO_TOKENS, cost_usd: 0, unpriced: 0 };
  for (const u of items) {
    sum = {
      requests: sum.requests + u.requests,
      tokens: addTokens(sum.tokens, u.tokens),
      cost_usd: sum.cost_usd + u.cost_usd,
      unpriced: sum.unpriced + u.unpriced,
    };
  }
  return sum;
}

/** The cost of `u` in words: `USD 0.42`, `USD 0.42 + 3 unpriced`, or `cost unknown`. */
export function costText(u: Pick<UsageFigures, 'requests' | 'cost_usd' | 'unpriced'>): string {
  if (u.unpriced === 0) return formatCost(u.cost_usd);
  if (u.unpriced >= u.requests) return 'cost unknown';
  return `${formatCost(u.cost_usd)} + ${u.unpriced} unpriced`;
}

/** `14k tokens, USD 0.42`: a run's usage where room is short (`runs`, cards). */
export function usageShort(u: UsageFigures): string {
  return `${formatTokens(totalTokens(u.tokens))} tokens, ${costText(u)}`;
}

/** `12 requests, 14k tokens (in 9k, out 3k, cache read 2k), USD 0.42`: usage in full. */
export function usageLine(u: UsageFigures): string {
  const t = u.tokens;
  const kinds = [`in ${formatTokens(t.input)}`, `out ${formatTokens(t.output)}`];
  if (t.cache_read > 0) kinds.push(`cache read ${formatTokens(t.cache_read)}`);
  if (t.cache_write > 0) kinds.push(`cache write ${formatTokens(t.cache_write)}`);
  const requests = `${u.requests} request${u.requests === 1 ? '' : 's'}`;
  return `${requests}, ${formatTokens(totalTokens(t))} tokens (${kinds.join(', ')}), ${costText(u)}`;
}

/** Why a cost is missing, when some requests had no price; null when every one had. */
export function unpricedNote(unpriced: number): string | null {
  if (unpriced === 0) return null;
  return `cost unknown for ${unpriced} request${unpriced === 1 ? '' : 's'}: no price for their model; add it to llm_prices in config.json`;
}

const STATE_WORDS: Record<LlmState, string> = {
  streaming: 'model streaming',
  waiting: 'waiting for the model',
  queued: 'queued for the model',
};

/**
 * What a run's model traffic is doing now, where "silent" would mislead: `model streaming for
 * 3m12s, 14k tokens`, `waiting for the model for 40s, ...`, `queued for the model for 2s, ...`.
 * Null when no request is open.
 */
export function describeLlmState(llm: RunLlm, now: EpochMs): string | null {
  if (llm.state === null) return null;
  const since =
    llm.state_since === null ? '' : ` for ${formatDuration(Math.max(0, now - llm.state_since))}`;
  return `${STATE_WORDS[llm.state]}${since}, ${formatTokens(totalTokens(llm.tokens))} tokens`;
}
