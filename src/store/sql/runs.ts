import { dispatcher, person } from '../../core/actor.js';
import type { Actor } from '../../core/actor.js';
import { BlockRule, accountRun } from '../../core/accounting.js';
import type { Decision } from '../../core/accounting.js';
import type { Policy } from '../../core/policy.js';
import type { TaskCounters } from '../../core/task.js';
import type { Random } from '../../core/backoff.js';
import type { Json } from '../../core/events.js';
import type { RunId, TaskId } from '../../core/glossary.js';
import { resolvePolicy } from '../../core/policy.js';
import { workerDecides } from '../../core/ending.js';
import type { EndingPhases, StopIntent } from '../../core/ending.js';
import { lastLine } from '../../core/reasons.js';
import type { BlockKind, Outcome } from '../../core/status.js';
import type { ProcessIdentity, Run, RunReason } from '../../core/run.js';
import type { Task } from '../../core/task.js';
import { resolveTransition } from '../../core/transitions.js';
import type { PolicyContext, ProgressUpdate, RunFinal } from '../run-types.js';
import { accountBreaker } from './breaker.js';
import { evidenceNote } from '../../core/worktree.js';
import { greatest } from './driver.js';
import type { SqlDb, SqlParam } from './driver.js';
import { appendEvent } from './events.js';
import { json, toRun } from './rows.js';
import type { ProfileRow, RunRow, TaskRow } from './rows.js';
import { holdOrphans, promoteChildren } from './task-moves.js';
import { getTask, parentsDone } from './tasks.js';
import { aroundTask, recentRuns } from './around-task.js';
import type { AroundTask } from './around-task.js';
import { EventBatch } from './event-batch.js';
import { releaseSet } from './release-set.js';
import type { ReleaseRow, RunEnd, TaskRelease } from './release-set.js';
import type { ReportedEnding } from './worker.js';

/** One run row, or undefined. */
export async function runRow(db: SqlDb, id: RunId): Promise<RunRow | undefined> {
  return db.get<RunRow>('SELECT * FROM runs WHERE id = ?', [id]);
}

/** Runs of a host (or of pull workers when `host` is null) that have not ended. */
export async function openRuns(db: SqlDb, host: string | null): Promise<Run[]> {
  const rows =
    host === null
      ? await db.all<RunRow>(
          "SELECT * FROM runs WHERE state <> 'ended' AND mode = 'pull' ORDER BY id",
        )
      : await db.all<RunRow>(
          "SELECT * FROM runs WHERE state <> 'ended' AND host_id = ? ORDER BY id",
          [host],
        );
  return rows.map(toRun);
}

/** Records who the spawned process is, so a restarted host can find it again. */
export async function recordSpawn(
  db: SqlDb,
  runId: RunId,
  identity: ProcessIdentity,
  logPath: string,
): Promise<void> {
  await db.run(
    "UPDATE runs SET boot_id = ?, pid = ?, proc_start_time = ?, log_path = ? WHERE id = ? AND state <> 'ended'",
    [identity.boot_id, identity.pid, identity.start_time, logPath, runId],
  );
}

/** Writes a batch of progress figures; later times never go backwards. */
export async function recordProgress(db: SqlDb, batch: readonly ProgressUpdate[]): Promise<void> {
  for (const u of batch) {
    await db.run(
      `UPDATE runs SET
         last_progress_at = ${greatest(db, 'COALESCE(last_progress_at, 0)', 'COALESCE(CAST(? AS BIGINT), 0)')},
         last_output_at = ${greatest(db, 'COALESCE(last_output_at, 0)', 'COALESCE(CAST(? AS BIGINT), 0)')},
         last_heartbeat_at = ${greatest(db, 'COALESCE(last_heartbeat_at, 0)', 'COALESCE(CAST(? AS BIGINT), 0)')},
         output_bytes = ${greatest(db, 'output_bytes', 'COALESCE(CAST(? AS BIGINT), 0)')},
         progress_count = ${greatest(db, 'progress_count', 'COALESCE(CAST(? AS INTEGER), 0)')},
         last_note = COALESCE(CAST(? AS TEXT), last_note),
         stall_warned_at = CASE WHEN stall_warned_at IS NOT NULL AND COALESCE(CAST(? AS BIGINT), 0) > stall_warned_at THEN NULL ELSE stall_warned_at END
       WHERE id = ? AND state <> 'ended'`,
      [
        u.last_progress_at ?? null,
        u.last_output_at ?? null,
        u.last_heartbeat_at ?? null,
        u.output_bytes ?? null,
        u.progress_count ?? null,
        u.last_note ?? null,
        u.last_progress_at ?? null,
        u.runId,
      ],
    );
    if (u.llm_state !== undefined) {
      await db.run(
        "UPDATE runs SET llm_state = ?, llm_state_since = ? WHERE id = ? AND state <> 'ended'",
        [u.llm_state, u.llm_state === null ? null : (u.llm_state_since ?? null), u.runId],
      );
    }
    // Zero stays "never": MAX with 0 must not turn a null into 0.
    await db.run(
      `UPDATE runs SET last_progress_at = NULLIF(last_progress_at, 0), last_output_at = NULLIF(last_output_at, 0),
         last_heartbeat_at = NULLIF(last_heartbeat_at, 0) WHERE id = ?`,
      [u.runId],
    );
  }
}

