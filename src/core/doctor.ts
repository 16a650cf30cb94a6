import { blockedBy } from './admission.js';
import type { Caps, Load } from './admission.js';
import { describeLlmState, usageShort } from './describe.js';
import { formatDuration } from './duration.js';
import { budgetFlag } from './inbox.js';
import type { EpochMs, TaskId } from './glossary.js';
import type { Policy } from './policy.js';
import type { Profile } from './profile.js';
import type { Run } from './run.js';
import { holdsChildren } from './status.js';
import type { Task } from './task.js';
import { pauseReason } from './inbox.js';

/** What `doctor` knows about the home when it explains one task. */
export interface DoctorFacts {
  now: EpochMs;
  /** A live `serve` holds the home (its dispatcher runs). */
  dispatcherRunning: boolean;
  /** That serve's host. */
  serveHost: string | null;
  /** Several hosts: the hosts whose serve watches its own runs now (`watchingHostIds`). */
  watching: ReadonlySet<string> | null;
  boardPaused: boolean;
  profiles: ReadonlyMap<string, Profile>;
  groupCooldowns: ReadonlyMap<string, EpochMs>;
  caps: Caps;
  load: Load;
  /** Parents' statuses, by id. */
  parentStatus: ReadonlyMap<number, string>;
  /**
   * The blocked task that holds a `todo` task, through its parents or theirs (issue #15), by
   * the todo task's id; absent when nothing blocked holds it.
   */
  heldBy?: ReadonlyMap<TaskId, Task>;
}

/** The current run of a running task, as `doctor` sees it. */
export interface RunFacts {
  run: Run;
  policy: Policy;
  /** Whether its process is alive; null when it cannot be checked from here. */
  alive: boolean | null;
  /**
   * The runs folder of the other home its worker was started from, when this home's database
   * is a copy of that home's (a backup restored here): never this home's to watch.
   */
  otherHome?: string;
  /** The report its worker kept in its folder while serve did not answer, not yet booked. */
  keptReport?: string;
}

/** A running task's figures, as fields (`doctor --json`). */
export interface RunFigures {
  run_id: number;
  attempt: number;
  host: string | null;
  pid: number | null;
  /** Whether its process is alive; null when it cannot be checked from here. */
  alive: boolean | null;
  state: string;
  running_for_ms: number;
  silent_for_ms: number;
  last_progress_at: EpochMs | null;
  last_output_at: EpochMs | null;
  last_heartbeat_at: EpochMs | null;
  /** Each limit in force and when it fires (null: it will not, or it already did). */
  limits: {
    stall_warn_after_ms: number;
    warned_at: EpochMs | null;
    warns_at: EpochMs | null;
    stall_timeout_ms: number;
    stalls_at: EpochMs;
    max_runtime_ms: number;
    times_out_at: EpochMs | null;
  };
}

/** What holds a task, in words that do not name it, and what clears it. */
export interface Hold {
  /** A stable code: `running`, `no_assignee`, `profile_paused`, `question`, ... */
  code: string;
  /** What holds it, the same words for every task held the same way. */
  why: string;
  /** Said of many tasks at once ("have no assignee"); `why` otherwise. */
  many?: string;
  /** The command that clears it for this task, or null when nothing needs doing. */
  action: string | null;
  /** The same command for any task held this way (`ID` for the task's id). */
  action_for_any: string | null;
}

/** One task's diagnosis: the sentence, and the figures behind it as fields. */
export interface Diagnosis {
  task_id: TaskId;
  status: string;
  title: string;
  code: string;
  /** The whole explanation in plain words, ending with what clears it. */
  explanation: string;
  /** The command that clears it, or null when nothing needs doing. */
  next_action: string | null;
  /** Tasks with the same key are held the same way and cleared the same way. */
  group: string;
  run: RunFigures | null;
  hold: Hold;
}

function ago(now: EpochMs, at: EpochMs | null): string {
  return at === null ? 'never' : `${formatDuration(Math.max(0, now - at))} ago`;
}

function inTime(now: EpochMs, at: EpochMs): string {
  return at <= now ? 'now' : `in ${formatDuration(at - now)}`;
}

function hold(
  code: string,
  why: string,
  action: string | null,
  anyTask: string | null = action,
  many?: string,
): Hold {
  return { code, why, action, action_for_any: anyTask, ...(many !== undefined ? { many } : {}) };
}

