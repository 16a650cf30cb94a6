import type { WardenError } from '../core/errors.js';
import type { Actor } from '../core/actor.js';
import type { WardenEvent, EventKind } from '../core/events.js';
import type { EpochMs, EventId, Millis, RunId, TaskId } from '../core/glossary.js';
import type { NewEvent } from '../core/events.js';
import type { Outcome, TaskStatus } from '../core/status.js';
import type { EndingPhases, StopIntent } from '../core/ending.js';
import type { ProcessIdentity, RunReason } from '../core/run.js';
import type {
  Claim,
  ClaimRequest,
  LeaseInfo,
  LlmAdmission,
  HostRecord,
  PolicyContext,
  ProgressUpdate,
  ReissuedRun,
  RunFinal,
} from './run-types.js';
import type {
  Cancellation,
  TerminalAnswer,
  TerminalCall,
  WorkerContext,
} from '../core/worker-protocol.js';
import type { Profile, ProfilePatch, ProfileSpec } from '../core/profile.js';
import type { Run } from '../core/run.js';
import type { ReportRuns } from '../core/report.js';
import type { BlockKind } from '../core/status.js';
import type { Json } from '../core/events.js';
import type {
  BoardColumns,
  BoardStats,
  Comment,
  NewTask,
  Task,
  TaskFilter,
  TaskPatch,
} from '../core/task.js';
import type { WorktreeRecord } from '../core/worktree.js';
import type { ApplyResult, TaskGraph } from '../core/apply.js';
import type { LlmRequestRecord, RunLlm } from '../core/llm.js';
import type { ColumnsQuery } from './sql/board-columns.js';
import type { LlmStatFilter, LlmStatRow } from './sql/llm-stats.js';
import type { MetricFigures } from './sql/metric-figures.js';
import type { TimelineFacts } from '../core/timeline.js';
import type { NewSchedule, Schedule, ScheduleFiring } from '../core/schedule.js';
import type { DeadLetter, DeadLetterPage, NewSubscription, Subscription } from '../core/notify.js';
import type { DueNotification, HeldBack, NotifyOutcome } from './sql/notify-cursor.js';
import type { InboxFacts } from '../core/inbox.js';
import type { QuestionAnswer } from '../core/worker-protocol.js';

/** A named set of tasks. */
export interface Board {
  name: string;
  paused: boolean;
  created_at: EpochMs;
}

/** A person's move of a task through the transition table. */
export type TaskMove =
  | { verb: 'accept' }
  | { verb: 'block'; reason: string; kind: BlockKind }
  | { verb: 'unblock' }
  | { verb: 'retry' }
  | { verb: 'reopen' }
  | { verb: 'done'; summary?: string; metadata?: Json }
  | { verb: 'archive' };

/** Which events to list. */
export interface EventFilter {
  board?: string;
  task_id?: TaskId;
  kinds?: readonly EventKind[];
  /** Only this event (none once gc has pruned it). */
  id?: EventId;
  /**
   * Only events after this one (a cursor: the last event id of an earlier page). SQLite: ids
   * greater than it. PostgreSQL: events after it in the order they became final, which is
   * not strictly by id (src/store/sql/events.ts).
   */
  after_id?: EventId;
  /** At most this many, oldest first. */
  limit?: number;
  /** With `board`: also events that belong to no board (profiles, tokens, hosts). */
  include_global?: boolean;
  /** Take the newest `limit` events (still listed oldest first) instead of the oldest. */
  newest?: boolean;
  /** Only events written at or after this time. */
  since?: EpochMs;
  /**
   * Only events no earlier transaction can still join, in the order `after_id` walks, so the
   * last one is a cursor that never skips (implied by `after_id`). For a follower's first
   * page or its start at the end; a reader that only shows what is committed leaves it out.
   * Same as without it on SQLite.
   */
  final?: boolean;
}

/** What kind of holder a token has. */
export type TokenKind = 'admin' | 'worker';

