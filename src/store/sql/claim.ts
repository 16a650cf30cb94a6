import { hashToken, newRunToken } from '../../os/token.js';
import { dispatcher, formatActor } from '../../core/actor.js';
import type { Actor } from '../../core/actor.js';
import type { NewEvent } from '../../core/events.js';
import { admit, emptyLoad } from '../../core/admission.js';
import type { Candidate, Caps, GroupCap, Load } from '../../core/admission.js';
import { resolveTransition } from '../../core/transitions.js';
import type { WorkerContext } from '../../core/worker-protocol.js';
import type { Claim, ClaimRequest } from '../run-types.js';
import { mapLater } from './driver.js';
import type { Later, SqlDb } from './driver.js';
import { EVENT_COLUMNS } from './event-batch.js';
import { everyRowMatched } from './exactly.js';
import { appendEvent } from './events.js';
import type { Profile } from '../../core/profile.js';
import { toProfile, toRun } from './rows.js';
import type { ProfileRow, RunRow, TaskRow } from './rows.js';
import { linkColumns, toLinkedTask } from './tasks.js';
import type { LinkedTaskRow } from './tasks.js';
import type { Task } from '../../core/task.js';
import type { TaskStatus } from '../../core/status.js';
import { bareContext, bareContextOf, nothingButItself, workerContext } from './worker.js';
import type { FencedRun } from './worker.js';

/** The lock hosts take turns on to admit and claim (SPEC §4: never two fill the last slot). */
export const ADMISSION_LOCK = 74200002;

interface GroupRow {
  name: string;
  max_concurrency: number | null;
  scope: string;
  not_before: number | null;
}

/** How many candidates to look at per claim; more than any host's cap. */
const CANDIDATE_WINDOW = 500;

/** Open runs (running or ending) counted by profile, host and pull worker. */
interface LoadRow {
  profile: string | null;
  host_id: string | null;
  worker_id: string | null;
  n: number;
}

/**
 * Running and ending runs, written as the partial index runs_open's own condition: written
 * `state IN ('running', 'ending')`, SQLite walked every run ever made.
 */
const OPEN_RUNS =
  "SELECT profile, host_id, worker_id, COUNT(*) AS n FROM runs WHERE state <> 'ended' GROUP BY profile, host_id, worker_id";

/** Ready tasks in the order they are claimed, up to a window (`?`: now, window). */
const READY = `SELECT t.* FROM tasks t JOIN boards b ON b.name = t.board
     WHERE t.status = 'ready' AND t.assignee IS NOT NULL AND (t.not_before IS NULL OR t.not_before <= ?)
       AND b.paused = 0 AND (t.needs_approval = 0 OR t.approved_at IS NOT NULL)
     ORDER BY t.priority DESC, t.id LIMIT ?`;

/**
 * Work in review waiting for a run of its profile's reviewer (issue #14), up to a window; claimed
 * first, since the work it reviews is done but for that.
 */
const IN_REVIEW = `SELECT t.* FROM tasks t JOIN boards b ON b.name = t.board
     WHERE t.status = 'review' AND t.review_by IS NOT NULL AND b.paused = 0
     ORDER BY t.priority DESC, t.id LIMIT ?`;

/** Everything admission reads, in the claim's snapshot. */
interface ClaimReads {
  profiles: ProfileRow[];
  groups: GroupRow[];
  ready: TaskRow[];
  reviews: TaskRow[];
  open: LoadRow[];
}

/**
 * Reads what admission works from, with up to `window` candidates of each kind. PostgreSQL:
 * one statement (each a round trip, made while the admission turn is held by the whole
 * fleet), its parts as JSON arrays of rows, which keep the columns' names and numbers.
 * SQLite: five statements, each a call into the library.
 */
