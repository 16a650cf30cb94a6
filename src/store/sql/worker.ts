import type { Actor } from '../../core/actor.js';
import { INPUT_LIMITS } from '../../core/defaults.js';
import { WardenError, conflict, invalid } from '../../core/errors.js';
import type { Json } from '../../core/events.js';
import { POLICY_FIELDS, parsePolicyOverrides, resolvePolicy } from '../../core/policy.js';
import type { Policy, PolicyOverrides } from '../../core/policy.js';
import { WORKER_REPORTS } from '../../core/ending.js';
import { reportReason } from '../../core/reasons.js';
import type { RunReason } from '../../core/run.js';
import type { RunEvidence } from '../../core/worktree.js';
import type { Outcome } from '../../core/status.js';
import type { Comment, NewTask, Task } from '../../core/task.js';
import { byteLength, checkCharacters, checkMetadata } from '../../core/checks.js';
import { lastLines } from '../../core/worker-protocol.js';
import type { TerminalAnswer, TerminalCall, WorkerContext } from '../../core/worker-protocol.js';
import type { Random } from '../../core/backoff.js';
import type { PolicyContext } from '../run-types.js';
import type { SqlDb } from './driver.js';
import { aroundColumns, toAround } from './around-task.js';
import type { AroundColumns, AroundTask } from './around-task.js';
import { closeRun } from './runs.js';
import { appendEvent } from './events.js';
import type { RunRow, TaskRow } from './rows.js';
import { createTask, getTask, listComments } from './tasks.js';
import { taskQuestions } from './questions.js';
import { taskReviews } from './reviews.js';
import { linkTasks } from './task-moves.js';

/** A run found by its token, with its task. */
export interface FencedRun {
  run: RunRow;
  task: TaskRow;
  actor: Actor;
}

/** A write the fence refused, and why. */
export interface Refused {
  ok: false;
  error: WardenError;
}

/** The outcome of checking a worker's write against the fence. */
export type FenceResult = { ok: true; fenced: FencedRun } | Refused;

/**
 * Checks a worker's write (SPEC §3 "Fencing"): accepted only while its run is the task's
 * current run and still `running` — or, for `complete`, while that run is ending for
 * `stalled` or `timed_out` (the work was done). A refusal writes a `stale_run` event.
 */
export async function fence(
  db: SqlDb,
  now: number,
  tokenHash: string,
  op: string,
): Promise<FenceResult> {
  const read = await runOfToken(db, tokenHash);
  return read ? judgeFence(db, now, read.run, op, read.task) : unknownToken();
}

/** A run read by its token, with what the fence and closing it need beside it. */
export interface TokenRead {
  run: RunRow;
  task?: TaskRow | undefined;
  around?: AroundTask;
}

/** A PostgreSQL row of `runOfToken`'s statement. */
type TokenRow = RunRow & { fence_task: TaskRow | null } & Partial<AroundColumns>;

/**
 * PostgreSQL: the statement reading runs with their tasks (`fence_task`), and with `around`,
 * what closing each will read around it, for the runs `where` picks (as `r`).
 */
function tokenReadSql(where: string, around: boolean, extra = ''): string {
  return `SELECT r.*, row_to_json(t) AS fence_task${around ? `, ${aroundColumns('r.profile', 'r.task_id')}` : ''}${extra}
     FROM runs r LEFT JOIN tasks t ON t.id = r.task_id WHERE ${where}`;
}

function toTokenRead(row: TokenRow, around: boolean): TokenRead {
  const {
    fence_task: task,
    around_profile = null,
    around_recent = null,
    around_parents_open = 0,
    around_waiting = 0,
    ...run
  } = row;
  return {
    run,
    task: task ?? undefined,
    ...(around
      ? {
          around: toAround({ around_profile, around_recent, around_parents_open, around_waiting }),
        }
      : {}),
  };
}

/**
 * The run a token belongs to, as `fence` reads it first. PostgreSQL reads the run's task in
 * the same statement (one round trip fewer for every worker write), and with `around`, what
 * closing the run will read around it (a report that closes a pull run: one more fewer);
 * SQLite reads the task in `judgeFence`, a call into the library.
 */