/** A token as stored: never the secret itself, only its hash. */
export interface TokenInfo {
  id: number;
  name: string;
  kind: TokenKind;
  /** For worker tokens: the profiles it may claim runs of. */
  profiles: string[];
  created_at: EpochMs;
}

/** What another process's commit may have changed, as far as the store can tell. */
export interface RemoteChange {
  /**
   * It may have added, removed or edited a profile. PostgreSQL's notice says whether it did
   * (migration 22); SQLite's `data_version`, and a PostgreSQL listener that has just
   * reconnected (a notice may have been missed), cannot tell, and say it may have.
   */
  profiles: boolean;
}

/**
 * Everything warden keeps, as domain operations (STYLE.md: BullMQ's backend contract).
 * Every operation that changes state runs in one short transaction and writes its events
 * in the same transaction. Operations throw `WardenError`s with stable codes; a refused
 * operation changes nothing.
 */
export interface Store {
  /** `sqlite` or `postgres`. */
  readonly dialect: string;

  /** The schema version the store is at. */
  schemaVersion(): Promise<number>;

  /** Closes the store. Safe to call twice. */
  close(): Promise<void>;

  /**
   * Calls `onChange` soon after another process commits a change (SQLite: `data_version`,
   * PostgreSQL: LISTEN/NOTIFY), with what it may have changed. Returns a function that stops
   * watching.
   */
  watchChanges(onChange: (change: RemoteChange) => void): () => void;

  /** Adds a board. Refuses (`conflict`) a name that exists. */
  addBoard(name: string, actor: Actor): Promise<Board>;
  /** Every board, by name. */
  listBoards(): Promise<Board[]>;
  /** One board, or `not_found` with a hint to add it. */
  getBoard(name: string): Promise<Board>;

  /**
   * Creates a task on an existing board. It starts `triage` if asked, `todo` while a parent
   * is not done, else `ready`. Checks that the assignee profile and every parent exist, and
   * that parents are on the same board. Writes `task_created`.
   */
  createTask(input: NewTask, actor: Actor): Promise<Task>;
  /** One task with its parents and children, or `not_found`. */
  getTask(id: TaskId): Promise<Task>;
  /** Tasks matching the filter: priority (higher first), then age. */
  listTasks(filter: TaskFilter): Promise<Task[]>;
  /** How many tasks match the filter, whatever its limit and offset (`list` says what it cut). */
  countMatchingTasks(filter: TaskFilter): Promise<number>;
  /**
   * What waits for a person on a board (issue #15, the attention inbox): at most `limit` of its
   * tasks, newest first, with the count of all, plus paused profiles, held runs, lost hosts.
   */
  inboxFacts(board: string, limit: number): Promise<InboxFacts>;
  /**
   * The tasks of a board worked since a time (a run ended since, or one is open), in one
   * snapshot: each with its status now, the first `limit` in the report's order in full with
   * their latest evidence (the morning report).
   */
  reportFacts(board: string, since: EpochMs, limit: number): Promise<ReportRuns>;
  /** Changes title, body, assignee, priority or policy. Never status, counters or delays. */
  editTask(id: TaskId, patch: TaskPatch, actor: Actor): Promise<Task>;
  /**
   * Makes `parent` a parent of `child`. Refuses self-links (`invalid`), cycles and links
   * across boards (`conflict`). A `ready` child of a parent that is not done goes to `todo`.
   * Returns the child.
   */
  linkTasks(parent: TaskId, child: TaskId, actor: Actor): Promise<Task>;
  /**
   * Creates a task graph (`warden apply`) in one transaction, or nothing: checks the board and
   * every assignee, then, in dependency order, finds each task by its idempotency key (an open
   * or done task of the board) or creates it after its parents. With `dryRun` it does all of
   * that and rolls back, answering what it would have created.
   */
  applyGraph(graph: TaskGraph, actor: Actor, options?: { dryRun?: boolean }): Promise<ApplyResult>;
  /**
   * Moves a task as the transition table allows, writing the matching event. Moving to
   * `done` promotes children whose parents are now all done.
   */
  moveTask(id: TaskId, move: TaskMove, actor: Actor): Promise<Task>;
  /**
   * Answers the open question of a task blocked on it (issue #14) and puts the task back in
   * line in the same transaction; `illegal_state` when it asked nothing, `conflict` when
   * `question` (the one the person read) is not the one it asks now.
   */
  answerTask(id: TaskId, answer: string, actor: Actor, question?: string): Promise<Task>;
  /**
   * A person's approval: of a task behind an approval gate (it may then run), or of a task in
   * review (it is done); `illegal_state` otherwise.
   */
  approveTask(id: TaskId, actor: Actor): Promise<Task>;
  /**
   * Sends a task in review back for more work with what to change, which its next attempt
   * reads first; past `max_review_rounds` it is blocked `needs_input` instead.
   */
  requestChanges(id: TaskId, reason: string, actor: Actor, ctx: PolicyContext): Promise<Task>;
  /** Adds a comment to a task. */
  addComment(id: TaskId, body: string, actor: Actor): Promise<Comment>;
  /** A task's comments, oldest first. */
  listComments(id: TaskId): Promise<Comment[]>;
  /** The questions its workers asked, with their answers (null: not answered), newest first. */
  listQuestions(id: TaskId): Promise<QuestionAnswer[]>;

