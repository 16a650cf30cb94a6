import { lstatSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KEPT_REPORT, KEPT_REPORT_MAX_BYTES } from '../../sdk/kept-report.js';
import type { Command } from 'commander';
import { emptyLoad } from '../../core/admission.js';
import type { Caps, GroupCap } from '../../core/admission.js';
import { diagnoseRun, diagnoseWaiting } from '../../core/doctor.js';
import { inRunsFolder } from '../../os/run-folder.js';
import type { Diagnosis, DoctorFacts } from '../../core/doctor.js';
import { doctorText, groupDiagnoses } from '../../core/doctor-groups.js';
import { cutNote } from '../../core/counting.js';
import { pausedBy } from '../../core/inbox.js';
import { INPUT_LIMITS } from '../../core/defaults.js';
import { DEFAULT_BOARD } from '../../core/glossary.js';
import { resolvePolicy } from '../../core/policy.js';
import type { Task } from '../../core/task.js';
import { checkName, parseTaskId } from '../../core/checks.js';
import { bootId, isSameProcessAlive, isStoppedProcess } from '../../os/procfs.js';
import type { ReadContext } from '../context.js';
import { READING, withContext } from '../context.js';
import { homeNotes } from '../doctor-notes.js';
import { say, sayJson } from '../output.js';
import { liveServe, watchingHostIds } from '../../serve/find.js';
import { deadServeLock } from '../../serve/serve-lock.js';

/** Reads tasks by id, a bounded number of ids per statement. */
async function byIds(ctx: ReadContext, ids: readonly number[]): Promise<Task[]> {
  const out: Task[] = [];
  for (let i = 0; i < ids.length; i += 500)
    out.push(
      ...(await ctx.store.listTasks({ ids: ids.slice(i, i + 500), include_archived: true })),
    );
  return out;
}

/**
 * The statuses of the parents of the board's `todo` tasks (and of `extra`), and for each todo
 * task the blocked task that holds it, through its parents or theirs (issue #15).
 */
async function heldTodo(
  ctx: ReadContext,
  board: string,
  extra: readonly Task[],
): Promise<{ parentStatus: Map<number, string>; heldBy: Map<number, Task> }> {
  const todo = await ctx.store.listTasks({ board, statuses: ['todo'] });
  const known = new Map<number, Task>([...todo, ...extra].map((t) => [t.id, t]));
  const missing = new Set<number>();
  for (const t of known.values()) for (const p of t.parents) if (!known.has(p)) missing.add(p);
  for (const t of await byIds(ctx, [...missing])) known.set(t.id, t);
  const parentStatus = new Map<number, string>([...known.values()].map((t) => [t.id, t.status]));
  const heldBy = new Map<number, Task>();
  const seen = new Set<number>();
  const find = (t: Task): Task | undefined => {
    if (seen.has(t.id)) return heldBy.get(t.id);
    seen.add(t.id);
    for (const id of t.parents) {
      const p = known.get(id);
      const found = p?.status === 'blocked' ? p : p?.status === 'todo' ? find(p) : undefined;
      if (found) {
        heldBy.set(t.id, found);
        return found;
      }
    }
    return undefined;
  };
  for (const t of known.values()) if (t.status === 'todo') find(t);
  return { parentStatus, heldBy };
}

/**
 * The host cap the running `serve` admits by: its `--max-workers` as it recorded at its start
 * (it may differ from this home's config file); the config's when no `serve` runs, or one
 * started by older code recorded none.
 */
async function hostCap(ctx: ReadContext, serveHost: string | null): Promise<number> {
  if (serveHost === null) return ctx.config.serve.max_workers;
  const host = (await ctx.store.activeHosts()).find((h) => h.host_id === serveHost);
  return host?.max_workers ?? ctx.config.serve.max_workers;
}

async function facts(
  ctx: ReadContext,
  board: string,
  running: readonly Task[],
  extra: readonly Task[],
): Promise<DoctorFacts & { notes: string[]; serveStopped: boolean }> {
  const now = Date.now();
  const serve = await liveServe(ctx);
  const serveStopped = serve?.process ? isStoppedProcess(serve.process) : false;
  const profiles = new Map((await ctx.store.listProfiles()).map((p) => [p.name, p]));
  const groups = await ctx.store.listGroups();
  const load = emptyLoad();
  for (const t of running) {
    if (t.current_run_id === null) continue;
    const run = await ctx.store.getRun(t.current_run_id);
    if (serve === null || run.host_id === serve.host) load.host += 1;
    const p = run.profile === null ? undefined : profiles.get(run.profile);
    if (!p) continue;
    load.profiles.set(p.name, (load.profiles.get(p.name) ?? 0) + 1);
    if (p.concurrency_group !== null) {
      load.groups.set(p.concurrency_group, (load.groups.get(p.concurrency_group) ?? 0) + 1);
      load.hostGroups.set(p.concurrency_group, (load.hostGroups.get(p.concurrency_group) ?? 0) + 1);
    }
  }
  const groupCaps = new Map<string, GroupCap>();
  for (const g of groups)
    if (g.max_concurrency !== null)
      groupCaps.set(g.name, { max: g.max_concurrency, scope: g.scope });
  const caps: Caps = {
    host: await hostCap(ctx, serve?.host ?? null),
    profiles: new Map([...profiles.values()].map((p) => [p.name, p.max_concurrency])),
    groups: groupCaps,
  };
  const { parentStatus, heldBy } = await heldTodo(ctx, board, extra);
  return {
    now,
    notes: homeNotes(ctx.home, serve, serveStopped, now),
    serveStopped,
    dispatcherRunning: serve !== null,
    serveHost: serve?.host ?? null,
    watching: ctx.where.kind === 'postgres' ? await watchingHostIds(ctx) : null,
    boardPaused: (await ctx.store.getBoard(board)).paused,
    profiles,
    groupCooldowns: new Map(
      groups.filter((g) => g.not_before !== null).map((g) => [g.name, g.not_before ?? 0]),
    ),
    caps,
    load,
    parentStatus,
    heldBy,
  };
}