/** Writes a silence's `stall_warning`; false if the run is not running. */
export async function markStallWarning(
  db: SqlDb,
  now: number,
  runId: RunId,
  host: string,
  payload: Record<string, Json>,
): Promise<boolean> {
  const changed = await db.run(
    // Once per silence is the owning host's rule (it re-arms on progress before the batch lands).
    "UPDATE runs SET stall_warned_at = ? WHERE id = ? AND state = 'running'",
    [now, runId],
  );
  if (changed === 0) return false;
  const run = await runRow(db, runId);
  await appendEvent(db, now, dispatcher(host), {
    kind: 'stall_warning',
    board: run?.board ?? null,
    task_id: run?.task_id ?? null,
    run_id: runId,
    payload,
  });
  return true;
}

/**
 * The fence (SPEC §3 "Ending a run", step 1): compare-and-set the run from `running` to
 * `ending`, with a person's stop intent when a person ended it. From that instant a second
 * ending loses and the run's token is stale. Returns whether this call won.
 */
export async function beginEnding(
  db: SqlDb,
  now: number,
  runId: RunId,
  outcome: Outcome,
  reason: RunReason,
  actor: Actor,
  intent?: StopIntent,
): Promise<boolean> {
  const changed = await db.run(
    "UPDATE runs SET state = 'ending', ending_at = ?, outcome = ?, reason = ?, stop_intent = ? WHERE id = ? AND state = 'running'",
    [now, outcome, JSON.stringify(reason), intent ? JSON.stringify(intent) : null, runId],
  );
  if (changed === 0) return false;
  const run = await runRow(db, runId);
  await appendEvent(db, now, actor, {
    kind: 'run_ending',
    board: run?.board ?? null,
    task_id: run?.task_id ?? null,
    run_id: runId,
    payload: { outcome, rule: reason.rule, message: reason.message },
  });
  return true;
}

/**
 * Writes what the phases of an ending did onto the reason of a run still `ending` (a group
 * that would not die stays held there, and its reason says why).
 */
export async function recordEndingPhases(
  db: SqlDb,
  runId: RunId,
  phases: EndingPhases,
): Promise<void> {
  const run = await runRow(db, runId);
  if (run?.state !== 'ending' || run.reason === null) return;
  const reason = { ...(JSON.parse(run.reason) as RunReason), phases };
  await db.run("UPDATE runs SET reason = ? WHERE id = ? AND state = 'ending'", [
    JSON.stringify(reason),
    runId,
  ]);
}

/**
 * Ends a run at once, in one transaction: the fence (if it is still `running`), then the
 * close. For runs with no process to wait for: one that never started, a pull run whose
 * worker reported or let go, a lapsed host's runs.
 */
export async function endRun(
  db: SqlDb,
  now: number,
  runId: RunId,
  final: RunFinal,
  ctx: PolicyContext & { host: string; random: Random },
  actor: Actor,
): Promise<Task | null> {
  await beginEnding(db, now, runId, final.outcome, final.reason, actor);
  return finishRun(db, now, runId, final, ctx);
}

/**
 * Closes an `ending` run and releases its task (SPEC §3, step 4) through the one accounting
 * function. A worker's own terminal call (complete, block, review) decides the outcome over
 * what the host observed afterwards. Ending an already ended run does nothing.
 */