/** A running task's figures: liveness, silence, and each limit with when it fires. */
export function runFigures(f: RunFacts, now: EpochMs): RunFigures {
  const { run, policy } = f;
  const base = run.last_progress_at ?? run.started_at;
  return {
    run_id: run.id,
    attempt: run.attempt,
    host: run.host_id ?? run.worker_id ?? null,
    pid: run.process?.pid ?? null,
    alive: f.alive,
    state: run.state,
    // Clamped: with several hosts a run's times are its host's clock, which may run ahead of
    // this one (a trial's doctor printed "running -274ms").
    running_for_ms: Math.max(0, now - run.started_at),
    silent_for_ms: Math.max(0, now - base),
    last_progress_at: run.last_progress_at,
    last_output_at: run.last_output_at,
    last_heartbeat_at: run.last_heartbeat_at,
    limits: {
      stall_warn_after_ms: policy.stall_warn_after,
      warned_at: run.stall_warned_at,
      warns_at: run.stall_warned_at === null ? base + policy.stall_warn_after : null,
      stall_timeout_ms: policy.stall_timeout,
      stalls_at: base + policy.stall_timeout,
      max_runtime_ms: policy.max_runtime,
      times_out_at: policy.max_runtime > 0 ? run.started_at + policy.max_runtime : null,
    },
  };
}

function runHead(task: Task, run: Run): string {
  return `task ${task.id} "${task.title}": attempt ${run.attempt} on ${run.host_id ?? run.worker_id ?? '?'}${run.process ? `, pid ${run.process.pid}` : ''}`;
}

/** A running task in plain words: alive or not, silent for how long, what happens next and when. */
export function diagnoseRun(
  task: Task,
  f: RunFacts,
  now: EpochMs,
  dispatcherRunning: boolean,
): Diagnosis {
  const { run, policy } = f;
  const figures = runFigures(f, now);
  const head = runHead(task, run);
  const done = (h: Hold, text: string): Diagnosis =>
    diagnosis(task, h, h.action === null ? text : `${text}; ${h.action}`, figures);
  if (run.state === 'ending') {
    // Clamped: the ending's time is the store's clock, another host's with several hosts.
    const since =
      run.ending_at === null ? '' : ` for ${formatDuration(Math.max(0, now - run.ending_at))}`;
    const phases = run.reason?.phases;
    if (phases?.held_at_ms !== undefined) {
      const where = run.host_id === null ? '' : ` on host ${run.host_id}`;
      const kill = `kill it by hand, as root${where}: \`sudo kill -KILL -- -${phases.pgid}\``;
      return done(
        hold('kill_failed', 'its processes survived SIGKILL', kill),
        `${head}: ending (${run.outcome ?? '?'})${since}; its process group ${phases.pgid} survived SIGKILL, so the task stays held (kill_failed) and SIGKILL is sent again every tick`,
      );
    }
    return done(
      hold('ending', 'ending', null),
      `${head}: ending (${run.outcome ?? '?'})${since}; waiting for its processes to exit, then the task is released`,
    );
  }
  if (f.otherHome !== undefined) {
    const at = dispatcherRunning ? 'on its next tick' : 'when it starts';
    return done(
      hold('other_home', 'started from another home', null),
      `${head}: started from another home (its log is in ${f.otherHome}), whose database this one is a copy of: if it still runs it belongs there; serve here does not watch or signal it, and ends the run host_lost ${at}`,
    );
  }
  const alive =
    f.alive === null ? 'liveness not checkable from here' : f.alive ? 'alive' : 'NOT alive';
  const parts = [
    `${alive}, running ${formatDuration(figures.running_for_ms)}`,
    `last progress ${ago(now, run.last_progress_at)}, last output ${ago(now, run.last_output_at)}, last heartbeat ${ago(now, run.last_heartbeat_at)}`,
  ];
  if (run.llm.requests > 0 && run.llm.state === null)
    parts.push(`model so far: ${usageShort(run.llm)}`);
  // A trial's doctor, serve down, said nothing of the complete waiting in the run's folder.
  if (f.keptReport !== undefined)
    parts.push(
      `its worker's ${f.keptReport.replaceAll('_', '-')} report is kept in its folder, and serve books it ${dispatcherRunning ? 'at its next look' : 'once it is back'}`,
    );
  if (f.alive === false) {
    const h = dispatcherRunning
      ? hold('exited', 'its process is gone', null)
      : hold(
          'exited',
          'its process is gone',
          'no serve is running to book it; start `warden serve`',
        );
    if (dispatcherRunning) parts.push('serve will book its exit on the next tick');
    return done(h, `${head}: ${parts.join('; ')}`);
  }
  const limits = figures.limits;
  // Model traffic is progress the worker does not print: say what it is doing, not "silent".
  const activity =
    describeLlmState(run.llm, now) ?? `silent ${formatDuration(figures.silent_for_ms)}`;
  parts.push(
    limits.warns_at === null
      ? `${activity}; warned at ${formatDuration(policy.stall_warn_after)}`
      : `${activity}; warns at ${formatDuration(policy.stall_warn_after)} (${inTime(now, limits.warns_at)})`,
  );
  parts.push(
    `stalls at ${formatDuration(policy.stall_timeout)} of silence (${inTime(now, limits.stalls_at)})`,
  );
  parts.push(
    limits.times_out_at !== null
      ? `max runtime ${formatDuration(policy.max_runtime)} (${inTime(now, limits.times_out_at)})`
      : 'no max runtime',
  );
  let h: Hold = hold('running', 'running', null);
  if (!dispatcherRunning) {
    // Named by its host: with several hosts another host's serve may run, but only the run's
    // own host watches its processes.
    const on = run.host_id === null ? '' : ` on host ${run.host_id}`;
    parts.push(`no serve is running${on}: nothing watches it now`);
    h = hold('unwatched', 'nothing watches it', `start \`warden serve\`${on}`);
  } else if (limits.warned_at !== null) {
    h = hold(
      'stall_warned',
      'silent past its warning',
      `to end it sooner: \`warden stop ${task.id}\``,
      'to end it sooner: `warden stop ID`',
    );
  }
  return done(h, `${head}: ${parts.join('; ')}`);
}