async function readForClaim(db: SqlDb, now: number, window: number): Promise<ClaimReads> {
  if (db.dialect === 'postgres') {
    const rows = (part: string, order = ''): string =>
      `COALESCE((SELECT json_agg(x${order}) FROM (${part}) x), '[]')`;
    const row = await db.get<ClaimReads>(
      `SELECT ${rows('SELECT * FROM profiles')} AS profiles,
        ${rows('SELECT * FROM concurrency_groups')} AS groups,
        ${rows(READY, ' ORDER BY x.priority DESC, x.id')} AS ready,
        ${rows(IN_REVIEW, ' ORDER BY x.priority DESC, x.id')} AS reviews,
        ${rows(OPEN_RUNS)} AS open`,
      [now, window, window],
    );
    if (!row) throw new Error("the claim's read returned no row");
    return row;
  }
  return {
    profiles: await db.all<ProfileRow>('SELECT * FROM profiles'),
    groups: await db.all<GroupRow>('SELECT * FROM concurrency_groups'),
    ready: await db.all<TaskRow>(READY, [now, window]),
    reviews: await db.all<TaskRow>(IN_REVIEW, [window]),
    open: await db.all<LoadRow>(OPEN_RUNS),
  };
}

/** Live runs by host, profile and group (runs still ending count, SPEC §4). */
function currentLoad(
  open: readonly LoadRow[],
  req: ClaimRequest,
  groupOf: Map<string, string | null>,
): Load {
  const load = emptyLoad();
  for (const r of open) {
    const n = Number(r.n);
    // A pull worker's own cap is over the runs of its lease; a host's over its spawned runs.
    const onHost =
      req.mode === 'pull' ? r.worker_id === (req.workerId ?? null) : r.host_id === req.host;
    if (onHost) load.host += n;
    if (r.profile === null) continue;
    load.profiles.set(r.profile, (load.profiles.get(r.profile) ?? 0) + n);
    const group = groupOf.get(r.profile) ?? null;
    if (group !== null) {
      load.groups.set(group, (load.groups.get(group) ?? 0) + n);
      if (onHost) load.hostGroups.set(group, (load.hostGroups.get(group) ?? 0) + n);
    }
  }
  return load;
}

interface ProfileEntry {
  row: ProfileRow;
  profile: Profile;
}

/** The profiles a claim may admit runs of, by name. */
function admissibleProfiles(
  profiles: readonly ProfileEntry[],
  now: number,
  req: ClaimRequest,
): Map<string, ProfileEntry> {
  return new Map(
    profiles
      // A profile paused by its breaker admits one probe run once its wait is over.
      .filter(
        ({ row }) =>
          row.paused === 0 ||
          (row.paused_by === 'breaker' &&
            row.breaker_probe_at !== null &&
            row.breaker_probe_at <= now &&
            row.breaker_probe_run === null),
      )
      // Spawned hosts start only spawned profiles; pull workers claim only pull profiles.
      .filter(({ profile }) => profile.mode === req.mode)
      .filter(({ row }) => req.profiles === undefined || req.profiles.includes(row.name))
      .map((p) => [p.profile.name, p]),
  );
}

/**
 * Whether a claim could find anything now: a ready task assigned to an admissible profile.
 * Read without the admission turn, so the many wake-ups that find nothing to do never queue
 * for it; a change after this read wakes the claimer again.
 */
export async function mayClaim(db: SqlDb, now: number, req: ClaimRequest): Promise<boolean> {
  // Every profile with whether it has work: one statement, each flag a search that stops at
  // the first task found. Written as `(SELECT 1 ... LIMIT 1)`, not `EXISTS`: PostgreSQL may
  // run an EXISTS beside a table it has no statistics for (the profiles of a new board) as one
  // hashed pass over every ready task and its board, at every look (7 ms with 3,000 ready
  // tasks, made twice per finished task by the dispatcher's wake-ups); a scalar subquery is
  // always run per profile, through the (assignee, status) index.
  const rows = await db.all<ProfileRow & { has_work: number }>(
    `SELECT p.*, CASE WHEN (SELECT 1 FROM tasks t JOIN boards b ON b.name = t.board
         WHERE t.status = 'ready' AND t.assignee = p.name
           AND (t.not_before IS NULL OR t.not_before <= ?)
           AND b.paused = 0 AND (t.needs_approval = 0 OR t.approved_at IS NOT NULL) LIMIT 1) IS NOT NULL
       OR (SELECT 1 FROM tasks t JOIN boards b ON b.name = t.board
         WHERE t.status = 'review' AND t.review_by = p.name AND b.paused = 0 LIMIT 1) IS NOT NULL
       THEN 1 ELSE 0 END AS has_work
     FROM profiles p`,
    [now],
  );
  const working = rows
    .filter((r) => Number(r.has_work) === 1)
    .map(({ has_work: _, ...row }) => ({ row, profile: toProfile(row) }));
  return admissibleProfiles(working, now, req).size > 0;
}