  /** A task's runs, by attempt. */
  listRuns(taskId: TaskId): Promise<Run[]>;

  /**
   * Events matching the filter, oldest first. The last event of any page is a cursor for
   * `after_id` that skips nothing: on PostgreSQL, where ids can commit out of order, a page
   * holds only events no running transaction can precede, in the order they became final.
   */
  listEvents(filter: EventFilter): Promise<WardenEvent[]>;

  /** Adds a profile at version 1. Refuses (`conflict`) a name that exists. */
  addProfile(name: string, spec: ProfileSpec, actor: Actor): Promise<Profile>;
  /** Changes a profile and bumps its version. */
  editProfile(name: string, patch: ProfilePatch, actor: Actor): Promise<Profile>;
  /** One profile, or `not_found`. */
  getProfile(name: string): Promise<Profile>;
  /** Every profile, by name. */
  listProfiles(): Promise<Profile[]>;
  /** Removes a profile; refuses (`conflict`) while an open task is assigned to it. */
  removeProfile(name: string, actor: Actor): Promise<void>;
  /** Pauses or resumes a profile's dispatch. */
  setProfilePaused(
    name: string,
    paused: boolean,
    reason: string | null,
    actor: Actor,
  ): Promise<Profile>;

  /** Stores a token by its hash. */
  addToken(
    token: { name: string; kind: TokenKind; hash: string; profiles?: string[] },
    actor: Actor,
  ): Promise<TokenInfo>;
  /** The token with this hash, or null. */
  findToken(hash: string): Promise<TokenInfo | null>;

  /** Counts for `warden stats`. */
  boardStats(board: string): Promise<BoardStats>;

  /** Sets a concurrency group's cap (null: no cap, only cooldowns) and scope. */
  setGroup(
    name: string,
    max: number | null,
    scope: 'board' | 'host',
    actor: Actor,
  ): Promise<GroupInfo>;
  /** Every concurrency group. */
  listGroups(): Promise<GroupInfo[]>;

  // ---- Schedules (issue #14) ----

  /**
   * Adds a schedule, due at its first firing after now. Refuses an expression or zone that is
   * not valid or never fires (`invalid`), an unknown board or assignee (`not_found`) and a name
   * that exists (`conflict`). Writes `schedule_added`.
   */
  addSchedule(input: NewSchedule, actor: Actor): Promise<Schedule>;
  /** Every schedule (of one board), by name. */
  listSchedules(board?: string): Promise<Schedule[]>;
  /** One schedule, or `not_found`. */
  getSchedule(name: string): Promise<Schedule>;
  /** Pauses or resumes a schedule; a resumed one waits for its first firing after now. */
  setSchedulePaused(name: string, paused: boolean, actor: Actor): Promise<Schedule>;
  /** Removes a schedule; the tasks it created stay. */
  removeSchedule(name: string, actor: Actor): Promise<void>;
  /**
   * Fires every due schedule, each in its own transaction that advances its next firing by
   * compare-and-set, so with several hosts one firing creates one task. Missed firings follow
   * the schedule's catch-up. Returns what was done, one entry per schedule this call fired.
   */
  fireDueSchedules(actor: Actor): Promise<ScheduleFiring[]>;