async function diagnose(ctx: ReadContext, task: Task, f: DoctorFacts): Promise<Diagnosis> {
  if (task.current_run_id === null) return diagnoseWaiting(task, f);
  const run = await ctx.store.getRun(task.current_run_id);
  const profile = run.profile === null ? undefined : f.profiles.get(run.profile);
  const policy = resolvePolicy(ctx.config.policy, profile?.policy ?? {}, task.policy);
  const alive =
    run.process === null || run.process.boot_id !== bootId()
      ? null
      : isSameProcessAlive(run.process);
  // With several hosts, a spawned run is watched by its own host's serve only.
  const watched =
    f.watching === null || run.mode === 'pull'
      ? f.dispatcherRunning
      : run.host_id !== null && f.watching.has(run.host_id);
  // A SQLite home's runs all log under its runs/: one that does not was started from the home
  // this database was copied from (supervisor/adopt.ts ends it there).
  const otherHome =
    ctx.where.kind === 'sqlite' &&
    run.mode === 'spawned' &&
    run.log_path !== null &&
    !inRunsFolder(run.log_path, ctx.home.runs)
      ? dirname(dirname(run.log_path))
      : undefined;
  const kept = otherHome === undefined ? keptOp(join(ctx.home.runs, String(run.id))) : null;
  return diagnoseRun(
    task,
    {
      run,
      policy,
      alive,
      ...(otherHome !== undefined ? { otherHome } : {}),
      ...(kept !== null ? { keptReport: kept } : {}),
    },
    f.now,
    watched,
  );
}

/** The op of the report kept in a run's folder and not yet booked, if there is one. */
function keptOp(runDir: string): string | null {
  const file = join(runDir, KEPT_REPORT);
  try {
    const st = lstatSync(file);
    if (!st.isFile() || st.size > KEPT_REPORT_MAX_BYTES) return null;
    const op = (JSON.parse(readFileSync(file, 'utf8')) as { op?: unknown }).op;
    return typeof op === 'string' ? op : 'terminal';
  } catch {
    return null;
  }
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'explain in plain words what each running task is doing and why ready tasks are not starting',
    )
    .argument('[id]', 'one task')
    .option('--board <name>', 'the board', DEFAULT_BOARD)
    .option('--json', 'print the explanations as JSON')
    .action(async (idText: string | undefined, opts: { board: string; json?: boolean }) => {
      const board = checkName(opts.board, '--board');
      const out = await withContext(async (ctx) => {
        const one = idText === undefined ? null : await ctx.store.getTask(parseTaskId(idText));
        const boardName = one?.board ?? board;
        const running = await ctx.store.listTasks({ board: boardName, statuses: ['running'] });
        const f = await facts(ctx, boardName, running, one === null ? [] : [one]);
        const filter = { board: boardName, statuses: ['running', 'ready', 'blocked'] as const };
        const listed = one !== null ? [one] : await ctx.store.listTasks(filter);
        // A todo task is explained when something blocked holds it; the rest just wait.
        const held = one !== null ? [] : [...(f.heldBy?.keys() ?? [])].sort((a, b) => a - b);
        const tasks = [...listed, ...(await byIds(ctx, held))];
        const total =
          one === null && listed.length >= INPUT_LIMITS.list_max
            ? await ctx.store.countMatchingTasks(filter)
            : listed.length;
        const diagnoses: Diagnosis[] = [];
        for (const t of tasks) diagnoses.push(await diagnose(ctx, t, f));
        const where = f.watching === null ? '' : ` (host ${f.serveHost ?? '?'})`;
        // Several hosts: the serve found may be another host's, while this home's is down (a
        // trial's doctor said "serve is running (host h1)" in the home of a dead h2).
        const own = f.watching === null ? null : deadServeLock(ctx.home);
        const ownDown = own !== null && own.host_id !== f.serveHost;
        const header = !f.dispatcherRunning
          ? 'no warden serve is running for this home'
          : ownDown
            ? `this home's serve (host ${own.host_id}) is not running; serve is running on host ${f.serveHost ?? '?'}, which does not watch this host's runs`
            : f.serveStopped
              ? `serve is there but stopped${where}`
              : `serve is running${where}`;
        const paused = [...f.profiles.values()].filter((p) => p.paused);
        return {
          header,
          notes: f.notes,
          paused,
          diagnoses,
          note: cutNote(listed.length, total, 'the first by priority are explained'),
        };
      }, READING);
      if (opts.json) {
        sayJson(
          out.diagnoses.map((d) => ({
            task_id: d.task_id,
            status: d.status,
            title: d.title,
            code: d.code,
            explanation: d.explanation,
            next_action: d.next_action,
            run: d.run,
          })),
        );
      } else {
        say(out.header);
        for (const note of out.notes) say(note);
        for (const p of out.paused)
          say(
            `profile ${p.name} is paused (${pausedBy(p.paused_by, p.paused_reason)}): \`warden profile resume ${p.name}\``,
          );
        if (out.diagnoses.length === 0) say('nothing is running, ready or blocked');
        for (const line of doctorText(groupDiagnoses(out.diagnoses))) say(line);
      }
      if (out.note !== null) process.stderr.write(`${out.note}\n`);
    });
}