export async function finishRun(
  db: SqlDb,
  now: number,
  runId: RunId,
  final: RunFinal,
  ctx: PolicyContext & { host: string; random: Random },
): Promise<Task | null> {
  const taskId = await closeRun(db, now, runId, final, ctx);
  return taskId === null ? null : getTask(db, taskId);
}

/**
 * `finishRun` without reading the task back: says which task the run was of, or null when it
 * had already ended (a worker's report closing its pull run answers from what it wrote).
 */
export async function closeRun(
  db: SqlDb,
  now: number,
  runId: RunId,
  final: RunFinal,
  ctx: PolicyContext & { host: string; random: Random },
  /**
   * What this transaction already has: the run's row as it last wrote it (or, with `ending`,
   * as a worker's report left it without writing it: its ending is written with the close),
   * the task's as it read it (unchanged since), and what it read around them; what is not
   * given is read here.
   */
  known: { run?: RunRow; task?: TaskRow; around?: AroundTask; ending?: ReportedEnding } = {},
): Promise<TaskId | null> {
  const run = known.run ?? (await runRow(db, runId));
  if (!run || run.state === 'ended') return null;
  const workerSaid = run.terminal_request !== null && workerDecides(run.outcome as Outcome);
  const outcome = workerSaid ? (run.outcome as Outcome) : final.outcome;
  const stored = run.reason === null ? null : (JSON.parse(run.reason) as RunReason);
  // Whatever the worker reported (a result, a block, a failure) is the reason the run ended,
  // with what the phases did; otherwise the ending's reason, with the worker's last words.
  const ownWords = run.terminal_request !== null && stored !== null;
  const chosen: RunReason = ownWords && stored !== null ? stored : final.reason;
  // Not after a report of the worker's own (a `fail` too): its words are the reason, and its
  // last line is most often the CLI's echo of that report ("failed"), which a cut reason
  // would show in their place.
  const lastOutput =
    ownWords || workerDecides(outcome) || outcome === 'stopped'
      ? undefined
      : lastLine(final.log_tail);
  // The rescue ref of uncommitted work is named on the reason, whoever decided the outcome.
  const note = final.evidence ? evidenceNote(final.evidence) : null;
  const reason: RunReason = {
    ...chosen,
    ...(note !== null ? { message: `${chosen.message} (${note})` } : {}),
    ...(final.phases ? { phases: final.phases } : {}),
    ...(lastOutput !== undefined && chosen.last_output === undefined
      ? { last_output: lastOutput }
      : {}),
  };
  // A person's stop intent was recorded when the run was fenced; it holds whoever closes it.
  const intent: StopIntent = json<StopIntent | null>(run.stop_intent, null) ?? {};
  const p = final.progress;
  const progressCount = Math.max(run.progress_count, p?.progress_count ?? 0);
  const outputBytes = Math.max(run.output_bytes, p?.output_bytes ?? 0);
  const later = (a: number | null, b: number | null | undefined): number | null =>
    b === undefined || b === null ? a : a === null ? b : Math.max(a, b);
  let resultSummary = run.result_summary;
  let resultMetadata = run.result_metadata;
  if (outcome === 'completed' && resultSummary === null) {
    // exit_zero: auto — a worker that never used the protocol is summarised by its log tail.
    resultSummary = final.log_tail ?? '';
    resultMetadata = JSON.stringify({ exit_code: final.exit_code ?? 0, from: 'log_tail' });
  }
  // A report that closes its own run has its ending written here, in the one UPDATE.
  const ending = known.ending;
  const end: RunEnd = {
    ended_at: now,
    outcome,
    reason: JSON.stringify(reason),
    exit_code: final.exit_code ?? null,
    signal: final.signal ?? null,
    log_tail: final.log_tail ?? null,
    progress_count: progressCount,
    output_bytes: outputBytes,
    last_progress_at: later(run.last_progress_at, p?.last_progress_at),
    last_output_at: later(run.last_output_at, p?.last_output_at),
    last_heartbeat_at: later(run.last_heartbeat_at, p?.last_heartbeat_at),
    result_summary: resultSummary,
    result_metadata: resultMetadata,
    last_note: p?.last_note ?? null,
    evidence: final.evidence ? JSON.stringify(final.evidence) : null,
  };
  // PostgreSQL: a closing whose reads were all made beforehand (a worker's report closing its
  // own pull run) writes the run with its task, in one statement (`holdRelease`); nothing
  // between the two reads the run. Otherwise the run is written now.
  const withTask =
    db.dialect === 'postgres' &&
    known.around !== undefined &&
    ending !== undefined &&
    known.task?.current_run_id === runId &&
    run.role !== 'review';
  if (!withTask && (await db.run(...closeStatement(runId, end, ending))) === 0)
    throw new Error(`run ${runId} vanished while it was closed`);
  const task =
    known.task ?? (await db.get<TaskRow>('SELECT * FROM tasks WHERE id = ?', [run.task_id]));
  if (!task) return null;
  const actor = dispatcher(ctx.host);
  // The person whose action ended the run is the actor of its ending.
  const endedBy = reason.by !== undefined ? person(reason.by) : actor;
  // A progress time counts too: a pull run's `progress` calls are counted by the host that
  // heard them, and one that lost its lease was closed by another host (a trial's were taken
  // for silent, and two such runs blocked their task stall_loop).
  const madeProgress = progressCount > 0 || outputBytes > 0 || end.last_progress_at !== null;
  await appendEvent(db, now, endedBy, {
    kind: 'run_ended',
    board: run.board,
    task_id: run.task_id,
    run_id: runId,
    payload: {
      attempt: run.attempt,
      outcome,
      rule: reason.rule,
      message: reason.message,
      exit_code: final.exit_code ?? null,
      signal: final.signal ?? null,
      made_progress: madeProgress,
    },
  });
  if (task.current_run_id !== runId) return task.id;
  const around = known.around ?? (await aroundTask(db, run.profile, task.id));
  const profile = around.profile;
  const profilePolicy = profile
    ? ((JSON.parse(profile.spec) as { policy?: Record<string, unknown> }).policy ?? {})
    : {};
  const policy = resolvePolicy(
    ctx.config,
    profilePolicy,
    JSON.parse(task.policy) as Record<string, unknown>,
  );
  const review = run.role === 'review';
  // A person's stop says the kind in its intent; a worker's block, in its reported reason.
  const reported =
    outcome === 'worker_blocked' ? (chosen.extra?.block_kind as BlockKind | undefined) : undefined;
  const blockKind = intent.kind ?? reported;
  const recent = await recentRuns(db, run.task_id, policy.stall_loop_limit + 1, around.recent);
  const decision = accountRun({
    ending: {
      runId,
      outcome,
      madeProgress,
      message: reason.message,
      ...(blockKind !== undefined ? { blockKind } : {}),
      ...(workerSaid && chosen.rule === 'worker_asked' ? { asked: true } : {}),
      ...(review ? { review: true } : {}),
      ...(intent.requeue !== undefined ? { requeue: intent.requeue } : {}),
      ...(reason.last_output !== undefined ? { lastOutput: reason.last_output } : {}),
    },
    counters: {
      attempts: task.attempts,
      failures: task.failures,
      stall_streak: task.stall_streak,
      rate_limited_streak: task.rate_limited_streak,
      spawn_failures: task.spawn_failures,
      host_losses: task.host_losses,
    },
    policy,
    now,
    random: ctx.random,
    recentRunIds: recent,
  });
  const verdict = review ? await reviewVerdict(db, now, run, task, outcome, reason, policy) : null;
  const decided = verdict ?? decision;
  const c = decided.counters;
  const parentsReady = around.parentsDone ?? (await parentsDone(db, task.id));
  const verb = intent.archive ? 'archive' : decided.verb;
  // Who makes the move: the person who archived, the worker who reported, else the host (who
  // also applies a reviewer's verdict).
  const mover = verb === 'archive' ? 'person' : workerSaid && !review ? 'worker' : 'dispatcher';
  const to = resolveTransition(verb, 'running', mover, parentsReady);
  // A review run's verdict leaves the work's result as it is.
  const isDone = (to === 'done' || to === 'review') && !review;
  // Work handed to review waits for its profile's reviewer, when it names one.
  const reviewBy = to === 'review' && !review && profile ? reviewerOf(profile) : null;
  const release: TaskRelease = {
    status: to,
    updated_at: now,
    failures: c.failures,
    stall_streak: c.stall_streak,
    rate_limited_streak: c.rate_limited_streak,
    spawn_failures: c.spawn_failures,
    host_losses: c.host_losses,
    // A requeue's delay, or when a transient block clears itself.
    set_not_before: verb === 'requeue' || (to === 'blocked' && decided.notBefore !== null) ? 1 : 0,
    not_before: decided.notBefore,
    block_reason: to === 'blocked' ? decided.message : null,
    block_kind: to === 'blocked' ? decided.kind : null,
    block_rule: to === 'blocked' ? decided.rule : null,
    is_done: isDone ? 1 : 0,
    review_by: reviewBy,
  };
  if (withTask && ending)
    await holdRelease(db, { run_id: runId, task_id: task.id, run: end, ending, task: release });
  else await db.run(...releaseStatement(task.id, release, end));
  const eventKind =
    to === 'done'
      ? 'task_done'
      : to === 'review'
        ? 'task_review_requested'
        : to === 'blocked'
          ? 'task_blocked'
          : to === 'archived'
            ? 'task_archived'
            : 'task_requeued';
  await appendEvent(db, now, actor, {
    kind: eventKind,
    board: task.board,
    task_id: task.id,
    run_id: runId,
    payload: {
      from: 'running',
      to,
      outcome,
      rule: decided.rule,
      kind: decided.kind,
      reason: decided.message,
      not_before: verb === 'requeue' ? decided.notBefore : null,
      counters: { ...c },
      // Work in review waits for this reviewer profile's run, or (null) for a person.
      ...(to === 'review' ? { review_by: reviewBy } : {}),
    },
  });
  if (intent.reassign !== undefined && intent.reassign !== task.assignee && to !== 'archived') {
    // In the same transaction as the release, so no dispatcher can claim it for the old profile.
    await db.run('UPDATE tasks SET assignee = ? WHERE id = ?', [intent.reassign, task.id]);
    await appendEvent(db, now, actor, {
      kind: 'task_edited',
      board: task.board,
      task_id: task.id,
      payload: { assignee: { from: task.assignee, to: intent.reassign } },
    });
  }
  if (decided.groupNotBefore !== null && profile) {
    const group =
      (JSON.parse(profile.spec) as { concurrency_group?: string | null }).concurrency_group ?? null;
    if (group !== null) {
      await db.run(
        `INSERT INTO concurrency_groups (name, max_concurrency, scope, not_before, updated_at) VALUES (?, NULL, 'board', ?, ?)
         ON CONFLICT (name) DO UPDATE SET not_before = ${greatest(db, 'COALESCE(concurrency_groups.not_before, 0)', 'excluded.not_before')}, updated_at = excluded.updated_at`,
        [group, decided.groupNotBefore, now],
      );
    }
  }
  if (profile)
    await accountBreaker(
      db,
      now,
      ctx.host,
      profile,
      runId,
      task.id,
      decision,
      policy.profile_breaker,
    );
  if (to === 'done' && around.waitingChildren !== false)
    await promoteChildren(db, now, task.id, actor);
  if (to === 'archived') await holdOrphans(db, now, task.id, endedBy);
  return task.id;
}

