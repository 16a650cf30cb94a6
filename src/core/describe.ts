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