export async function runOfToken(
  db: SqlDb,
  tokenHash: string,
  around = false,
): Promise<TokenRead | undefined> {
  if (db.dialect !== 'postgres') {
    const run = await db.get<RunRow>('SELECT * FROM runs WHERE token_hash = ?', [tokenHash]);
    return run && { run };
  }
  const row = await db.get<TokenRow>(tokenReadSql('r.token_hash = ?', around), [tokenHash]);
  return row && toTokenRead(row, around);
}

/**
 * PostgreSQL: the runs of several tokens as `runOfToken` reads each with `around`, in one
 * statement, by token; a token no run has is missing. Undefined when a read made now might not
 * be what `runOfToken` would read later in the same transaction, after the reports before it
 * closed their runs: two reads of one task, or a task linked to another (closing a parent
 * changes what its children read around them).
 */
export async function runsOfTokens(
  db: SqlDb,
  tokenHashes: readonly string[],
): Promise<Map<string, TokenRead> | undefined> {
  const rows = await db.all<TokenRow & { linked: boolean }>(
    // An array, not a set from JSON: the planner takes that for a hundred rows, and would read
    // the runs table whole for a hundred instead of looking each token up. Made in the
    // statement, so the planner cannot see its length: a plan made for one length is no
    // dearer than one made for another, and the first plan is kept instead of planning the
    // statement again at every run (about as long as running it).
    tokenReadSql(
      'r.token_hash = ANY(ARRAY(SELECT json_array_elements_text(CAST(? AS json))))',
      true,
      `, (EXISTS (SELECT 1 FROM task_links WHERE parent_id = r.task_id)
          OR EXISTS (SELECT 1 FROM task_links WHERE child_id = r.task_id)) AS linked`,
    ),
    [JSON.stringify(tokenHashes)],
  );
  const tasks = new Set(rows.map((r) => r.task_id));
  if (tasks.size < rows.length || rows.some((r) => r.linked)) return undefined;
  return new Map(
    rows.map(({ linked: _linked, ...row }) => [row.token_hash, toTokenRead(row, true)]),
  );
}

/** A token no run has. */
export function unknownToken(): Refused {
  return {
    ok: false,
    error: new WardenError(
      'unauthorized',
      'unknown run token; workers get theirs in WARDEN_RUN_TOKEN',
    ),
  };
}

/** `fence` on a run already read in this transaction by its token. */
export async function judgeFence(
  db: SqlDb,
  now: number,
  run: RunRow,
  op: string,
  /** The run's task, when it was read with the run. */
  known?: TaskRow,
): Promise<FenceResult> {
  const task = known ?? (await db.get<TaskRow>('SELECT * FROM tasks WHERE id = ?', [run.task_id]));
  if (!task) throw new Error(`run ${run.id} has no task`);
  const current = task.current_run_id === run.id;
  const lateComplete =
    op === 'complete' &&
    run.state === 'ending' &&
    (run.outcome === 'stalled' || run.outcome === 'timed_out') &&
    run.terminal_request === null;
  if (current && (run.state === 'running' || lateComplete)) {
    // Model traffic is not the worker protocol: it says nothing of what exit 0 means. A
    // terminal call marks it in its own UPDATE of the run (one statement fewer per report).
    if (run.used_protocol === 0 && op !== 'llm' && !Object.hasOwn(WORKER_REPORTS, op))
      await db.run('UPDATE runs SET used_protocol = 1 WHERE id = ?', [run.id]);
    return {
      ok: true,
      fenced: { run, task, actor: { kind: 'worker', runId: run.id, taskId: task.id } },
    };
  }
  const why =
    run.state === 'running'
      ? 'a newer attempt replaced it'
      : `it is ${run.state}${run.outcome ? ` (${run.outcome})` : ''}`;
  await appendEvent(
    db,
    now,
    { kind: 'worker', runId: run.id, taskId: task.id },
    {
      kind: 'stale_run',
      board: run.board,
      task_id: task.id,
      run_id: run.id,
      payload: { op, attempt: run.attempt, state: run.state, current_run_id: task.current_run_id },
    },
  );
  return {
    ok: false,
    error: new WardenError(
      'stale_run',
      `run ${run.id} (attempt ${run.attempt}) of task ${task.id} is no longer current: ${why}; stop working on this task`,
      { run_id: run.id, task_id: task.id, outcome: run.outcome },
    ),
  };
}

