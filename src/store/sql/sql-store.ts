import type { Actor } from '../../core/actor.js';
import type { Clock } from '../../core/clock.js';
import type { WardenEvent } from '../../core/events.js';
import type { TaskId } from '../../core/glossary.js';
import type { Profile, ProfilePatch, ProfileSpec } from '../../core/profile.js';
import type { WorktreeRecord } from '../../core/worktree.js';
import type { ApplyResult, TaskGraph } from '../../core/apply.js';
import type { Run } from '../../core/run.js';
import type { ReportRuns } from '../../core/report.js';
import type { LlmRequestRecord, RunLlm } from '../../core/llm.js';
import type { NewSchedule, Schedule, ScheduleFiring } from '../../core/schedule.js';
import type {
  BoardColumns,
  BoardStats,
  Comment,
  NewTask,
  Task,
  TaskFilter,
  TaskPatch,
} from '../../core/task.js';
import type { Random } from '../../core/backoff.js';
import { notFound } from '../../core/errors.js';
import type { WardenError } from '../../core/errors.js';
import type { Json, NewEvent } from '../../core/events.js';
import type { EpochMs, Millis, RunId } from '../../core/glossary.js';
import type { EndingPhases, StopIntent } from '../../core/ending.js';
import type { ProcessIdentity, RunReason } from '../../core/run.js';
import type { Outcome, TaskStatus } from '../../core/status.js';
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
} from '../run-types.js';
import type {
  Cancellation,
  QuestionAnswer,
  TerminalAnswer,
  TerminalCall,
  WorkerContext,
} from '../../core/worker-protocol.js';
import type {
  Board,
  EventFilter,
  GroupInfo,
  RemoteChange,
  Store,
  TaskMove,
  TokenInfo,
  TokenKind,
} from '../store.js';
import { boardColumns } from './board-columns.js';
import type { ColumnsQuery } from './board-columns.js';
import { ADMISSION_LOCK } from './claim.js';
import { Claims } from './claims.js';
import { ReportBatches } from './report-batch.js';
import { idIn } from './id-list.js';
import { reapLapsedHost } from './host-reap.js';
import { withEventBatch } from './event-batch.js';
import * as groups from './groups.js';
import * as hosts from './hosts.js';
import { keepIdPast } from './id-floor.js';
import * as leases from './leases.js';
import * as reissue from './reissue.js';
import * as llm from './llm.js';
import * as transient from './transient.js';
import * as questions from './questions.js';
import * as approvals from './approvals.js';
import * as reviews from './reviews.js';
import * as llmStats from './llm-stats.js';
import { metricFigures } from './metric-figures.js';
import type { MetricFigures } from './metric-figures.js';
import { timelineFacts } from './timeline.js';
import { recordActivity } from './timeline-activity.js';
import type { TimelineFacts } from '../../core/timeline.js';
import * as sessions from './sessions.js';
import * as runs from './runs.js';
import * as worker from './worker.js';
import * as worktrees from './worktrees.js';
import * as boards from './boards.js';
import type { SqlDb, SqlDriver, TxOptions } from './driver.js';
import * as events from './events.js';
import * as gc from './gc.js';
import * as profiles from './profiles.js';
import { toRun } from './rows.js';
import type { RunRow } from './rows.js';
import * as apply from './apply.js';
import * as moves from './task-moves.js';
import * as tasks from './tasks.js';
import * as schedules from './schedules.js';
import * as notify from './notify.js';
import { eventsHeldBack } from './notify-cursor.js';
import type { DueNotification, HeldBack, NotifyOutcome } from './notify-cursor.js';
import type {
  DeadLetter,
  DeadLetterPage,
  NewSubscription,
  Subscription,
} from '../../core/notify.js';
import * as inbox from './inbox.js';
import * as report from './report.js';
import type { InboxFacts } from '../../core/inbox.js';

/** How many events a notification cursor reads at a time. */
const NOTIFY_BATCH = 200;

/**
 * The store on a SQL database. The domain logic is written once here; a driver supplies the
 * dialect (SQLite or PostgreSQL), its transactions and its retries.
 */
export class SqlStore implements Store {
  /** Claims, batched on PostgreSQL (./claims.ts). */
  private readonly claims: Claims;
  /** Workers' reports, batched on PostgreSQL (./report-batch.ts); SQLite: none. */
  private readonly reports: ReportBatches | null;

