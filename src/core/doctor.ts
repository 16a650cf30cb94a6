import { blockedBy } from './admission.js';
import type { Caps, Load } from './admission.js';
import { describeLlmState, usageShort } from './describe.js';
import { formatDuration } from './duration.js';
import type { EpochMs } from './glossary.js';
import type { Policy } from './policy.js';
import type { Profile } from './profile.js';
import type { Run } from './run.js';
import type { Task } from './task.js';

/** What `doctor` knows about the home when it explains one task. */
export interface DoctorFacts {
  now: EpochMs;
  /** A live `serve` holds the home (its dispatcher runs). */
  dispatcherRunning: boolean;
  boardPaused: boolean;
  profiles: ReadonlyMap<string, Profile>;
  groupCooldowns: ReadonlyMap<string, EpochMs>;
  caps: Caps;
  load: Load;
  /** Parents' statuses, by id. */
  parentStatus: ReadonlyMap<number, string>;
}

/** The current run of a running task, as `doctor` sees it. */
export interface RunFacts {
  run: Run;
  policy: Policy;
  /** Whether its process is alive; null when it cannot be checked from here. */
  alive: boolean | null;
}

function ago(now: EpochMs, at: EpochMs | null): string {
  return at === null ? 'never' : `${formatDuration(Math.max(0, now - at))} ago`;
}

function inTime(now: EpochMs, at: EpochMs): string {
  return at <= now ? 'now' : `in ${formatDuration(at - now)}`;
}

/** A running task in plain words: alive or not, silent for how long, what happens next and when. */
export function explainRun(
  task: Task,
  f: RunFacts,
  now: EpochMs,
  dispatcherRunning: boolean,
): string {
  const { run, policy } = f;
  const head = `task ${task.id} "${task.title}": attempt ${run.attempt} on ${run.host_id ?? run.worker_id ?? '?'}${run.process ? `, pid ${run.process.pid}` : ''}`;
  if (run.state === 'ending') {
    const since = run.ending_at === null ? '' : ` for ${formatDuration(now - run.ending_at)}`;
    return `${head}: ending (${run.outcome ?? '?'})${since}; waiting for its processes to exit, then the task is released`;
  }
  const base = run.last_progress_at ?? run.started_at;
  const silent = now - base;
  const alive =
    f.alive === null ? 'liveness not checkable from here' : f.alive ? 'alive' : 'NOT alive';
  const parts = [
    `${alive}, running ${formatDuration(now - run.started_at)}`,
    `last progress ${ago(now, run.last_progress_at)}, last output ${ago(now, run.last_output_at)}, last heartbeat ${ago(now, run.last_heartbeat_at)}`,
  ];
  if (run.llm.requests > 0 && run.llm.state === null)
    parts.push(`model so far: ${usageShort(run.llm)}`);
  if (f.alive === false) {
    parts.push(
      dispatcherRunning
        ? 'serve will book its exit on the next tick'
        : 'no serve is running to book it; start `warden serve`',
    );
    return `${head}: ${parts.join('; ')}`;
  }
  const warnAt = base + policy.stall_warn_after;
  const stallAt = base + policy.stall_timeout;
  // Model traffic is progress the worker does not print: say what it is doing, not "silent".
  const activity = describeLlmState(run.llm, now) ?? `silent ${formatDuration(silent)}`;
  parts.push(
    run.stall_warned_at !== null
      ? `${activity}; warned at ${formatDuration(policy.stall_warn_after)}`
      : `${activity}; warns at ${formatDuration(policy.stall_warn_after)} (${inTime(now, warnAt)})`,
  );
  parts.push(
    `stalls at ${formatDuration(policy.stall_timeout)} of silence (${inTime(now, stallAt)})`,
  );
  parts.push(
    policy.max_runtime > 0
      ? `max runtime ${formatDuration(policy.max_runtime)} (${inTime(now, run.started_at + policy.max_runtime)})`
      : 'no max runtime',
  );
  if (!dispatcherRunning) parts.push('no serve is running: nothing watches it now');
  return `${head}: ${parts.join('; ')}`;
}