/**
 * The answer `run` already gave to `call`, null if it has reported nothing yet; a different
 * report than the one it made is a conflict. For a run the fence has just read, in the same
 * transaction, without reading it again.
 */
export function answerOf(run: RunRow, call: TerminalCall): TerminalAnswer | null {
  if (run.terminal_request === null) return null;
  if (run.terminal_request === JSON.stringify(call)) {
    return JSON.parse(run.terminal_response ?? 'null') as TerminalAnswer;
  }
  throw conflict(
    `run ${run.id} already reported ${(JSON.parse(run.terminal_request) as TerminalCall).op}; a run reports its result once`,
  );
}

/** The text of a terminal call and the name of its field. */
function callText(call: TerminalCall): { text: string; field: string; required: boolean } {
  switch (call.op) {
    case 'complete':
    case 'request_review':
      return { text: call.summary, field: 'summary', required: false };
    case 'ask':
      return { text: call.question, field: 'question', required: true };
    case 'approve':
      return { text: call.summary, field: 'summary', required: false };
    default:
      return { text: call.reason, field: 'reason', required: true };
  }
}

function checkCall(call: TerminalCall): void {
  const { text, field, required } = callText(call);
  if (required && text.trim().length === 0) throw invalid(`${field}: must not be empty`);
  if (byteLength(text) > INPUT_LIMITS.summary_max_bytes) {
    throw invalid(`${field}: must be at most ${INPUT_LIMITS.summary_max_bytes} bytes`);
  }
  checkCharacters(text, field, true);
  if ('metadata' in call && call.metadata !== undefined) checkMetadata(call.metadata);
}

/** A review run gives a verdict instead of a result; a work run gives none (issue #14). */
function checkRole(f: FencedRun, call: TerminalCall): void {
  const review = f.run.role === 'review';
  const verdict = call.op === 'approve' || call.op === 'request_changes';
  if (verdict && !review) {
    throw invalid(
      `${call.op}: run ${f.run.id} works task ${f.task.id}; only a review run gives a verdict (use complete or request-review)`,
    );
  }
  if (review && (call.op === 'complete' || call.op === 'request_review')) {
    throw invalid(
      `${call.op}: run ${f.run.id} reviews task ${f.task.id}; give a verdict with approve or request-changes`,
    );
  }
}

/** `complete --created`: every id names a task this task's workers created. */
async function checkCreated(db: SqlDb, f: FencedRun, ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    const row = await db.get<{ created_by_task: number | null }>(
      'SELECT created_by_task FROM tasks WHERE id = ?',
      [id],
    );
    if (!row) throw invalid(`created: task ${id} does not exist`);
    if (row.created_by_task !== f.task.id) {
      throw invalid(`created: task ${id} was not created by task ${f.task.id}`);
    }
  }
}

/** What a worker's terminal call sets on its run beside its outcome, reason and result. */
export interface ReportedEnding {
  ending_at: number;
  terminal_request: string;
  terminal_response: string;
}

/**
 * A worker's terminal call: fences the run into `ending` with the worker's outcome and
 * keeps its result; the host then lets the process exit and closes the run. Returns the
 * answer and the run's row as the call left it.
 */