  // ---- Notifications (issue #15) ----

  /**
   * Adds a webhook subscription, starting at the newest event. Refuses a URL that is not
   * http(s), an unknown kind or format (`invalid`), an unknown board or task (`not_found`).
   */
  addSubscription(input: NewSubscription, actor: Actor): Promise<Subscription>;
  /** Every subscription (never their secrets), oldest first. */
  listSubscriptions(): Promise<Subscription[]>;
  /** One subscription, or `not_found`. */
  getSubscription(id: number): Promise<Subscription>;
  /** A subscription's full target and secret (null: none), to send by hand; never shown. */
  subscriptionTarget(id: number): Promise<{ url: string; secret: string | null }>;
  /** Removes a subscription and its dead letters; `not_found` if there is none. */
  removeSubscription(id: number): Promise<void>;
  /** A page of notifications that used up their attempts (of one subscription), oldest first. */
  listDeadLetters(page?: DeadLetterPage): Promise<DeadLetter[]>;
  /** How many dead letters there are (for /metrics). */
  countDeadLetters(): Promise<number>;
  /** One dead letter, or `not_found`. */
  getDeadLetter(id: number): Promise<DeadLetter>;
  /** Removes a dead letter once it was sent by hand; `not_found` if there is none. */
  removeDeadLetter(id: number): Promise<void>;
  /**
   * The next notification of every subscription this host may send now (no backoff to wait
   * out, no other host's live lease), but those in `busy` (this host's sends in flight).
   * Cursors pass events no subscription wants on the way.
   */
  dueNotifications(host: string, busy?: readonly number[]): Promise<DueNotification[]>;
  /**
   * How far the walk of final events (notifications, the SSE stream, `events --follow`) is
   * held back by a transaction still running on PostgreSQL; nothing on SQLite.
   */
  eventsHeldBack(): Promise<HeldBack>;
  /** Takes a subscription's lease for `leaseMs` to send `due`; false if it moved or is held. */
  claimNotification(due: DueNotification, host: string, leaseMs: number): Promise<boolean>;
  /** Records a send under this host's lease (see `NotifyOutcome`). */
  recordNotification(
    due: DueNotification,
    host: string,
    result: { ok: true } | { ok: false; error: string; attempts: number; retryInMs: number },
  ): Promise<NotifyOutcome>;

  // ---- A host's dispatcher and supervisor ----

