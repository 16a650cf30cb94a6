import { gist, oneLine as line } from './gist.js';
import { formatDuration } from './duration.js';
import type { EpochMs, RunId, TaskId } from './glossary.js';
import type { BlockKind } from './status.js';

/**
 * The attention inbox (issue #15): everything that waits for a person, newest first, each
 * with the one command that clears it. Built from facts the store gathers; nothing here
 * reads the store.
 */

/** What kind of thing waits for a person. */
export const InboxKind = {
  /** A worker asked a question (`warden answer`). */
  question: 'question',
  /** A task waits behind an approval gate (`warden approve`). */
  approval: 'approval',
  /** Work handed to review with no reviewer profile: a person reviews. */
  review: 'review',
  /** warden gave up on a task (failures, a stall loop, spawn errors, exit 78). */
  gave_up: 'gave_up',
  /** A budget of the task's profile is spent. */
  budget: 'budget',
  /** Blocked by a person, a worker or a missing parent; a person unblocks it. */
  blocked: 'blocked',
  /** A profile is paused: none of its tasks start. */
  profile_paused: 'profile_paused',
  /** A run's process group survived SIGKILL; its task stays held. */
  kill_failed: 'kill_failed',
  /** A host's lease lapsed: its `serve` is gone. */
  host_lost: 'host_lost',
} as const;
export type InboxKind = (typeof InboxKind)[keyof typeof InboxKind];
export const INBOX_KINDS: readonly InboxKind[] = Object.values(InboxKind);

/** A task that waits for a person, as the store finds it. */
export interface InboxTaskFact {
  id: TaskId;
  title: string;
  status: string;
  assignee: string | null;
  block_kind: BlockKind | null;
  block_rule: string | null;
  block_reason: string | null;
  failures: number;
  needs_approval: boolean;
  /** The open question, when the task is blocked on one. */
  question: string | null;
  since: EpochMs;
}

/** A paused profile. */
export interface InboxProfileFact {
  name: string;
  paused_by: string | null;
  paused_reason: string | null;
  probe_at: EpochMs | null;
  since: EpochMs;
}

/** A run held because its processes would not die. */
export interface InboxHeldFact {
  run_id: RunId;
  task_id: TaskId;
  title: string;
  host: string | null;
  pgid: number | null;
  since: EpochMs;
}

/** A host whose lease lapsed and that has not come back. */
export interface InboxHostFact {
  host_id: string;
  /** When its lease lapsed. */
  since: EpochMs;
  /** Whether another host already ended its runs. */
  reaped: boolean;
  /** Its runs another host ended `host_lost` (when it was reaped). */
  runs: number;
}

/** What the store gathers for one board's inbox. */
export interface InboxFacts {
  tasks: InboxTaskFact[];
  /** How many tasks wait for a person, though at most a limit of them are in `tasks`. */
  task_total: number;
  profiles: InboxProfileFact[];
  held: InboxHeldFact[];
  hosts: InboxHostFact[];
}

/** One thing that waits for a person. */
export interface InboxItem {
  kind: InboxKind;
  task_id: TaskId | null;
  profile: string | null;
  host: string | null;
  run_id: RunId | null;
  /** One line, with the numbers. */
  text: string;
  /** Since when it waits. */
  since: EpochMs;
  /** The exact command that clears it. */
  command: string;
}

/** The inbox: the newest items first, and how many there are in all. */
export interface Inbox {
  board: string;
  total: number;
  items: InboxItem[];
}

/** How long a lost host stays in the inbox when it never comes back. */
export const LOST_HOST_WINDOW_MS = 86_400_000;

function item(
  kind: InboxKind,
  ids: Partial<Pick<InboxItem, 'task_id' | 'profile' | 'host' | 'run_id'>>,
  text: string,
  since: EpochMs,
  command: string,
): InboxItem {
  return {
    kind,
    task_id: ids.task_id ?? null,
    profile: ids.profile ?? null,
    host: ids.host ?? null,
    run_id: ids.run_id ?? null,
    text,
    since,
    command,
  };
}