export async function terminalCall(
  db: SqlDb,
  now: number,
  f: FencedRun,
  call: TerminalCall,
  /**
   * The run is closed next in this transaction (a pull run's report): its ending is not
   * written here but handed back (`ending`) for the close's one UPDATE of the run, and the
   * row returned is the run as this call would have left it.
   */
  closing = false,
): Promise<{ answer: TerminalAnswer; run: RunRow; ending?: ReportedEnding }> {
  checkCall(call);
  checkRole(f, call);
  if (call.op === 'complete' && call.created !== undefined) await checkCreated(db, f, call.created);
  const outcome: Outcome = WORKER_REPORTS[call.op];
  const answer: TerminalAnswer = {
    run_id: f.run.id,
    task_id: f.task.id,
    attempt: f.run.attempt,
    op: call.op,
    outcome,
    accepted_at: now,
  };
  const reason = reportReason(call);
  const summary = 'summary' in call ? call.summary : null;
  const metadata = 'metadata' in call ? JSON.stringify(call.metadata ?? null) : null;
  const ending: ReportedEnding = {
    ending_at: f.run.ending_at ?? now,
    terminal_request: JSON.stringify(call),
    terminal_response: JSON.stringify(answer),
  };
  const reported = {
    outcome,
    reason: JSON.stringify(reason),
    result_summary: summary,
    result_metadata: metadata,
  };
  const run = closing
    ? { ...f.run, ...reported, ...ending, state: 'ending', used_protocol: 1 }
    : await db.get<RunRow>(
        `UPDATE runs SET state = 'ending', ending_at = ?, outcome = ?, reason = ?,
           result_summary = ?, result_metadata = ?, terminal_request = ?, terminal_response = ?,
           used_protocol = 1
         WHERE id = ? RETURNING *`,
        [
          ending.ending_at,
          outcome,
          reported.reason,
          summary,
          metadata,
          ending.terminal_request,
          ending.terminal_response,
          f.run.id,
        ],
      );
  if (call.op === 'ask') {
    await db.run(
      'INSERT INTO questions (task_id, run_id, question, asked_at) VALUES (?, ?, ?, ?)',
      [f.task.id, f.run.id, call.question, now],
    );
  }
  await appendEvent(db, now, f.actor, {
    kind: 'run_ending',
    board: f.run.board,
    task_id: f.task.id,
    run_id: f.run.id,
    payload: {
      outcome,
      rule: reason.rule,
      message: reason.message,
      late: f.run.state === 'ending',
    },
  });
  if (!run) throw new Error(`run ${f.run.id} vanished while reporting`);
  return { answer, run, ...(closing ? { ending } : {}) };
}

/**
 * A worker's terminal call (complete, block, review, ask...) behind the fence. A report
 * repeated (its answer lost on the way) gets the answer its run gave, current or not, and a
 * different report is a conflict: judged from the fence's own read. With `close`, a pull run
 * (no process to wait for) is closed by its report in the same transaction (one fsync fewer
 * per task), from the row the report's UPDATE returned and the task as the fence read it
 * (the report does not write the task).
 */
export async function report(
  db: SqlDb,
  now: number,
  tokenHash: string,
  call: TerminalCall,
  close?: PolicyContext & { host: string; random: Random },
  /** The run as `runsOfTokens` read it already in this transaction (null: no run has it). */
  known?: TokenRead | null,
): Promise<{ ok: true; value: TerminalAnswer } | Refused> {
  // What closing will read around the run comes with it when this report may close it.
  const read = known === undefined ? await runOfToken(db, tokenHash, close !== undefined) : known;
  if (!read) return unknownToken();
  const again = answerOf(read.run, call);
  if (again) return { ok: true, value: again };
  const checked = await judgeFence(db, now, read.run, call.op, read.task);
  if (!checked.ok) return checked;
  const f = checked.fenced;
  const closing = f.run.mode === 'pull' && close !== undefined;
  const { answer, run: reported, ending } = await terminalCall(db, now, f, call, closing);
  if (closing) {
    const final = { outcome: answer.outcome, reason: reportReason(call) };
    await closeRun(db, now, f.run.id, final, close, {
      run: reported,
      task: f.task,
      ...(read.around ? { around: read.around } : {}),
      ...(ending ? { ending } : {}),
    });
  }
  return { ok: true, value: answer };
}