  /**
   * Admission and claim in one transaction (SPEC §4). Spawned runs get `workspaceRoot/ID`
   * as cwd when their profile says `workspace`, and `worktreeRoot/ID` when it has a worktree.
   */
  claimRuns(
    req: ClaimRequest,
    workspaceRoot: string | null,
    worktreeRoot?: string | null,
  ): Promise<Claim[]>;
  /**
   * Puts back in line the tasks whose `transient` block's cooldown has passed, each counted as
   * a failure (blocked `failed` at `max_failures`); returns how many moved.
   */
  releaseTransientBlocks(ctx: PolicyContext & { host: string }): Promise<number>;
  /** A task's git worktree record (removed or not); null if it never had one. */
  getWorktree(taskId: TaskId): Promise<WorktreeRecord | null>;
  /** Records the worktree a host made for a task; `conflict` if the task has one. */
  recordWorktree(
    rec: Omit<WorktreeRecord, 'created_at' | 'removed_at'>,
    actor: Actor,
  ): Promise<WorktreeRecord>;
  /** Marks a task's worktree removed from disk (`worktree_removed`); once. */
  worktreeRemoved(taskId: TaskId, branchDeleted: boolean, actor: Actor): Promise<void>;
  /** Worktrees still on disk of this host whose tasks are archived. */
  archivedWorktrees(host: string): Promise<WorktreeRecord[]>;
  /** Records the spawned process's identity and log file. */
  recordSpawn(runId: RunId, identity: ProcessIdentity, logPath: string): Promise<void>;
  /** Writes a batch of progress figures (one write per host per batch, SPEC §3). */
  recordProgress(batch: readonly ProgressUpdate[]): Promise<void>;
  /** Writes a silence's `stall_warning` (the host warns once per silence); false if not running. */
  markStallWarning(runId: RunId, host: string, payload: Record<string, Json>): Promise<boolean>;
  /**
   * The fence: `running → ending` by compare-and-set, with a person's stop intent when a
   * person ended the run; true if this call won.
   */
  beginEnding(
    runId: RunId,
    outcome: Outcome,
    reason: RunReason,
    actor: Actor,
    intent?: StopIntent,
  ): Promise<boolean>;
  /** Records what the phases of an ending did on the reason of a run still `ending`. */
  recordEndingPhases(runId: RunId, phases: EndingPhases): Promise<void>;
  /**
   * The fence (if the run is still `running`) and the close in one transaction, for a run
   * with no process to wait for. Returns the task, or null if the run had already ended.
   */
  endRun(
    runId: RunId,
    final: RunFinal,
    ctx: PolicyContext & { host: string },
    actor: Actor,
  ): Promise<Task | null>;
  /**
   * Closes an `ending` run and releases its task through the one accounting function.
   * Returns the task, or null if the run had already ended.
   */
  finishRun(
    runId: RunId,
    final: RunFinal,
    ctx: PolicyContext & { host: string },
  ): Promise<Task | null>;
  /** Runs of this host (or, with null, of pull workers) that have not ended. */
  openRuns(host: string | null): Promise<Run[]>;
  /** One run, or `not_found`. */
  getRun(id: RunId): Promise<Run>;
  /** The runs with these ids that exist, in one read (a board's running cards). */
  getRuns(ids: readonly RunId[]): Promise<Run[]>;
  /**
   * The SHA-256 of a run's token (never the token): an adopted run's processes are known by it
   * in their environment where no cgroup holds them. `not_found` if there is no such run.
   */
  runTokenHash(id: RunId): Promise<string>;
  /** Writes an event that belongs to no other operation (adopted, host_resumed, kill_failed). */
  writeEvent(actor: Actor, event: NewEvent): Promise<void>;

  // ---- The worker door: every call carries the run token's hash and is fenced ----

  /** The worker's view of its task; `stale_run` if the run is no longer current. */
  workerContext(tokenHash: string): Promise<WorkerContext>;
  /**
   * A model request of a run (issue #13): fenced like every run-token call (`stale_run` once
   * the run is not current), with its profile as it is now and the figures its budgets are
   * measured against.
   */
  llmAdmit(tokenHash: string): Promise<LlmAdmission>;
  /** Records a model request and adds it to its run's and task's totals; the run's new totals. */
  recordLlmRequest(rec: LlmRequestRecord, rateLimited?: boolean): Promise<RunLlm>;
  /** Model usage summed per profile, board or UTC day (`warden stats`, the health strip). */
  llmStats(filter: LlmStatFilter): Promise<LlmStatRow[]>;
  /** The board figures of `/metrics` beside `boardStats`: open runs and model use (issue #15). */
  metricFigures(): Promise<MetricFigures>;
  /** What a run's timeline is built from (issue #15), or `not_found`. */
  timelineFacts(runId: RunId): Promise<TimelineFacts>;
  /** Checks a liveness or progress call against the fence; returns the run. */
  workerTouch(tokenHash: string, op: string): Promise<Run>;
  /** complete, fail, block or request_review; a repeat of the same call gets the first answer. */
  workerTerminal(
    tokenHash: string,
    call: TerminalCall,
    ctx?: PolicyContext & { host: string },
  ): Promise<TerminalAnswer>;
  /** A comment on the worker's own task. */
  workerComment(tokenHash: string, body: string): Promise<Comment>;
  /** A child task on the worker's board. */
  workerCreate(
    tokenHash: string,
    input: NewTask & { after_me?: boolean },
    ctx: PolicyContext,
  ): Promise<Task>;
  /** Links the worker's task with a task it created. */
  workerLink(tokenHash: string, parent: TaskId, child: TaskId): Promise<Task>;