/** Where a host keeps its runs' working directories. */
export interface ClaimRoots {
  workspaceRoot: string | null;
  worktreeRoot: string | null;
}

/** One claim of a batch: the request and where its host keeps working directories. */
export interface BatchedClaim {
  req: ClaimRequest;
  roots: ClaimRoots;
}

/** A claim made, with what its run is fenced as (to read a worker context for). */
export interface MadeClaim {
  claim: Claim;
  fenced: FencedRun;
}

/** A batch's claims, their runs sent to be made: read once the statement has answered. */
export interface SentClaims {
  /**
   * Each claim's runs, in the batch's order. `contextDb`: the transaction to read pull claims'
   * worker contexts in (SQLite, before its COMMIT); null leaves those the claim's own
   * statement did not find bare to `withContexts` (PostgreSQL, after the turn).
   */
  made(contextDb: SqlDb | null): Promise<MadeClaim[][]>;
}

/**
 * Admission and claim in one transaction (SPEC §4) for several claims, answered in order: each
 * picks dispatchable tasks in priority order under every cap, creates their runs (attempt =
 * previous + 1, a fresh token) and moves the tasks to `running`, admitted as if it ran alone
 * after those before it: one read of what admission works from for all of them, each claim's picks
 * counted in the load and taken from the candidates of those after it; then every run of the
 * batch made in one statement on PostgreSQL (`startRuns`), with their events, sent with the
 * COMMIT: the claims of several workers that wait for the admission turn together cost two
 * round trips, not two per claim and one. The body returns once that statement is sent; the
 * claims are read from its answer (`SentClaims`).
 */
export async function claimBatch(
  db: SqlDb,
  now: number,
  batch: readonly BatchedClaim[],
): Promise<SentClaims> {
  // Most claims are met by the first few candidates: a small window is read first, and the
  // whole one only when caps passed over enough of it that a claim could not be filled.
  const wanted = batch.reduce((n, b) => n + b.req.limit, 0);
  const small = Math.min(CANDIDATE_WINDOW, Math.max(4, wanted * 2));
  let plan = planBatch(await readForClaim(db, now, small), batch, now, small);
  if (plan.wider && small < CANDIDATE_WINDOW)
    plan = planBatch(await readForClaim(db, now, CANDIDATE_WINDOW), batch, now, CANDIDATE_WINDOW);
  const starts: Start[] = [];
  for (const [of, claim] of batch.entries())
    for (const pick of plan.picks[of] ?? []) starts.push(await startOf(db, now, claim, pick, of));
  const started = await startRuns(db, now, starts);
  return {
    made: async (contextDb) => {
      const runs = await started.rows;
      const made: MadeClaim[][] = batch.map(() => []);
      for (const [i, start] of starts.entries())
        made[start.of]?.push(await finishClaim(start, runs[i], contextDb));
      return made;
    },
  };
}

/** A task admitted for a claim, and the profile its run is of. */
interface Pick {
  task: TaskRow;
  p: ProfileEntry;
  review: boolean;
}

/** Each claim's picks, and whether some claim wants a wider window of candidates. */
interface BatchPlan {
  picks: Pick[][];
  wider: boolean;
}

/**
 * Admission for each claim of a batch in turn, from one read: a task picked by one claim is no
 * candidate of those after it, and its run counts in their load (by profile, host and worker,
 * as `OPEN_RUNS` would count it once made); a breaker's probe taken by one claim is taken for
 * those after it too.
 */