/** The work a review run reviews: the task's latest work run, its summary and evidence. */
function reviewOf(runs: readonly RunRow[], task: Task): NonNullable<WorkerContext['review_of']> {
  const work = [...runs].reverse().find((r) => r.role !== 'review');
  return {
    run_id: work?.id ?? 0,
    summary: task.result?.summary ?? null,
    evidence: work?.evidence ? (JSON.parse(work.evidence) as RunEvidence) : null,
  };
}

/** What the worker sees of its task (SPEC §5 `show`). */
export async function workerContext(
  db: SqlDb,
  f: FencedRun,
  /** The task as this transaction already read it (a claim just did), else read here. */
  read?: Task,
): Promise<WorkerContext> {
  const task = read ?? (await getTask(db, f.task.id));
  const parents = [];
  for (const id of task.parents) {
    const p = await getTask(db, id);
    parents.push({ id: p.id, title: p.title, status: p.status, result: p.result });
  }
  const runs = await db.all<RunRow>(
    'SELECT * FROM runs WHERE task_id = ? AND id <> ? ORDER BY attempt',
    [task.id, f.run.id],
  );
  const comments = (await listComments(db, task.id)).slice(-20);
  return contextOf(f, task, {
    parents,
    runs,
    comments,
    questions: await taskQuestions(db, task.id),
    reviews: await taskReviews(db, task.id),
  });
}

/**
 * The context of a task that has nothing yet besides itself (no parents, comments, questions,
 * reviews or earlier runs), as most first claims find it, from one statement; null when it has
 * something, to be read whole by `workerContext`.
 */
export async function bareContext(
  db: SqlDb,
  f: FencedRun,
  task: Task,
): Promise<WorkerContext | null> {
  if (task.parents.length > 0) return null;
  const row = await db.get<{ bare: number }>(
    `SELECT CASE WHEN ${nothingButItself('?', '?')} THEN 1 ELSE 0 END AS bare`,
    [task.id, task.id, task.id, task.id, f.run.id],
  );
  if (Number(row?.bare) !== 1) return null;
  return bareContextOf(f, task);
}

/**
 * An SQL condition: the task whose id is `task` has nothing yet besides itself, no comments,
 * questions, reviews or runs (but `run`, when given). Each part stops at the first row found.
 */
export function nothingButItself(task: string, run?: string): string {
  const none = (table: string, also = ''): string =>
    `(SELECT 1 FROM ${table} WHERE task_id = ${task}${also} LIMIT 1) IS NULL`;
  const otherRuns = run === undefined ? '' : ` AND id <> ${run}`;
  return [none('comments'), none('questions'), none('reviews'), none('runs', otherRuns)].join(
    ' AND ',
  );
}

/** The context of a task known to have nothing yet besides itself (`bareContext`). */
export function bareContextOf(f: FencedRun, task: Task): WorkerContext {
  return contextOf(f, task, { parents: [], runs: [], comments: [], questions: [], reviews: [] });
}

/** What a worker's context is made of, read. */
interface ContextParts {
  parents: WorkerContext['parents'];
  runs: RunRow[];
  comments: Comment[];
  questions: WorkerContext['questions'];
  reviews: WorkerContext['reviews'];
}

function contextOf(f: FencedRun, task: Task, parts: ContextParts): WorkerContext {
  const { runs } = parts;
  return {
    questions: parts.questions,
    reviews: parts.reviews,
    run: {
      id: f.run.id,
      attempt: f.run.attempt,
      state: f.run.state,
      started_at: f.run.started_at,
      role: f.run.role === 'review' ? 'review' : 'work',
    },
    ...(f.run.role === 'review' ? { review_of: reviewOf(runs, task) } : {}),
    task,
    parents: parts.parents,
    previous_attempts: runs.map((r) => ({
      run_id: r.id,
      attempt: r.attempt,
      outcome: r.outcome as Outcome | null,
      reason: r.reason === null ? null : (JSON.parse(r.reason) as RunReason).message,
      exit_code: r.exit_code,
      signal: r.signal,
      last_lines: lastLines(r.log_tail),
      started_at: r.started_at,
      ended_at: r.ended_at,
    })),
    comments: parts.comments.map((c) => ({ actor: c.actor, body: c.body, at: c.at })),
  };
}