  // ---- Pull workers' leases ----

  /** Opens a lease for a worker process; its profiles must be among the token's. */
  openLease(
    token: TokenInfo,
    name: string,
    profiles: readonly string[] | undefined,
    ttlMs: number,
  ): Promise<LeaseInfo>;
  /** Renews a live lease of this token (409 `stale_run` once it lapsed); says what to cancel. */
  renewLease(
    id: string,
    token: TokenInfo,
    ttlMs: number,
  ): Promise<{ lease: LeaseInfo; cancel: Cancellation[] }>;
  /** The live lease of this token, or the error the worker should see. */
  checkLease(id: string, token: TokenInfo): Promise<LeaseInfo>;
  /**
   * The runs a pull claim (`ClaimRequest.claimId`) of lease `leaseId` made that are still
   * running, each with a new token (the old one is refused from now on): for a retry of a
   * claim whose answer was lost. Empty when that claim made none.
   */
  reissueClaim(leaseId: string, claimId: string): Promise<ReissuedRun[]>;
  /**
   * The live token with this hash and, read with it, the lease `id` as `checkLease` would
   * answer for that token: the lease, or the error it would throw. Null for an unknown token.
   */
  findTokenAndLease(
    hash: string,
    id: string,
  ): Promise<{ token: TokenInfo; lease: LeaseInfo | WardenError } | null>;
  /** Ends lapsed leases (or the one named); returns the runs they held, to end `lease_lost`. */
  endLeases(only?: { id: string; reason: string }): Promise<{ lease: string; runs: RunId[] }[]>;
  /**
   * Moves every open lease that was live `ms` ago on by `ms`: this `serve` did not run for that
   * long, so no worker could renew through it. Returns how many moved.
   */
  extendLeases(ms: Millis): Promise<number>;
  /**
   * Gives every open lease at least `ttlMs` from now to be renewed in: as `serve` starts, none
   * could be while it was down. Returns how many it gave more time.
   */
  graceLeases(ttlMs: Millis): Promise<number>;
  /** The runs of a lease that are being ended, which its worker must give up. */
  leaseCancellations(id: string): Promise<Cancellation[]>;
  /** Tokens by name (never their secrets). */
  listTokens(): Promise<TokenInfo[]>;
  /** Revokes a token by name; refuses the last admin token. */
  revokeToken(name: string, actor: Actor): Promise<void>;

  // ---- The dashboard's logins ----

  /** Stores a one-time login code (its hash) for an admin token's holder. */
  createLoginCode(tokenId: number, hash: string, ttlMs: number): Promise<void>;
  /** Exchanges a code for a session: once, before it expires (`unauthorized` otherwise). */
  exchangeLoginCode(
    codeHash: string,
    sessionHash: string,
    sessionTtlMs: number,
  ): Promise<TokenInfo>;
  /** The token behind a live session, or null. */
  findSession(hash: string): Promise<TokenInfo | null>;
  /** Ends a session. */
  endSession(hash: string): Promise<void>;
  /** Pauses or resumes dispatch on a board. */
  setBoardPaused(name: string, paused: boolean, actor: Actor): Promise<Board>;
  /** Tasks per status of a board (with an optional search). */
  countTasks(board: string, q?: string): Promise<Record<string, number>>;
  /** The statuses of the tasks with these ids that exist, in one read. */
  taskStatuses(ids: readonly TaskId[]): Promise<Record<TaskId, TaskStatus>>;
  /** A board's running tasks counted by assignee (`-` for tasks with none). */
  runningByAssignee(board: string): Promise<Record<string, number>>;
  /**
   * The board view: how many tasks of each status match (every status), and the first `limit`
   * of each status in `shown`, in the listing's order, read at one moment.
   */
  boardColumns(query: ColumnsQuery): Promise<BoardColumns>;
  /** Runs of a board that ended since `since`, for the health chart. */
  endedRuns(
    board: string,
    since: EpochMs,
  ): Promise<{ ended_at: EpochMs; outcome: string; profile: string | null }[]>;