function planBatch(
  reads: ClaimReads,
  batch: readonly BatchedClaim[],
  now: number,
  window: number,
): BatchPlan {
  // Copies: a probe taken is marked on its profile's row for the claims after it.
  const profiles = reads.profiles.map((r) => ({ row: { ...r }, profile: toProfile(r) }));
  const groupOf = new Map(profiles.map((p) => [p.profile.name, p.profile.concurrency_group]));
  const groups = new Map(reads.groups.map((g) => [g.name, g]));
  const profileCaps = new Map(profiles.map((p) => [p.profile.name, p.profile.max_concurrency]));
  const groupLimits = groupCaps(groups.values());
  const open = [...reads.open];
  const taken = new Set<number>();
  const full = reads.ready.length >= window || reads.reviews.length >= window;
  const plan: BatchPlan = { picks: [], wider: false };
  for (const { req } of batch) {
    const admissible = admissibleProfiles(profiles, now, req);
    if (admissible.size === 0) {
      plan.picks.push([]);
      continue;
    }
    const pass = admitFrom(
      { ...reads, open },
      taken,
      req,
      {
        admissible,
        groups,
        groupOf,
        caps: { host: req.maxWorkers, profiles: profileCaps, groups: groupLimits },
      },
      now,
    );
    if (full && pass.picked.length < req.limit && pass.hostRoom) plan.wider = true;
    const picks: Pick[] = [];
    for (const c of pass.picked) {
      const task = pass.tasks.find((t) => t.id === c.taskId);
      const p = admissible.get(c.profile);
      if (!task || !p) continue;
      taken.add(task.id);
      open.push({
        profile: p.profile.name,
        host_id: req.mode === 'spawned' ? req.host : null,
        worker_id: req.workerId ?? null,
        n: 1,
      });
      // The probe is this claim's: no claim after it may take another (`admissibleProfiles`).
      if (p.row.paused !== 0) p.row.breaker_probe_run = -1;
      picks.push({ task, p, review: pass.reviewIds.has(task.id) });
    }
    plan.picks.push(picks);
  }
  return plan;
}

/**
 * A run about to be made: its claim and place in the batch, its row's values, its task's move
 * and its `run_started` event (all but the run's id, which the insert gives).
 */
interface Start {
  of: number;
  claim: BatchedClaim;
  pick: Pick;
  token: string;
  to: TaskStatus;
  values: RunValues;
  /** The breaker's probe of its profile: the profile is marked with the run. */
  probe: boolean;
  actor: Actor;
  payload: NewEvent['payload'];
}

/** A new run's columns, as `startRuns` writes them (its state is `running`). */
interface RunValues {
  task_id: number;
  board: string;
  attempt: number;
  mode: string;
  token_hash: string;
  host_id: string | null;
  worker_id: string | null;
  claim_id: string | null;
  profile: string;
  profile_version: number;
  argv: string;
  env: string;
  cwd: string | null;
  started_at: number;
  role: string;
}

/** The run a pick makes: a fresh token, the next attempt, and where it works. */
async function startOf(
  db: SqlDb,
  now: number,
  b: BatchedClaim,
  pick: Pick,
  of: number,
): Promise<Start> {
  const { req, roots } = b;
  const { task, p, review } = pick;
  const token = newRunToken();
  const attempt = task.attempts + 1;
  // A review run works in the worktree of the work it reviews, at its head.
  const reviewed = review ? await reviewedWorktree(db, task.id) : null;
  const cwd =
    req.mode === 'pull'
      ? null
      : reviewed !== null
        ? reviewed
        : p.profile.worktree !== null && roots.worktreeRoot !== null
          ? `${roots.worktreeRoot}/${task.id}`
          : p.profile.cwd === 'workspace'
            ? `${roots.workspaceRoot ?? ''}/${task.id}`
            : p.profile.cwd;
  const from = review ? 'review' : 'ready';
  const to = resolveTransition('claim', from, 'dispatcher', true);
  const probe = p.row.paused !== 0;
  return {
    of,
    claim: b,
    pick,
    token,
    to,
    probe,
    actor: dispatcher(req.host),
    payload: {
      from,
      to,
      role: review ? 'review' : 'work',
      attempt,
      mode: req.mode,
      host: req.host,
      worker: req.workerId ?? null,
      profile: p.profile.name,
      profile_version: p.profile.version,
      probe,
    },
    values: {
      task_id: task.id,
      board: task.board,
      attempt,
      mode: req.mode,
      token_hash: hashToken(token),
      host_id: req.mode === 'spawned' ? req.host : null,
      worker_id: req.workerId ?? null,
      claim_id: req.claimId ?? null,
      profile: p.profile.name,
      profile_version: p.profile.version,
      argv: JSON.stringify(p.profile.argv),
      env: JSON.stringify(p.profile.env),
      cwd,
      started_at: now,
      role: review ? 'review' : 'work',
    },
  };
}

