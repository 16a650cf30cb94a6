import { formatDuration } from './duration.js';
import type { EpochMs } from './glossary.js';
import type { Run } from './run.js';
import type { Task } from './task.js';

/** A run's ending in plain words, with the numbers behind it (SPEC §3 "Diagnosis"). */
export function describeRun(run: Run, now: EpochMs): string {
  const head = `attempt ${run.attempt}`;
  if (run.state !== 'ended') {
    const age = formatDuration(now - run.started_at);
    const progress =
      run.last_progress_at === null
        ? 'no progress yet'
        : `last progress ${formatDuration(now - run.last_progress_at)} ago`;
    return `${head}: ${run.state} for ${age}, ${progress}`;
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
  const lastLine = run.log_tail?.trim().split('\n').at(-1)?.trim() ?? '';
  const evidence =
    run.outcome !== 'completed' && lastLine !== ''
      ? `; last output: "${lastLine.slice(0, 200)}"`
      : '';
  return `${head}: ${run.outcome ?? 'ended'}${lasted}${exit}${reason}${evidence}`;
}

/** What a card says beside its status: a delay, a block reason or a result. */
export function describeTaskState(task: Task, now: EpochMs): string {
  if (task.status === 'blocked') {
    return `blocked (${task.block_kind ?? 'unknown'}): ${task.block_reason ?? 'no reason given'}`;
  }
  if (task.status === 'ready' && task.not_before !== null && task.not_before > now) {
    return `waiting until ${new Date(task.not_before).toISOString()} (in ${formatDuration(task.not_before - now)})`;
  }
  if (task.status === 'todo' && task.parents.length > 0) {
    return `waiting for parents ${task.parents.join(', ')}`;
  }
  return '';
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
  return parts.join('; ');
}