function overLimits(child: PolicyOverrides, limits: Policy): string | null {
  for (const f of POLICY_FIELDS) {
    const value = child[f.key];
    if (value === undefined || f.kind === 'enum') continue;
    const ceiling = limits[f.key] as number;
    // For max_runtime, 0 means unlimited: above any finite ceiling.
    const v = value as number;
    const tooHigh =
      f.key === 'max_runtime' ? ceiling !== 0 && (v === 0 || v > ceiling) : v > ceiling;
    if (tooHigh) return `${f.key} ${String(value)} is above its profile's ${String(ceiling)}`;
  }
  return null;
}

/**
 * A worker fans out: a child task on its own board, with an idempotency key scoped to open
 * tasks and a cap on open children. The child waits for its creator only with `after_me`,
 * and cannot carry limits above its creator's profile.
 */
export async function workerCreate(
  db: SqlDb,
  now: number,
  f: FencedRun,
  input: NewTask & { after_me?: boolean },
  config: PolicyOverrides,
): Promise<Task> {
  const { after_me, ...fields } = input;
  if (fields.board !== undefined && fields.board !== f.task.board) {
    throw invalid(`board: a worker creates tasks on its own board ('${f.task.board}') only`);
  }
  const made = await db.get<{ n: number }>(
    'SELECT COUNT(*) AS n FROM tasks WHERE created_by_task = ?',
    [f.task.id],
  );
  const key = fields.idempotency_key;
  const existing =
    key === undefined
      ? undefined
      : await db.get<{ id: number }>(
          "SELECT id FROM tasks WHERE board = ? AND idempotency_key = ? AND status NOT IN ('done', 'archived')",
          [f.task.board, key],
        );
  const profile =
    f.run.profile === null
      ? undefined
      : await db.get<{ spec: string }>('SELECT spec FROM profiles WHERE name = ?', [f.run.profile]);
  const profilePolicy = profile
    ? ((JSON.parse(profile.spec) as { policy?: PolicyOverrides }).policy ?? {})
    : {};
  const limits = resolvePolicy(config, profilePolicy, JSON.parse(f.task.policy) as PolicyOverrides);
  // A fan-out has a ceiling: a runaway worker cannot flood its board (issue #14).
  if (!existing && Number(made?.n ?? 0) >= limits.max_children) {
    throw conflict(
      `task ${f.task.id} has created ${Number(made?.n ?? 0)} tasks, the most one task may create (max_children ${limits.max_children}); raise it on the task or profile if the work needs more`,
    );
  }
  if (fields.policy !== undefined && f.run.profile !== null) {
    const asked = parsePolicyOverrides(fields.policy, 'policy');
    const problem = overLimits(asked, resolvePolicy(config, profilePolicy));
    if (problem)
      throw invalid(`policy: ${problem}; a created task cannot carry limits above its profile's`);
  }
  const parents = [...(fields.parents ?? []), ...(after_me ? [f.task.id] : [])];
  return createTask(db, now, { ...fields, board: f.task.board, parents }, f.actor);
}

/** A worker links its own task with tasks it created (in either direction). */
export async function workerLink(
  db: SqlDb,
  now: number,
  f: FencedRun,
  parent: number,
  child: number,
): Promise<Task> {
  const allowed = async (id: number): Promise<boolean> => {
    if (id === f.task.id) return true;
    const row = await db.get<{ created_by_task: number | null }>(
      'SELECT created_by_task FROM tasks WHERE id = ?',
      [id],
    );
    return row?.created_by_task === f.task.id;
  };
  if (!(await allowed(parent)) || !(await allowed(child))) {
    throw new WardenError(
      'forbidden',
      `a worker may link only its own task ${f.task.id} and tasks it created`,
    );
  }
  return linkTasks(db, now, parent, child, f.actor);
}

/** Payload helper: keep notes short in events and rows. */
export function shortNote(note: string | undefined): Json {
  return note === undefined ? null : note.slice(0, 500);
}