/** A claim's run made: its context and answer. */
async function finishClaim(
  start: Start,
  made: StartedRun | undefined,
  contextDb: SqlDb | null,
): Promise<MadeClaim> {
  const { claim, pick, to } = start;
  const { req } = claim;
  const { task, p } = pick;
  const { attempt } = start.values;
  if (!made) throw new Error(`task ${task.id} vanished under its claim`);
  const { run, updated, bare } = made;
  const claimed = toLinkedTask(updated);
  // A pull worker needs the context at once; reading it here saves a transaction per task.
  const fenced: FencedRun = {
    run,
    task: { ...task, status: to, current_run_id: run.id, attempts: attempt },
    actor: { kind: 'worker', runId: run.id, taskId: task.id },
  };
  const context =
    req.mode === 'pull' ? await contextOfClaim(contextDb, fenced, claimed, bare) : undefined;
  return {
    claim: {
      run: toRun(run),
      token: start.token,
      task: claimed,
      profile: p.profile,
      ready_at: Math.max(task.updated_at, task.not_before ?? 0),
      ...(context ? { context } : {}),
    },
    fenced,
  };
}

/**
 * A pull claim's worker context: read whole in `db`, the claim's transaction; without one,
 * only a task its own insert found bare (`startRuns`), the rest left to `withContexts`.
 */
async function contextOfClaim(
  db: SqlDb | null,
  fenced: FencedRun,
  claimed: Task,
  bare: boolean,
): Promise<WorkerContext | undefined> {
  if (db) return (await bareContext(db, fenced, claimed)) ?? workerContext(db, fenced, claimed);
  return bare && claimed.parents.length === 0 ? bareContextOf(fenced, claimed) : undefined;
}

/**
 * The worker contexts of pull claims made without them (`SentClaims.made` with no transaction),
 * read after the claim's transaction; the task is the one the claim read. A claim whose task
 * its own statement found bare has its context already; for another, whether it is bare
 * (`bareContext`) is one statement in `reads`, outside any transaction; the others are read
 * whole in one snapshot (`inSnapshot`). The claims keep their order.
 */
export async function withContexts(
  reads: SqlDb,
  inSnapshot: <T>(fn: (db: SqlDb) => Promise<T>) => Promise<T>,
  made: readonly { claim: Claim; fenced: FencedRun }[],
): Promise<Claim[]> {
  const bare = await Promise.all(
    made.map((m) =>
      m.claim.context
        ? Promise.resolve(m.claim.context)
        : bareContext(reads, m.fenced, m.claim.task),
    ),
  );
  const whole = made.filter((_, i) => bare[i] === null);
  const read =
    whole.length === 0
      ? []
      : await inSnapshot(async (db) => {
          const out: WorkerContext[] = [];
          for (const { claim, fenced } of whole)
            out.push(await workerContext(db, fenced, claim.task));
          return out;
        });
  return made.map(({ claim }, i) => ({
    ...claim,
    context: bare[i] ?? (read.shift() as WorkerContext),
  }));
}

/**
 * A new run's columns but its state, each with the type PostgreSQL reads it as from the batch's
 * JSON (`startRuns`), in the order `startRuns` writes them; every field of `RunValues`, once.
 */
const RUN_TYPES = {
  task_id: 'BIGINT',
  board: 'TEXT',
  attempt: 'INTEGER',
  mode: 'TEXT',
  token_hash: 'TEXT',
  host_id: 'TEXT',
  worker_id: 'TEXT',
  claim_id: 'TEXT',
  profile: 'TEXT',
  profile_version: 'INTEGER',
  argv: 'TEXT',
  env: 'TEXT',
  cwd: 'TEXT',
  started_at: 'BIGINT',
  role: 'TEXT',
} as const satisfies Record<keyof RunValues, string>;
const RUN_FIELDS = Object.keys(RUN_TYPES) as (keyof RunValues)[];
const RUN_COLUMNS = `(state, ${RUN_FIELDS.join(', ')})`;
/** One run's insert on SQLite. */
const INSERT_RUN = `INSERT INTO runs ${RUN_COLUMNS} VALUES ('running', ${RUN_FIELDS.map(() => '?').join(', ')}) RETURNING *`;