/** The UPDATE that closes a run on its own, with a report's ending when it has one. */
function closeStatement(
  runId: RunId,
  e: RunEnd,
  ending: ReportedEnding | undefined,
): [string, SqlParam[]] {
  return [
    `UPDATE runs SET state = 'ended', ended_at = ?, outcome = ?, reason = ?, exit_code = ?, signal = ?, log_tail = ?,
       progress_count = ?, output_bytes = ?, last_progress_at = ?, last_output_at = ?, last_heartbeat_at = ?,
       result_summary = ?, result_metadata = ?, last_note = COALESCE(CAST(? AS TEXT), last_note),
       evidence = COALESCE(CAST(? AS TEXT), evidence)${
         ending
           ? ', ending_at = ?, terminal_request = ?, terminal_response = ?, used_protocol = 1'
           : ''
       }
     WHERE id = ?`,
    [
      e.ended_at,
      e.outcome,
      e.reason,
      e.exit_code,
      e.signal,
      e.log_tail,
      e.progress_count,
      e.output_bytes,
      e.last_progress_at,
      e.last_output_at,
      e.last_heartbeat_at,
      e.result_summary,
      e.result_metadata,
      e.last_note,
      e.evidence,
      ...(ending ? [ending.ending_at, ending.terminal_request, ending.terminal_response] : []),
      runId,
    ],
  ];
}