/** Why a task that is not running is where it is, and what would move it. */
export function explainWaiting(task: Task, f: DoctorFacts): string {
  const head = `task ${task.id} "${task.title}" is ${task.status}`;
  switch (task.status) {
    case 'triage':
      return `${head}: waiting for a person to accept it (\`warden accept ${task.id}\`)`;
    case 'todo': {
      const waiting = task.parents.filter((p) => f.parentStatus.get(p) !== 'done');
      return `${head}: waiting for parent${waiting.length === 1 ? '' : 's'} ${waiting
        .map((p) => `${p} (${f.parentStatus.get(p) ?? '?'})`)
        .join(', ')}`;
    }
    case 'blocked':
      return `${head} (${task.block_rule ?? 'person'}, ${task.block_kind ?? '?'}): ${task.block_reason ?? 'no reason'}; ${unblockHint(task, f.now)}`;
    case 'review':
      return `${head}: waiting for a person to review (\`warden approve ${task.id}\` or \`warden request-changes ${task.id} --reason TEXT\`)`;
    case 'done':
    case 'archived':
    case 'running':
      return head;
    case 'ready':
      return `${head}: ${whyNotStarted(task, f)}`;
  }
}

/** What clears a block, by its kind (issue #14, docs/cli.md "Block kinds"). */
function unblockHint(task: Task, now: number): string {
  const id = task.id;
  if (task.block_rule === 'question') return `answer it: \`warden answer ${id} TEXT\``;
  switch (task.block_kind) {
    case 'failed':
      return `warden gave up; fix the cause, then \`warden retry ${id}\``;
    case 'budget':
      return `raise the profile's budget (\`warden profile edit ${task.assignee ?? 'PROFILE'} --max-...\`), then \`warden unblock ${id}\``;
    case 'transient':
      return task.not_before !== null && task.not_before > now
        ? `it clears itself ${inTime(now, task.not_before)} (counted as a failure)`
        : `it clears itself at the next tick (counted as a failure)`;
    default:
      return `\`warden unblock ${id}\` or \`warden retry ${id}\` when it is fixed`;
  }
}

function whyNotStarted(task: Task, f: DoctorFacts): string {
  if (task.approval.required && task.approval.at === null) {
    return `waiting for a person's approval: \`warden approve ${task.id}\``;
  }
  if (task.not_before !== null && task.not_before > f.now) {
    return `waiting until ${new Date(task.not_before).toISOString()} (${inTime(f.now, task.not_before)}), a backoff or cooldown`;
  }
  if (task.assignee === null)
    return `nobody is assigned; \`warden edit ${task.id} --assignee PROFILE\``;
  const profile = f.profiles.get(task.assignee);
  if (!profile) return `its profile '${task.assignee}' does not exist; add it or reassign the task`;
  if (profile.paused) {
    return `profile ${profile.name} is paused (${profile.paused_by ?? 'person'}): ${profile.paused_reason ?? ''}${
      profile.breaker.probe_at !== null
        ? `; a probe run is due ${inTime(f.now, profile.breaker.probe_at)}`
        : ''
    }`;
  }
  if (f.boardPaused) return `board ${task.board} is paused`;
  const group = profile.concurrency_group;
  const cooldown = group === null ? undefined : f.groupCooldowns.get(group);
  if (group !== null && cooldown !== undefined && cooldown > f.now) {
    return `group ${group} is cooling down after a rate limit (${inTime(f.now, cooldown)})`;
  }
  if (!f.dispatcherRunning) return 'no dispatcher is running for this home; start `warden serve`';
  const full = blockedBy({ taskId: task.id, profile: profile.name, group }, f.load, f.caps);
  if (full !== null) return `${full}; it starts when a slot frees`;
  return 'it should start on the next dispatch pass';
}