/**
 * The batch's rows as PostgreSQL reads them from its JSON (`startRuns`), with each task's move
 * and its run's event and breaker probe.
 */
const RUN_RECORD = `ord INTEGER, ${RUN_FIELDS.map((k) => `${k} ${RUN_TYPES[k]}`).join(', ')}, status TEXT, actor TEXT, payload TEXT, probe INTEGER`;

/** A run made by `startRuns`, its task's row as the move left it, and whether the task is bare. */
interface StartedRun {
  run: RunRow;
  updated: LinkedTaskRow;
  bare: boolean;
}

/** The task's columns a claim sets. */
const CLAIM_SET = 'status = ?, current_run_id = ?, attempts = ?, review_by = NULL, updated_at = ?';

/**
 * Inserts the claimed tasks' runs, moves each task to its run (claimed once: a review run that
 * ends without a verdict leaves the review to a person), appends each run's `run_started` event
 * and marks a breaker's probe on its profile, returning the run's and the task's rows, the
 * task's with its links, from the writes themselves (no read after them), in the order of
 * `starts`.
 *
 * PostgreSQL: one statement for the whole batch, its rows as one JSON parameter, each task's
 * UPDATE taking its run's id from the INSERT beside it, since each round trip is made while
 * the fleet waits for the admission turn. It is sent, not waited for (`allLater`), so the
 * COMMIT goes with it; so a task that its UPDATE did not find fails the statement on the
 * server (the transaction with it) rather than being found missing after the COMMIT. The
 * tasks are also named as an array, so they are found through their primary key: joined only
 * to the batch's rows (which PostgreSQL cannot count before it runs), every task was read (an
 * index scan of the whole table, hashed, with the turn's sequential scans priced out: 0.6 ms
 * with 1,000 tasks, growing with them). It also says whether each task has nothing but itself
 * yet (`bare`: no comments, questions, reviews or earlier runs; the new runs are not seen by
 * the statement that makes them), so a pull worker's context needs no read of its own.
 * SQLite: two statements a run and its event, and `bare` is left to `bareContext`.
 */
async function startRuns(
  db: SqlDb,
  now: number,
  starts: readonly Start[],
): Promise<Later<StartedRun>> {
  if (starts.length === 0) return { rows: Promise.resolve([]) };
  if (db.dialect === 'postgres') {
    const sent = await db.allLater<{ run: RunRow; task: LinkedTaskRow | null; bare: boolean }>(
      `WITH v AS (SELECT * FROM json_to_recordset(CAST(? AS json)) AS v(${RUN_RECORD})),
        r AS (INSERT INTO runs ${RUN_COLUMNS}
          SELECT 'running', ${RUN_FIELDS.join(', ')} FROM v ORDER BY ord RETURNING *),
        t AS (UPDATE tasks SET status = v.status, current_run_id = r.id, attempts = v.attempt,
            review_by = NULL, updated_at = v.started_at
          FROM r JOIN v ON v.task_id = r.task_id
          WHERE tasks.id = ANY(CAST(? AS BIGINT[])) AND tasks.id = r.task_id
          RETURNING tasks.*, ${linkColumns(db, 'tasks')}),
        e AS (INSERT INTO events ${EVENT_COLUMNS}
          SELECT v.board, v.task_id, r.id, v.actor, 'run_started', v.payload, ?
          FROM v JOIN r ON r.task_id = v.task_id ORDER BY v.ord),
        p AS (UPDATE profiles SET breaker_probe_run = r.id FROM r JOIN v ON v.task_id = r.task_id
          WHERE v.probe = 1 AND profiles.name = r.profile)
       SELECT row_to_json(r) AS run, row_to_json(t) AS task, ${nothingButItself('t.id')} AS bare,
         ${everyRowMatched('t.id')} AS one
       FROM v LEFT JOIN r ON r.task_id = v.task_id LEFT JOIN t ON t.id = v.task_id ORDER BY v.ord`,
      [
        JSON.stringify(
          starts.map((s, ord) => ({
            ord,
            ...s.values,
            status: s.to,
            actor: formatActor(s.actor),
            payload: JSON.stringify(s.payload),
            probe: s.probe ? 1 : 0,
          })),
        ),
        `{${starts.map((s) => s.pick.task.id).join(',')}}`,
        now,
        starts.length,
        'a task of the claim was not found to move to its run',
      ],
    );
    return mapLater(sent, (rows) =>
      rows.map((row) => ({ run: row.run, updated: row.task as LinkedTaskRow, bare: row.bare })),
    );
  }
  const out: StartedRun[] = [];
  for (const s of starts) {
    const run = await db.get<RunRow>(
      INSERT_RUN,
      RUN_FIELDS.map((k) => s.values[k]),
    );
    if (!run) throw new Error('run insert returned no row');
    const updated = await db.get<LinkedTaskRow>(
      `UPDATE tasks SET ${CLAIM_SET} WHERE id = ? RETURNING *, ${linkColumns(db, 'tasks')}`,
      [s.to, run.id, s.values.attempt, s.values.started_at, s.pick.task.id],
    );
    if (!updated) throw new Error(`task ${s.pick.task.id} vanished under its claim`);
    if (s.probe) {
      await db.run('UPDATE profiles SET breaker_probe_run = ? WHERE name = ?', [
        run.id,
        s.values.profile,
      ]);
    }
    await appendEvent(db, now, s.actor, {
      kind: 'run_started',
      board: s.values.board,
      task_id: s.values.task_id,
      run_id: run.id,
      payload: s.payload,
    });
    out.push({ run, updated, bare: false });
  }
  return { rows: Promise.resolve(out) };
}