/** The UPDATE that releases a task from its run, once the run is closed as `e` says. */
function releaseStatement(taskId: TaskId, r: TaskRelease, e: RunEnd): [string, SqlParam[]] {
  return [
    `UPDATE tasks SET status = ?, current_run_id = NULL, updated_at = ?, failures = ?, stall_streak = ?,
       rate_limited_streak = ?, spawn_failures = ?, host_losses = ?,
       not_before = CASE WHEN ? = 1 THEN ? ELSE not_before END,
       block_reason = ?, block_kind = ?, block_rule = ?,
       result_summary = CASE WHEN ? = 1 THEN ? ELSE result_summary END,
       result_metadata = CASE WHEN ? = 1 THEN ? ELSE result_metadata END,
       review_by = ?
     WHERE id = ?`,
    [
      r.status,
      r.updated_at,
      r.failures,
      r.stall_streak,
      r.rate_limited_streak,
      r.spawn_failures,
      r.host_losses,
      r.set_not_before,
      r.not_before,
      r.block_reason,
      r.block_kind,
      r.block_rule,
      r.is_done,
      e.result_summary,
      r.is_done,
      e.result_metadata,
      r.review_by,
      taskId,
    ],
  ];
}

/**
 * PostgreSQL: a report's close of its own run and its task's release, written together and
 * not now: held with the transaction's events (./event-batch.ts) and written, with those of
 * the other reports closed since, in one statement (`releaseSet`) before the transaction's
 * next statement or its COMMIT. Nothing between reads the run or the task.
 */
