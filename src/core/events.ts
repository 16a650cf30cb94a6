import type { EpochMs, EventId, RunId, TaskId } from './glossary.js';

/** Every kind of event the board records (SPEC §2). */
export const EventKind = {
  board_added: 'board_added',
  board_paused: 'board_paused',
  board_resumed: 'board_resumed',
  task_created: 'task_created',
  task_edited: 'task_edited',
  task_linked: 'task_linked',
  task_commented: 'task_commented',
  /** A `todo` task whose parents are all done became `ready`. */
  task_promoted: 'task_promoted',
  /** A `ready` task got a parent that is not done and went back to `todo`. */
  task_demoted: 'task_demoted',
  task_accepted: 'task_accepted',
  task_blocked: 'task_blocked',
  task_unblocked: 'task_unblocked',
  task_retried: 'task_retried',
  task_done: 'task_done',
  task_archived: 'task_archived',
  task_requeued: 'task_requeued',
  task_review_requested: 'task_review_requested',
  task_reopened: 'task_reopened',
  /** A person answered a worker's question; the task went back in line (issue #14). */
  task_answered: 'task_answered',
  /** A person approved a task that needed approval before it may run (issue #14). */
  task_approved: 'task_approved',
  /** A person sent a task in review back for more work, with what to change (issue #14). */
  task_changes_requested: 'task_changes_requested',
  run_started: 'run_started',
  run_ending: 'run_ending',
  run_ended: 'run_ended',
  stall_warning: 'stall_warning',
  stale_run: 'stale_run',
  host_resumed: 'host_resumed',
  adopted: 'adopted',
  profile_added: 'profile_added',
  profile_edited: 'profile_edited',
  profile_removed: 'profile_removed',
  profile_paused: 'profile_paused',
  profile_resumed: 'profile_resumed',
  token_created: 'token_created',
  token_revoked: 'token_revoked',
  lease_opened: 'lease_opened',
  lease_ended: 'lease_ended',
  group_set: 'group_set',
  /** The supervisor could not kill a run's process group; the task stays held. */
  kill_failed: 'kill_failed',
  /**
   * An ending found processes of a run outside its process group (setsid, a daemon) and ended
   * them with it; they would otherwise have outlived the run.
   */
  processes_escaped: 'processes_escaped',
  /** A host started or stopped. */
  host_started: 'host_started',
  host_stopped: 'host_stopped',
  /** Several hosts: a host's lease lapsed and another host ended its runs. */
  host_lost: 'host_lost',
  /** A run's log passed its `log_cap`: its middle was cut (the first cut of the run). */
  log_truncated: 'log_truncated',
  /**
   * A terminal report its worker kept in the run's folder while `serve` did not answer was
   * booked when serve was back, or refused (not this run's, not a report); payload `op`, and
   * the refusal's `message`.
   */
  kept_report_booked: 'kept_report_booked',
  kept_report_refused: 'kept_report_refused',
  /** `warden gc` (or `serve --gc-every`) pruned the history of finished tasks. */
  gc_done: 'gc_done',
  /** A task's git worktree was made (its first claim), or removed when it was archived. */
  worktree_created: 'worktree_created',
  worktree_removed: 'worktree_removed',
  /** Schedules (issue #14): added, paused, resumed, removed by a person. */
  schedule_added: 'schedule_added',
  schedule_paused: 'schedule_paused',
  schedule_resumed: 'schedule_resumed',
  schedule_removed: 'schedule_removed',
  /** A schedule's firing created its task (with `once`, standing for the missed ones too). */
  schedule_fired: 'schedule_fired',
  /** Firings a schedule did not make: missed while no `serve` ran, or refused, and how many. */
  schedule_skipped: 'schedule_skipped',
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];
export const EVENT_KINDS: readonly EventKind[] = Object.values(EventKind);

/** A JSON value, as stored in payloads and metadata. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One append-only record of something that happened. */
export interface WardenEvent {
  readonly id: EventId;
  readonly board: string | null;
  readonly task_id: TaskId | null;
  readonly run_id: RunId | null;
  /** Who did it, as `formatActor` writes it. */
  readonly actor: string;
  readonly kind: EventKind;
  readonly payload: { readonly [key: string]: Json };
  readonly at: EpochMs;
}

/** An event about to be written: the store gives it an id and a time. */
export type NewEvent = Omit<WardenEvent, 'id' | 'at' | 'board' | 'task_id' | 'run_id' | 'actor'> & {
  readonly board?: string | null;
  readonly task_id?: TaskId | null;
  readonly run_id?: RunId | null;
};