/** Quotes a text for a one-line sh command. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** How much of a title, question or reason an item's line holds. */
const LINE = 160;

function oneLine(text: string | null, max = LINE): string {
  return line(text ?? '', max);
}

/** The profile option that raises the budget a block's reason names (`(max_cost_per_day)`). */
export function budgetFlag(reason: string | null): string | null {
  const budget = /\((max_tokens_per_task|max_cost_per_task|max_cost_per_day)\)/.exec(
    reason ?? '',
  )?.[1];
  if (budget === undefined) return null;
  return `--${budget.replaceAll('_', '-')} ${budget.startsWith('max_tokens') ? 'N' : 'USD'}`;
}

/**
 * A block's kind, and the rule that made it when that says more: not a person's own block or
 * stop (its reason names them), nor a rule named as its kind (`dependency`).
 */
function blockedBy(t: InboxTaskFact): string {
  const kind = t.block_kind ?? 'needs_input';
  const rule = t.block_rule ?? 'person';
  return rule === kind || rule === 'person' || rule === 'stopped' ? kind : `${kind}, by ${rule}`;
}

/** A task's item: what holds it and the command for that kind of hold. */
export function taskItem(t: InboxTaskFact): InboxItem {
  const head = `#${t.id} "${oneLine(t.title, 80)}"`;
  const ids = { task_id: t.id };
  if (t.status === 'review') {
    return item(
      'review',
      ids,
      `${head} is in review for a person`,
      t.since,
      `warden approve ${t.id}   # or: warden request-changes ${t.id} --reason TEXT`,
    );
  }
  if (t.status !== 'blocked') {
    return item(
      'approval',
      ids,
      `${head} waits for approval before it runs (${t.status})`,
      t.since,
      `warden approve ${t.id}`,
    );
  }
  if (t.block_rule === 'question') {
    return item(
      'question',
      ids,
      `${head} asks: ${oneLine(t.question ?? t.block_reason)}`,
      t.since,
      `warden answer ${t.id} TEXT`,
    );
  }
  // Cut to keep the worker's own words (its last output) rather than the advice before them.
  const reason = t.block_reason ?? '';
  const why = gist(reason, LINE) || 'no reason given';
  if (t.block_kind === 'failed') {
    const rule = t.block_rule ?? 'failed';
    // Only `gave_up` is about the count of failures; a stall or rate-limit loop, a spawn or
    // configuration error has its own cause, which its reason may already name first.
    const after =
      rule === 'gave_up' ? ` after ${t.failures} failure${t.failures === 1 ? '' : 's'}` : '';
    const bare = reason.startsWith(`${rule}: `) ? reason.slice(rule.length + 2) : reason;
    const cause = gist(bare, LINE) || 'no reason given';
    // A configuration error is blocked at its first run: nothing was given up after tries,
    // and a retry does the same until the profile or its environment is fixed.
    if (rule === 'config_error') {
      return item(
        'gave_up',
        ids,
        `${head} stopped at a configuration error (config_error): ${cause}`,
        t.since,
        `warden retry ${t.id}   # after fixing profile ${t.assignee ?? '?'} or its environment`,
      );
    }
    return item(
      'gave_up',
      ids,
      `${head}: warden gave up${after} (${rule}): ${cause}`,
      t.since,
      `warden retry ${t.id}`,
    );
  }
  if (t.block_kind === 'budget') {
    const raise = budgetFlag(t.block_reason);
    const profile = shellWord(t.assignee ?? 'PROFILE');
    return item(
      'budget',
      ids,
      `${head}: a budget of profile ${t.assignee ?? '?'} is spent: ${why.replace(/^budget spent: /, '')}`,
      t.since,
      raise === null
        ? `warden unblock ${t.id}   # after raising the budget: warden profile edit ${profile} --max-...`
        : `warden profile edit ${profile} ${raise} && warden unblock ${t.id}`,
    );
  }
  return item(
    'blocked',
    ids,
    `${head} is blocked (${blockedBy(t)}): ${why}`,
    t.since,
    `warden unblock ${t.id}`,
  );
}