  // ---- Hosts ----

  /** Hosts whose `serve` has not said it stopped. */
  activeHosts(): Promise<HostRecord[]>;
  /** Takes the home for this `serve` if every other active host is among `presumedDead`. */
  claimHome(
    me: { host_id: string; process: ProcessIdentity; url: string | null },
    presumedDead: readonly HostRecord[],
  ): Promise<{ ok: true } | { ok: false; holders: HostRecord[] }>;
  /**
   * Renews this host's lease on the store's clock (SPEC §3); refuses (`conflict`) a host id
   * another live host holds with a different secret.
   */
  renewHostLease(
    hostId: string,
    secretHash: string,
    ttlMs: number,
  ): Promise<{ expires_at: EpochMs; renewed_at: EpochMs; lapsed: boolean }>;
  /** Hosts whose lease lapsed on the store's clock. */
  lapsedHosts(): Promise<HostRecord[]>;
  /**
   * Ends the spawned runs of a host whose lease lapsed (`host_lost`, fenced, then closed by
   * the one accounting function) in one transaction, re-checking the lapse on the store's
   * clock; null when the host renewed meanwhile or was already reaped.
   */
  reapHost(
    hostId: string,
    by: string,
    ctx: PolicyContext,
  ): Promise<{ host: HostRecord; runs: { run_id: RunId; task_id: TaskId }[] } | null>;
  /** Every host, stopped ones too, with its open runs (`warden hosts`). */
  listHosts(): Promise<(HostRecord & { open_runs: number })[]>;
  /** Where a host's API listens, and its cap on live workers (`max_workers`). */
  describeHost(hostId: string, about: { url: string; max_workers: number }): Promise<void>;
  /** Marks this host stopped. */
  releaseHome(hostId: string, process: ProcessIdentity): Promise<void>;
  /**
   * Makes the next run and task ids greater than the highest ids this home's folders are
   * named by (`runs/ID`; `workspaces/ID`, `worktrees/ID`), if they are not: ids go back when
   * the database is put back from a backup. Which moved.
   */
  keepIdsPast(floors: { runs: number; tasks: number }): Promise<{ runs: boolean; tasks: boolean }>;

  // ---- Pruning (`warden gc`) ----

  /**
   * Of the runs and tasks whose folders are on this host, those `warden gc` may remove: ended
   * runs of tasks, and tasks, that are done or archived and unchanged since `before`.
   */
  prunableFolders(
    runIds: readonly RunId[],
    taskIds: readonly TaskId[],
    before: EpochMs,
  ): Promise<{ runs: RunId[]; tasks: TaskId[] }>;
  /**
   * Deletes the events written before `before` of tasks done or archived and unchanged since
   * then (with `dryRun`, only counts them); returns how many, and of how many tasks. Dead
   * letters older than `before` go too. The events go `batch` at a time (default 5,000), each
   * batch its own transaction, so a large prune does not hold other writes up; one that fails
   * part way leaves the rest for the next.
   */
  pruneEvents(
    before: EpochMs,
    dryRun: boolean,
    batch?: number,
  ): Promise<{ events: number; tasks: number }>;
}

/** A concurrency group: a cap shared by the profiles that name it, and a cooldown. */
export interface GroupInfo {
  name: string;
  max_concurrency: number | null;
  scope: 'board' | 'host';
  not_before: EpochMs | null;
}