  constructor(
    protected readonly driver: SqlDriver,
    protected readonly clock: Clock,
    protected readonly random: Random = Math.random,
  ) {
    this.claims = new Claims(driver, clock, (fn, options) => this.write(fn, options));
    this.reports =
      driver.dialect === 'postgres'
        ? new ReportBatches((fn, options) => this.write(fn, options))
        : null;
  }

  get dialect(): string {
    return this.driver.dialect;
  }

  /**
   * Runs `fn` in one write transaction with the time it happens at; the events it appends are
   * written together at its end (./event-batch.ts).
   */
  protected write<T>(fn: (db: SqlDb, now: number) => Promise<T>, options?: TxOptions): Promise<T> {
    return this.driver.tx(
      (db) => withEventBatch(db, (batched) => fn(batched, this.clock.now())),
      options,
    );
  }

  async schemaVersion(): Promise<number> {
    const row = await this.driver.get<{ value: string }>(
      "SELECT value FROM meta WHERE key = 'schema_version'",
    );
    return Number(row?.value ?? 0);
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  watchChanges(onChange: (change: RemoteChange) => void): () => void {
    return this.driver.watch(onChange);
  }

  addBoard(name: string, actor: Actor): Promise<Board> {
    return this.write((db, now) => boards.addBoard(db, now, name, actor));
  }

  listBoards(): Promise<Board[]> {
    return boards.listBoards(this.driver);
  }

  getBoard(name: string): Promise<Board> {
    return boards.getBoard(this.driver, name);
  }

  createTask(input: NewTask, actor: Actor): Promise<Task> {
    return this.write((db, now) => tasks.createTask(db, now, input, actor));
  }

  getTask(id: TaskId): Promise<Task> {
    return this.driver.read((db) => tasks.getTask(db, id));
  }

  listTasks(filter: TaskFilter): Promise<Task[]> {
    return this.driver.read((db) => tasks.listTasks(db, filter));
  }

  countMatchingTasks(filter: TaskFilter): Promise<number> {
    return this.driver.read((db) => tasks.countMatchingTasks(db, filter));
  }

  inboxFacts(board: string, limit: number): Promise<InboxFacts> {
    return this.driver.read((db) => inbox.inboxFacts(db, this.clock.now(), board, limit));
  }

  reportFacts(board: string, since: EpochMs, limit: number): Promise<ReportRuns> {
    return this.driver.read((db) => report.reportFacts(db, board, since, limit));
  }

  editTask(id: TaskId, patch: TaskPatch, actor: Actor): Promise<Task> {
    return this.write((db, now) => tasks.editTask(db, now, id, patch, actor));
  }

  linkTasks(parent: TaskId, child: TaskId, actor: Actor): Promise<Task> {
    return this.write((db, now) => moves.linkTasks(db, now, parent, child, actor));
  }

  async applyGraph(
    graph: TaskGraph,
    actor: Actor,
    options: { dryRun?: boolean } = {},
  ): Promise<ApplyResult> {
    try {
      return await this.write((db, now) =>
        apply.applyGraph(db, now, graph, actor, options.dryRun === true),
      );
    } catch (err) {
      if (err instanceof apply.DryRunRollback) return err.result;
      throw err;
    }
  }

  moveTask(id: TaskId, move: TaskMove, actor: Actor): Promise<Task> {
    return this.write((db, now) => moves.moveTask(db, now, id, move, actor));
  }

  answerTask(id: TaskId, answer: string, actor: Actor, question?: string): Promise<Task> {
    return this.write((db, now) => questions.answerTask(db, now, id, answer, actor, question));
  }

  approveTask(id: TaskId, actor: Actor): Promise<Task> {
    return this.write((db, now) => approvals.approveTask(db, now, id, actor));
  }

  requestChanges(id: TaskId, reason: string, actor: Actor, ctx: PolicyContext): Promise<Task> {
    return this.write((db, now) => reviews.requestChanges(db, now, id, reason, actor, ctx.config));
  }

  addComment(id: TaskId, body: string, actor: Actor): Promise<Comment> {
    return this.write((db, now) => tasks.addComment(db, now, id, body, actor));
  }

  listComments(id: TaskId): Promise<Comment[]> {
    return tasks.listComments(this.driver, id);
  }

  listQuestions(id: TaskId): Promise<QuestionAnswer[]> {
    return questions.taskQuestions(this.driver, id);
  }

  async listRuns(taskId: TaskId): Promise<Run[]> {
    await tasks.taskRow(this.driver, taskId);
    const rows = await this.driver.all<RunRow>(
      'SELECT * FROM runs WHERE task_id = ? ORDER BY attempt',
      [taskId],
    );
    return rows.map(toRun);
  }

  listEvents(filter: EventFilter): Promise<WardenEvent[]> {
    return events.listEvents(this.driver, filter);
  }

  addProfile(name: string, spec: ProfileSpec, actor: Actor): Promise<Profile> {
    return this.write((db, now) => profiles.addProfile(db, now, name, spec, actor));
  }

  editProfile(name: string, patch: ProfilePatch, actor: Actor): Promise<Profile> {
    return this.write((db, now) => profiles.editProfile(db, now, name, patch, actor));
  }

  getProfile(name: string): Promise<Profile> {
    return profiles.getProfile(this.driver, name);
  }

  listProfiles(): Promise<Profile[]> {
    return profiles.listProfiles(this.driver);
  }

  removeProfile(name: string, actor: Actor): Promise<void> {
    return this.write((db, now) => profiles.removeProfile(db, now, name, actor));
  }

  setProfilePaused(
    name: string,
    paused: boolean,
    reason: string | null,
    actor: Actor,
  ): Promise<Profile> {
    return this.write((db, now) => profiles.setProfilePaused(db, now, name, paused, reason, actor));
  }

  addToken(
    token: { name: string; kind: TokenKind; hash: string; profiles?: string[] },
    actor: Actor,
  ): Promise<TokenInfo> {
    return this.write((db, now) => boards.addToken(db, now, token, actor));
  }

  findToken(hash: string): Promise<TokenInfo | null> {
    return boards.findToken(this.driver, hash);
  }

  boardStats(board: string): Promise<BoardStats> {
    return this.driver.read((db) => boards.boardStats(db, board));
  }

  setGroup(
    name: string,
    max: number | null,
    scope: 'board' | 'host',
    actor: Actor,
  ): Promise<GroupInfo> {
    return this.write((db, now) => groups.setGroup(db, now, name, max, scope, actor));
  }

  listGroups(): Promise<GroupInfo[]> {
    return groups.listGroups(this.driver);
  }

  addSchedule(input: NewSchedule, actor: Actor): Promise<Schedule> {
    return this.write((db, now) => schedules.addSchedule(db, now, input, actor));
  }

  listSchedules(board?: string): Promise<Schedule[]> {
    return schedules.listSchedules(this.driver, board);
  }

  getSchedule(name: string): Promise<Schedule> {
    return schedules.getSchedule(this.driver, name);
  }

  setSchedulePaused(name: string, paused: boolean, actor: Actor): Promise<Schedule> {
    return this.write((db, now) => schedules.setSchedulePaused(db, now, name, paused, actor));
  }

  removeSchedule(name: string, actor: Actor): Promise<void> {
    return this.write((db, now) => schedules.removeSchedule(db, now, name, actor));
  }

  async fireDueSchedules(actor: Actor): Promise<ScheduleFiring[]> {
    // Asked every tick: a read first, so a quiet board takes no write lock.
    const due = await schedules.dueSchedules(this.driver, this.clock.now());
    const fired: ScheduleFiring[] = [];
    for (const name of due) {
      const firing = await this.write((db, now) => schedules.fireSchedule(db, now, name, actor));
      if (firing) fired.push(firing);
    }
    return fired;
  }

  addSubscription(input: NewSubscription, actor: Actor): Promise<Subscription> {
    return this.write((db, now) => notify.addSubscription(db, now, input, actor));
  }

  listSubscriptions(): Promise<Subscription[]> {
    return notify.listSubscriptions(this.driver);
  }

  getSubscription(id: number): Promise<Subscription> {
    return notify.getSubscription(this.driver, id);
  }

  subscriptionTarget(id: number): Promise<{ url: string; secret: string | null }> {
    return notify.subscriptionTarget(this.driver, id);
  }

  removeSubscription(id: number): Promise<void> {
    return this.write((db) => notify.removeSubscription(db, id));
  }

  listDeadLetters(page?: DeadLetterPage): Promise<DeadLetter[]> {
    return notify.listDeadLetters(this.driver, page);
  }

  countDeadLetters(): Promise<number> {
    return notify.countDeadLetters(this.driver);
  }

  getDeadLetter(id: number): Promise<DeadLetter> {
    return notify.getDeadLetter(this.driver, id);
  }

  removeDeadLetter(id: number): Promise<void> {
    return this.write((db) => notify.removeDeadLetter(db, id));
  }

  async dueNotifications(host: string, busy?: readonly number[]): Promise<DueNotification[]> {
    // Reads only, on a quiet board: a cursor is written when it passes events nobody wants.
    const found = await this.driver.read(async (db) => {
      const now = await hosts.storeNow(db, this.clock.now());
      const ready = await notify.readySubscriptions(db, now, host, busy);
      return Promise.all(ready.map((row) => notify.nextFor(db, row, NOTIFY_BATCH)));
    });
    for (const { skip } of found) {
      if (skip) await this.write((db) => notify.skipTo(db, skip.id, skip.from, skip.to));
    }
    return found.flatMap((f) => (f.due ? [f.due] : []));
  }

  eventsHeldBack(): Promise<HeldBack> {
    return this.driver.read(async (db) =>
      eventsHeldBack(db, await hosts.storeNow(db, this.clock.now())),
    );
  }

  claimNotification(due: DueNotification, host: string, leaseMs: number): Promise<boolean> {
    return this.write(async (db, local) =>
      notify.claim(db, await hosts.storeNow(db, local), due, host, leaseMs),
    );
  }

  recordNotification(
    due: DueNotification,
    host: string,
    result: { ok: true } | { ok: false; error: string; attempts: number; retryInMs: number },
  ): Promise<NotifyOutcome> {
    return this.write(async (db, local) =>
      notify.record(db, await hosts.storeNow(db, local), due, host, result),
    );
  }

  claimRuns(
    req: ClaimRequest,
    workspaceRoot: string | null,
    worktreeRoot: string | null = null,
  ): Promise<Claim[]> {
    return this.claims.claim(req, { workspaceRoot, worktreeRoot });
  }

  getWorktree(taskId: TaskId): Promise<WorktreeRecord | null> {
    return this.driver.read((db) => worktrees.getWorktree(db, taskId));
  }

  recordWorktree(
    rec: Omit<WorktreeRecord, 'created_at' | 'removed_at'>,
    actor: Actor,
  ): Promise<WorktreeRecord> {
    return this.write((db, now) => worktrees.recordWorktree(db, now, rec, actor));
  }

  worktreeRemoved(taskId: TaskId, branchDeleted: boolean, actor: Actor): Promise<void> {
    return this.write((db, now) =>
      worktrees.worktreeRemoved(db, now, taskId, branchDeleted, actor),
    );
  }

  archivedWorktrees(host: string): Promise<WorktreeRecord[]> {
    return this.driver.read((db) => worktrees.archivedWorktrees(db, host));
  }

  recordSpawn(runId: RunId, identity: ProcessIdentity, logPath: string): Promise<void> {
    return this.write((db) => runs.recordSpawn(db, runId, identity, logPath));
  }

  recordProgress(batch: readonly ProgressUpdate[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    return this.write(async (db, now) => {
      await recordActivity(db, now, batch);
      await runs.recordProgress(db, batch);
    });
  }

  markStallWarning(runId: RunId, host: string, payload: Record<string, Json>): Promise<boolean> {
    return this.write((db, now) => runs.markStallWarning(db, now, runId, host, payload));
  }

  beginEnding(
    runId: RunId,
    outcome: Outcome,
    reason: RunReason,
    actor: Actor,
    intent?: StopIntent,
  ): Promise<boolean> {
    return this.write((db, now) =>
      runs.beginEnding(db, now, runId, outcome, reason, actor, intent),
    );
  }

  recordEndingPhases(runId: RunId, phases: EndingPhases): Promise<void> {
    return this.write((db) => runs.recordEndingPhases(db, runId, phases));
  }

  endRun(
    runId: RunId,
    final: RunFinal,
    ctx: PolicyContext & { host: string },
    actor: Actor,
  ): Promise<Task | null> {
    return this.write(async (db, now) => {
      if (final.progress) await recordActivity(db, now, [final.progress]);
      return runs.endRun(db, now, runId, final, { ...ctx, random: this.random }, actor);
    });
  }

  finishRun(
    runId: RunId,
    final: RunFinal,
    ctx: PolicyContext & { host: string },
  ): Promise<Task | null> {
    return this.write(async (db, now) => {
      if (final.progress) await recordActivity(db, now, [final.progress]);
      return runs.finishRun(db, now, runId, final, { ...ctx, random: this.random });
    });
  }

  openRuns(host: string | null): Promise<Run[]> {
    return runs.openRuns(this.driver, host);
  }

  async getRun(id: RunId): Promise<Run> {
    const row = await runs.runRow(this.driver, id);
    if (!row) throw notFound(`run ${id} does not exist`);
    return toRun(row);
  }

  async getRuns(ids: readonly RunId[]): Promise<Run[]> {
    if (ids.length === 0) return [];
    const among = idIn(this.driver, 'id', ids);
    const rows = await this.driver.all<RunRow>(`SELECT * FROM runs WHERE ${among.sql}`, [
      among.param,
    ]);
    return rows.map(toRun);
  }

  async runTokenHash(id: RunId): Promise<string> {
    const row = await runs.runRow(this.driver, id);
    if (!row) throw notFound(`run ${id} does not exist`);
    return row.token_hash;
  }

  writeEvent(actor: Actor, event: NewEvent): Promise<void> {
    return this.write((db, now) => events.appendEvent(db, now, actor, event));
  }

  async prunableFolders(
    runIds: readonly RunId[],
    taskIds: readonly TaskId[],
    before: EpochMs,
  ): Promise<{ runs: RunId[]; tasks: TaskId[] }> {
    return this.driver.read(async (db) => ({
      runs: await gc.prunableRuns(db, runIds, before),
      tasks: await gc.prunableTasks(db, taskIds, before),
    }));
  }

  pruneEvents(
    before: EpochMs,
    dryRun: boolean,
    batch = gc.PRUNE_BATCH,
  ): Promise<{ events: number; tasks: number }> {
    return dryRun
      ? this.driver.read((db) => gc.countPrunableEvents(db, before))
      : gc.pruneEvents((fn) => this.write(fn), before, batch);
  }

  /** Runs a worker's call behind the fence; a refusal commits its `stale_run` event first. */
  private async fenced<T>(
    tokenHash: string,
    op: string,
    fn: (db: SqlDb, now: number, f: worker.FencedRun) => Promise<T>,
  ): Promise<T> {
    const result = await this.write(async (db, now) => {
      const checked = await worker.fence(db, now, tokenHash, op);
      if (!checked.ok) return checked;
      return { ok: true as const, value: await fn(db, now, checked.fenced) };
    });
    if (!result.ok) throw result.error;
    return result.value;
  }

  workerContext(tokenHash: string): Promise<WorkerContext> {
    return this.fenced(tokenHash, 'show', (db, _now, f) => worker.workerContext(db, f));
  }

  async llmAdmit(tokenHash: string): Promise<LlmAdmission> {
    // On its own connection: a model request's first byte waits for no tick's transaction.
    const admitted = await llm.llmAdmission(
      this.driver.concurrentReads(),
      this.clock.now(),
      tokenHash,
    );
    if (admitted) return admitted;
    // Not current: the fence says why and records the refusal; a run that became current
    // meanwhile is read again.
    await this.fenced(tokenHash, 'llm', () => Promise.resolve(null));
    const again = await llm.llmAdmission(this.driver, this.clock.now(), tokenHash);
    if (!again) throw new Error('a run the fence accepted is not current');
    return again;
  }

  recordLlmRequest(rec: LlmRequestRecord, rateLimited = false): Promise<RunLlm> {
    return this.write((db) => llm.recordLlmRequest(db, rec, rateLimited));
  }

  async releaseTransientBlocks(ctx: PolicyContext & { host: string }): Promise<number> {
    // Asked every tick: a read first, so a quiet board takes no write lock.
    if (!(await transient.anyTransientDue(this.driver, this.clock.now()))) return 0;
    return this.write((db, now) => transient.releaseTransientBlocks(db, now, ctx));
  }

  llmStats(filter: llmStats.LlmStatFilter): Promise<llmStats.LlmStatRow[]> {
    return this.driver.read((db) => llmStats.llmStats(db, filter));
  }

  metricFigures(): Promise<MetricFigures> {
    return this.driver.read((db) => metricFigures(db));
  }

  timelineFacts(runId: RunId): Promise<TimelineFacts> {
    return this.driver.read((db) => timelineFacts(db, runId));
  }

  workerTouch(tokenHash: string, op: string): Promise<Run> {
    return this.fenced(tokenHash, op, (_db, _now, f) => Promise.resolve(toRun(f.run)));
  }

  async workerTerminal(
    tokenHash: string,
    call: TerminalCall,
    ctx?: PolicyContext & { host: string },
  ): Promise<TerminalAnswer> {
    const close = ctx && { ...ctx, random: this.random };
    const result = this.reports
      ? await this.reports.report({ tokenHash, call, close })
      : await this.write((db, now) => worker.report(db, now, tokenHash, call, close));
    if (!result.ok) throw result.error;
    return result.value;
  }

  workerComment(tokenHash: string, body: string): Promise<Comment> {
    return this.fenced(tokenHash, 'comment', (db, now, f) =>
      tasks.addComment(db, now, f.task.id, body, f.actor),
    );
  }

  workerCreate(
    tokenHash: string,
    input: NewTask & { after_me?: boolean },
    ctx: PolicyContext,
  ): Promise<Task> {
    return this.fenced(tokenHash, 'create', (db, now, f) =>
      worker.workerCreate(db, now, f, input, ctx.config),
    );
  }

  workerLink(tokenHash: string, parent: TaskId, child: TaskId): Promise<Task> {
    return this.fenced(tokenHash, 'link', (db, now, f) =>
      worker.workerLink(db, now, f, parent, child),
    );
  }

  openLease(
    token: TokenInfo,
    name: string,
    profiles: readonly string[] | undefined,
    ttlMs: number,
  ): Promise<LeaseInfo> {
    return this.write(async (db, now) =>
      leases.openLease(db, await hosts.storeNow(db, now), token, name, profiles, ttlMs),
    );
  }

  renewLease(
    id: string,
    token: TokenInfo,
    ttlMs: number,
  ): Promise<{ lease: LeaseInfo; cancel: Cancellation[] }> {
    return this.write(async (db, now) =>
      leases.renewLease(db, await hosts.storeNow(db, now), id, token, ttlMs),
    );
  }

  async reissueClaim(leaseId: string, claimId: string): Promise<ReissuedRun[]> {
    if (!(await reissue.claimHasRuns(this.driver.concurrentReads(), leaseId, claimId))) return [];
    return this.write((db) => reissue.reissueClaim(db, leaseId, claimId));
  }

  checkLease(id: string, token: TokenInfo): Promise<LeaseInfo> {
    return leases.checkLiveLease(this.driver.concurrentReads(), this.clock.now(), id, token);
  }

  findTokenAndLease(
    hash: string,
    id: string,
  ): Promise<{ token: TokenInfo; lease: LeaseInfo | WardenError } | null> {
    return leases.findTokenAndLease(this.driver.concurrentReads(), this.clock.now(), hash, id);
  }

  endLeases(only?: { id: string; reason: string }): Promise<{ lease: string; runs: RunId[] }[]> {
    // Pull leases too lapse by the store's clock (PostgreSQL's with several hosts).
    return this.write(async (db, now) => leases.endLeases(db, await hosts.storeNow(db, now), only));
  }

  extendLeases(ms: Millis): Promise<number> {
    return this.write(async (db, now) =>
      leases.extendLeases(db, await hosts.storeNow(db, now), ms),
    );
  }

  graceLeases(ttlMs: Millis): Promise<number> {
    return this.write(async (db, now) =>
      leases.graceLeases(db, await hosts.storeNow(db, now), ttlMs),
    );
  }

  leaseCancellations(id: string): Promise<Cancellation[]> {
    return leases.cancellations(this.driver, id);
  }

  listTokens(): Promise<TokenInfo[]> {
    return boards.listTokens(this.driver);
  }

  revokeToken(name: string, actor: Actor): Promise<void> {
    return this.write((db, now) => boards.revokeToken(db, now, name, actor));
  }

  createLoginCode(tokenId: number, hash: string, ttlMs: number): Promise<void> {
    return this.write((db, now) => sessions.createLoginCode(db, now, tokenId, hash, ttlMs));
  }

  exchangeLoginCode(
    codeHash: string,
    sessionHash: string,
    sessionTtlMs: number,
  ): Promise<TokenInfo> {
    return this.write((db, now) =>
      sessions.exchangeLoginCode(db, now, codeHash, sessionHash, sessionTtlMs),
    );
  }

  findSession(hash: string): Promise<TokenInfo | null> {
    return sessions.findSession(this.driver, this.clock.now(), hash);
  }

  endSession(hash: string): Promise<void> {
    return this.write((db) => sessions.endSession(db, hash));
  }

  setBoardPaused(name: string, paused: boolean, actor: Actor): Promise<Board> {
    return this.write((db, now) => boards.setBoardPaused(db, now, name, paused, actor));
  }

  countTasks(board: string, q?: string): Promise<Record<string, number>> {
    return tasks.countTasks(this.driver, board, q);
  }

  async taskStatuses(ids: readonly TaskId[]): Promise<Record<TaskId, TaskStatus>> {
    if (ids.length === 0) return {};
    const among = idIn(this.driver, 'id', ids);
    const rows = await this.driver.all<{ id: number; status: TaskStatus }>(
      `SELECT id, status FROM tasks WHERE ${among.sql}`,
      [among.param],
    );
    return Object.fromEntries(rows.map((r) => [Number(r.id), r.status]));
  }

  runningByAssignee(board: string): Promise<Record<string, number>> {
    return tasks.runningByAssignee(this.driver, board);
  }

  boardColumns(query: ColumnsQuery): Promise<BoardColumns> {
    return this.driver.read((db) => boardColumns(db, query));
  }

  endedRuns(
    board: string,
    since: number,
  ): Promise<{ ended_at: number; outcome: string; profile: string | null }[]> {
    return this.driver.all(
      "SELECT ended_at, outcome, profile FROM runs WHERE board = ? AND state = 'ended' AND ended_at >= ? ORDER BY ended_at",
      [board, since],
    );
  }

  activeHosts(): Promise<HostRecord[]> {
    return hosts.activeHosts(this.driver);
  }

  claimHome(
    me: { host_id: string; process: ProcessIdentity; url: string | null },
    presumedDead: readonly HostRecord[],
  ): Promise<{ ok: true } | { ok: false; holders: HostRecord[] }> {
    return this.write((db, now) => hosts.claimHome(db, now, me, presumedDead));
  }

  renewHostLease(
    hostId: string,
    secretHash: string,
    ttlMs: number,
  ): Promise<{ expires_at: number; renewed_at: number; lapsed: boolean }> {
    // Row-locked, never a serialisation failure: a renewal that kept failing against the other
    // hosts' renewals and reaps outlasted the freeze margin under load (issue #11).
    return this.write((db, now) => hosts.renewHostLease(db, now, hostId, secretHash, ttlMs), {
      rowLocked: true,
    });
  }

  reapHost(hostId: string, by: string, ctx: PolicyContext): Promise<hosts.Reaped | null> {
    // In the admission turn, at REPEATABLE READ: SERIALIZABLE made the reap, the largest
    // transaction here, fail against every claim, completion and renewal of the other hosts,
    // and under load it lost all its retries tick after tick (issue #11). The turn orders it
    // with claims and with the other hosts' reaps of the same host (the second finds it
    // reaped); the rows it writes are the lapsed host's own, so a real conflict still fails it.
    return this.write(
      (db, local) => reapLapsedHost(db, local, hostId, by, { ...ctx, random: this.random }),
      { lock: ADMISSION_LOCK },
    );
  }

  lapsedHosts(): Promise<HostRecord[]> {
    return this.driver.read((db) => hosts.lapsedHosts(db, this.clock.now()));
  }

  describeHost(hostId: string, about: { url: string; max_workers: number }): Promise<void> {
    return this.write((db, now) => hosts.describeHost(db, now, hostId, about));
  }

  listHosts(): Promise<(HostRecord & { open_runs: number })[]> {
    return this.driver.read((db) => hosts.listHosts(db));
  }

  releaseHome(hostId: string, process: ProcessIdentity): Promise<void> {
    return this.write((db, now) => hosts.releaseHome(db, now, hostId, process));
  }

  keepIdsPast(floors: { runs: number; tasks: number }): Promise<{ runs: boolean; tasks: boolean }> {
    return this.write(async (db) => ({
      runs: await keepIdPast(db, 'runs', floors.runs),
      tasks: await keepIdPast(db, 'tasks', floors.tasks),
    }));
  }
}