/** What admission works from in one claim. */
interface AdmissionInputs {
  admissible: Map<string, ProfileEntry>;
  groups: Map<string, GroupRow>;
  groupOf: Map<string, string | null>;
  caps: Caps;
}

/** One admission pass over the candidates read. */
interface AdmissionPass {
  picked: Candidate[];
  tasks: TaskRow[];
  reviewIds: Set<number>;
  /** Whether the host (or pull worker) still had room after the pass. */
  hostRoom: boolean;
}

/**
 * Admits from the ready tasks and tasks in review `reads` found, but those `taken` by claims
 * before this one in its batch.
 */
function admitFrom(
  reads: ClaimReads,
  taken: ReadonlySet<number>,
  req: ClaimRequest,
  inputs: AdmissionInputs,
  now: number,
): AdmissionPass {
  const { admissible, groups, groupOf, caps } = inputs;
  const reviews = reads.reviews.filter((t) => !taken.has(t.id));
  const ready = reads.ready.filter((t) => !taken.has(t.id));
  const reviewIds = new Set(reviews.map((t) => t.id));
  const tasks = [...reviews, ...ready];
  const probing = new Set<string>();
  const candidates: Candidate[] = [];
  for (const t of tasks) {
    const runner = reviewIds.has(t.id) ? t.review_by : t.assignee;
    const p = runner === null ? undefined : admissible.get(runner);
    if (!p) continue;
    const group = p.profile.concurrency_group;
    const cooldown = group === null ? null : (groups.get(group)?.not_before ?? null);
    if (cooldown !== null && cooldown > now) continue;
    if (p.row.paused !== 0) {
      if (probing.has(p.profile.name)) continue;
      probing.add(p.profile.name);
    }
    candidates.push({ taskId: t.id, profile: p.profile.name, group });
  }
  const load = currentLoad(reads.open, req, groupOf);
  const picked = admit(candidates, load, caps, req.limit);
  return { picked, tasks, reviewIds, hostRoom: load.host < caps.host };
}

/** The concurrency groups' caps, for those that have one. */
function groupCaps(groups: Iterable<GroupRow>): Map<string, GroupCap> {
  const caps = new Map<string, GroupCap>();
  for (const g of groups) {
    if (g.max_concurrency !== null) {
      caps.set(g.name, { max: g.max_concurrency, scope: g.scope === 'host' ? 'host' : 'board' });
    }
  }
  return caps;
}

/** The worktree a task's work left, for its review run; null when it has none on disk. */
async function reviewedWorktree(db: SqlDb, taskId: number): Promise<string | null> {
  const row = await db.get<{ path: string }>(
    'SELECT path FROM worktrees WHERE task_id = ? AND removed_at IS NULL',
    [taskId],
  );
  return row?.path ?? null;
}