/**
 * Why a profile is paused, without the pauser's name its reason may start with (the
 * breaker's reasons read `breaker: 5 failed runs ...`), for lines that name the pauser.
 */
export function pauseReason(by: string | null, reason: string | null): string | null {
  if (reason === null || by === null) return reason;
  return reason.startsWith(`${by}: `) ? reason.slice(by.length + 2) : reason;
}

/** `by breaker: 5 failed runs ...`, naming the pauser once. */
export function pausedBy(by: string | null, reason: string | null): string {
  const why = pauseReason(by, reason);
  return `by ${by ?? 'person'}${why ? `: ${oneLine(why)}` : ''}`;
}

/** A paused profile's item; a breaker's probe, when one is due, is named with its time. */
export function profileItem(p: InboxProfileFact, now: EpochMs): InboxItem {
  const probe =
    p.probe_at === null
      ? ''
      : `; a probe run is due ${p.probe_at <= now ? 'now' : `in ${formatDuration(p.probe_at - now)}`}`;
  return item(
    'profile_paused',
    { profile: p.name },
    `profile ${p.name} is paused (${pausedBy(p.paused_by, p.paused_reason)}) for ${formatDuration(Math.max(0, now - p.since))}; none of its tasks start${probe}`,
    p.since,
    `warden profile resume ${shellWord(p.name)}`,
  );
}

/**
 * The command that frees a task held by a group that survived SIGKILL (`kill_failed`): the
 * kill, by hand and as root, on the run's host; without a group id, where to find it.
 */
function killByHand(taskId: TaskId, pgid: number | null, host: string | null): string {
  const where = host === null ? '' : ` on host ${host}`;
  return pgid === null
    ? `warden runs ${taskId}   # then kill its processes by hand${where}`
    : `sudo kill -KILL -- -${pgid}   # as root${where}`;
}

/** A held run's item: its processes must be killed by hand on their host. */
export function heldItem(h: InboxHeldFact, now: EpochMs): InboxItem {
  const where = h.host === null ? '' : ` on host ${h.host}`;
  return item(
    'kill_failed',
    { task_id: h.task_id, run_id: h.run_id, ...(h.host !== null ? { host: h.host } : {}) },
    `#${h.task_id} "${oneLine(h.title, 80)}": run ${h.run_id}'s process group${h.pgid === null ? '' : ` ${h.pgid}`}${where} survived SIGKILL ${formatDuration(Math.max(0, now - h.since))} ago; the task stays held until it is gone`,
    h.since,
    killByHand(h.task_id, h.pgid, h.host),
  );
}

/** A lost host's item: start its `serve` again, or let it go. */
export function hostItem(h: InboxHostFact, now: EpochMs): InboxItem {
  const runs = h.reaped
    ? `; ${h.runs} run${h.runs === 1 ? ' was' : 's were'} ended host_lost and put back in line`
    : '; its runs are ended host_lost once another host has renewed for a full lease';
  return item(
    'host_lost',
    { host: h.host_id },
    `host ${h.host_id} lost its lease ${formatDuration(Math.max(0, now - h.since))} ago${runs}`,
    h.since,
    `warden serve --host-id ${shellWord(h.host_id)}   # on that machine`,
  );
}

/** Every item, newest first; `total` counts the tasks the facts left out too. */
export function buildInbox(board: string, f: InboxFacts, now: EpochMs): Inbox {
  const items = [
    ...f.tasks.map(taskItem),
    ...f.profiles.map((p) => profileItem(p, now)),
    ...f.held.map((h) => heldItem(h, now)),
    ...f.hosts.map((h) => hostItem(h, now)),
  ].sort((a, b) => b.since - a.since);
  const total = f.task_total + f.profiles.length + f.held.length + f.hosts.length;
  return { board, total, items };
}