async function holdRelease(db: SqlDb, row: ReleaseRow): Promise<void> {
  if (db instanceof EventBatch) {
    db.holdRelease(row);
    return;
  }
  const { sql, params } = releaseSet([row]);
  await db.defer(sql, params);
}

/** The reviewer a profile names for its work in review, if any (issue #14). */
function reviewerOf(profile: ProfileRow): string | null {
  return (JSON.parse(profile.spec) as { reviewer?: string | null }).reviewer ?? null;
}

/**
 * A review run's verdict, kept as a review on the reviewed work (issue #14). Changes requested
 * `max_review_rounds` times block the task for a person instead of another round; null leaves
 * the accounting's decision as it is.
 */
async function reviewVerdict(
  db: SqlDb,
  now: number,
  run: RunRow,
  task: TaskRow,
  outcome: Outcome,
  reason: RunReason,
  policy: Policy,
): Promise<Decision | null> {
  if (outcome !== 'review_approved' && outcome !== 'changes_requested') return null;
  const verdict = outcome === 'review_approved' ? 'approved' : 'changes_requested';
  const work = await db.get<{ id: number }>(
    "SELECT id FROM runs WHERE task_id = ? AND role = 'work' ORDER BY attempt DESC LIMIT 1",
    [task.id],
  );
  await db.run(
    'INSERT INTO reviews (task_id, run_id, verdict, body, by_actor, at) VALUES (?, ?, ?, ?, ?, ?)',
    [task.id, work?.id ?? null, verdict, reason.message, `worker:run/${run.id}`, now],
  );
  if (verdict === 'approved') return null;
  const rounds = await db.get<{ n: number }>(
    "SELECT COUNT(*) AS n FROM reviews WHERE task_id = ? AND verdict = 'changes_requested' AND id > ?",
    [task.id, task.review_rounds_from],
  );
  const n = Number(rounds?.n ?? 0);
  if (n < policy.max_review_rounds) return null;
  return {
    verb: 'block',
    counters: counters(task),
    notBefore: null,
    rule: BlockRule.review_rounds,
    kind: 'needs_input',
    message: `review_rounds: changes requested ${n} times (max_review_rounds ${policy.max_review_rounds}); last: ${reason.message}`,
    failure: false,
    groupNotBefore: null,
  };
}

function counters(task: TaskRow): TaskCounters {
  return {
    attempts: task.attempts,
    failures: task.failures,
    stall_streak: task.stall_streak,
    rate_limited_streak: task.rate_limited_streak,
    spawn_failures: task.spawn_failures,
    host_losses: task.host_losses,
  };
}