/** A running task in plain words (the sentence of `diagnoseRun`). */
export function explainRun(
  task: Task,
  f: RunFacts,
  now: EpochMs,
  dispatcherRunning: boolean,
): string {
  return diagnoseRun(task, f, now, dispatcherRunning).explanation;
}

function diagnosis(task: Task, h: Hold, explanation: string, run: RunFigures | null): Diagnosis {
  return {
    task_id: task.id,
    status: task.status,
    title: task.title,
    code: h.code,
    explanation,
    next_action: h.action,
    // A running task's figures are its own: it is never one of a group.
    group:
      run === null
        ? [task.status, h.code, h.why, h.action_for_any ?? ''].join('\u0000')
        : `run\u0000${task.id}`,
    run,
    hold: h,
  };
}

/** Why a task that is not running is where it is, and the command that would move it. */
export function diagnoseWaiting(task: Task, f: DoctorFacts): Diagnosis {
  const h = waitingHold(task, f);
  const head = `task ${task.id} "${task.title}" is ${task.status}`;
  const text = h.action === null ? `${head}: ${h.why}` : `${head}: ${h.why}; ${h.action}`;
  return diagnosis(task, h, text, null);
}

/** Why a task that is not running is where it is (the sentence of `diagnoseWaiting`). */
export function explainWaiting(task: Task, f: DoctorFacts): string {
  return diagnoseWaiting(task, f).explanation;
}

function waitingHold(task: Task, f: DoctorFacts): Hold {
  const id = task.id;
  switch (task.status) {
    case 'triage':
      return hold(
        'triage',
        'waiting for a person to accept it',
        `\`warden accept ${id}\``,
        '`warden accept ID`',
        'wait for a person to accept them',
      );
    case 'todo':
      return todoHold(task, f);
    case 'blocked':
      return blockedHold(task, f.now);
    case 'review':
      return hold(
        'review',
        'waiting for a person to review',
        `\`warden approve ${id}\` or \`warden request-changes ${id} --reason TEXT\``,
        '`warden approve ID` or `warden request-changes ID --reason TEXT`',
        'wait for a person to review them',
      );
    case 'done':
    case 'archived':
    case 'running':
      return hold(task.status, task.status, null);
    case 'ready':
      return readyHold(task, f);
  }
}

function todoHold(task: Task, f: DoctorFacts): Hold {
  const waiting = task.parents.filter((p) => holdsChildren(f.parentStatus.get(p) ?? '?'));
  const parents = `waiting for parent${waiting.length === 1 ? '' : 's'} ${waiting
    .map((p) => `${p} (${f.parentStatus.get(p) ?? '?'})`)
    .join(', ')}`;
  const blocker = f.heldBy?.get(task.id);
  if (blocker === undefined) return hold('parents', parents, null);
  const b = blockedHold(blocker, f.now);
  const why = `held by blocked task ${blocker.id} "${blocker.title}" (${blocker.block_kind ?? '?'}: ${blocker.block_reason ?? 'no reason'})`;
  return hold(
    'held_by_blocked',
    waiting.includes(blocker.id) ? `${parents}; ${why}` : `${parents}, ${why}`,
    b.action === null ? null : `clear task ${blocker.id}: ${b.action}`,
    b.action === null ? null : `clear task ${blocker.id}: ${b.action}`,
    `are ${why}`,
  );
}

