import { formatDuration } from './duration.js';
import type { EndingPhases } from './ending.js';
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
    const phases = run.reason?.phases;
    const held =
      phases?.held_at_ms !== undefined
        ? `; held: ${phases.escaped ? 'a process of the run' : 'its process group'} survived SIGKILL, so the task keeps it and nothing starts beside it`
        : '';
    return `${head}: ${run.state} for ${age}, ${progress}${held}`;
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
  const lastLine = run.reason?.last_output ?? run.log_tail?.trim().split('\n').at(-1)?.trim() ?? '';
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