/** What clears a block, by its kind (issue #14, docs/cli.md "Block kinds"). */
function blockedHold(task: Task, now: number): Hold {
  const id = task.id;
  const rule = task.block_rule ?? 'person';
  const kind = task.block_kind ?? '?';
  const why = `(${rule === kind ? rule : `${rule}, ${kind}`}) ${task.block_reason ?? 'no reason'}`;
  if (task.block_rule === 'question')
    return hold(
      'question',
      why,
      `answer it: \`warden answer ${id} TEXT\``,
      'answer it: `warden answer ID TEXT`',
    );
  switch (task.block_kind) {
    case 'failed':
      return hold(
        'failed',
        why,
        `warden gave up; fix the cause, then \`warden retry ${id}\``,
        'warden gave up; fix the cause, then `warden retry ID`',
      );
    case 'budget': {
      const edit = `\`warden profile edit ${task.assignee ?? 'PROFILE'} ${budgetFlag(task.block_reason) ?? '--max-...'}\``;
      return hold(
        'budget',
        why,
        `raise the profile's budget (${edit}), then \`warden unblock ${id}\``,
        `raise the profile's budget (${edit}), then \`warden unblock ID\``,
      );
    }
    case 'transient': {
      const when =
        task.not_before !== null && task.not_before > now
          ? `it clears itself ${inTime(now, task.not_before)} (counted as a failure)`
          : `it clears itself at the next tick (counted as a failure)`;
      return hold('transient', `${why}; ${when}`, null);
    }
    default:
      return hold(
        'blocked',
        why,
        `\`warden unblock ${id}\` or \`warden retry ${id}\` when it is fixed`,
        '`warden unblock ID` or `warden retry ID` when it is fixed',
      );
  }
}

function readyHold(task: Task, f: DoctorFacts): Hold {
  const id = task.id;
  if (task.approval.required && task.approval.at === null) {
    return hold(
      'approval',
      "waiting for a person's approval",
      `\`warden approve ${id}\``,
      '`warden approve ID`',
      "wait for a person's approval",
    );
  }
  if (task.not_before !== null && task.not_before > f.now) {
    return hold(
      'waiting_until',
      `waiting until ${new Date(task.not_before).toISOString()} (${inTime(f.now, task.not_before)}), a backoff or cooldown; it starts then by itself`,
      null,
    );
  }
  if (task.assignee === null)
    return hold(
      'no_assignee',
      'nobody is assigned',
      `\`warden edit ${id} --assignee PROFILE\``,
      '`warden edit ID --assignee PROFILE`',
      'have no assignee',
    );
  const profile = f.profiles.get(task.assignee);
  if (!profile)
    return hold(
      'profile_missing',
      `its profile '${task.assignee}' does not exist`,
      `add it (\`warden profile add ${task.assignee} -- COMMAND\`) or \`warden edit ${id} --assignee PROFILE\``,
      `add it (\`warden profile add ${task.assignee} -- COMMAND\`) or \`warden edit ID --assignee PROFILE\``,
      `are assigned to profile '${task.assignee}', which does not exist`,
    );
  if (profile.paused) {
    const probe =
      profile.breaker.probe_at !== null
        ? `; a probe run is due ${inTime(f.now, profile.breaker.probe_at)}`
        : '';
    const resume = `\`warden profile resume ${profile.name}\``;
    return hold(
      'profile_paused',
      `profile ${profile.name} is paused (${profile.paused_by ?? 'person'}): ${pauseReason(profile.paused_by, profile.paused_reason) ?? ''}${probe}`,
      resume,
      resume,
      `wait for profile ${profile.name}, which is paused (${profile.paused_by ?? 'person'}): ${pauseReason(profile.paused_by, profile.paused_reason) ?? ''}${probe}`,
    );
  }
  if (f.boardPaused) {
    const resume = `\`warden board resume ${task.board}\``;
    return hold(
      'board_paused',
      `board ${task.board} is paused`,
      resume,
      resume,
      `wait for board ${task.board}, which is paused`,
    );
  }
  const group = profile.concurrency_group;
  const cooldown = group === null ? undefined : f.groupCooldowns.get(group);
  if (group !== null && cooldown !== undefined && cooldown > f.now) {
    return hold(
      'cooldown',
      `group ${group} is cooling down after a rate limit (${inTime(f.now, cooldown)}); they start then by themselves`,
      null,
    );
  }
  if (!f.dispatcherRunning) {
    return hold(
      'no_dispatcher',
      'no dispatcher is running for this home',
      'start `warden serve`',
      'start `warden serve`',
      'wait for a dispatcher; none is running for this home',
    );
  }
  const full = blockedBy({ taskId: id, profile: profile.name, group }, f.load, f.caps);
  if (full !== null) {
    const more = full.startsWith('host')
      ? '`warden serve --max-workers N`'
      : full.startsWith('profile')
        ? `\`warden profile edit ${profile.name} --max-concurrency N\``
        : `\`warden group set ${group ?? 'GROUP'} --max-concurrency N\``;
    const action = `it starts when a slot frees; for more slots: ${more}`;
    return hold('cap_full', full, action, action, `wait for a slot: ${full}`);
  }
  return hold('next_pass', 'it should start on the next dispatch pass', null);
}
